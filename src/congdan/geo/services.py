"""Addresses: parse free text, store an address as written with today's commune.

Parsing uses ``vietnamadminunits.parse_address`` in both modes (``LEGACY``: 63 provinces
with districts; ``FROM_2025``: 34 provinces, no districts) and picks the reading that fits.
Legacy → current conversion follows the successor links the loader built from the same
package's conversion table (``convert_address`` itself would geocode the street over the
network when an old commune was split; see docs/geo.md).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import ValidationFailed
from congdan.core.text import fold
from congdan.geo.loader import match_key
from congdan.geo.models import Address, AdministrativeUnit, Level, Scheme
from congdan.geo.selectors import current_unit

logger = logging.getLogger(__name__)

MAX_TEXT = Address._meta.get_field("text").max_length or 400
MAX_STREET = Address._meta.get_field("street").max_length or 200
# Below this a parse is a guess: build_address refuses it and asks for the commune.
MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class ParsedAddress:
    """What ``parse_address`` recognised. Units are rows of the detected scheme."""

    text: str
    street: str = ""
    commune: AdministrativeUnit | None = None
    district: AdministrativeUnit | None = None  # legacy addresses only
    province: AdministrativeUnit | None = None
    current_commune: AdministrativeUnit | None = None
    scheme: str = ""  # Scheme.LEGACY, Scheme.CURRENT, or "" when nothing was recognised
    confidence: float = 0.0  # 0 (nothing) .. 1 (every part named and found)
    notes: tuple[str, ...] = ()


def _vau() -> Any:
    # Imported on first use: the package loads shapely, geopy and compiles its parser
    # tables (about a second), which start-up and migrations do not need.
    import vietnamadminunits  # noqa: PLC0415  # deferred heavy import, see above

    return vietnamadminunits


def _parse(text: str, mode: str) -> Any:
    try:
        return _vau().parse_address(text, mode=mode, keep_street=True)
    except Exception as exc:  # the third-party parser must not turn bad input into a 500
        # No traceback: its messages may quote the address (personal data, rule 8).
        logger.warning(
            "vietnamadminunits.parse_address failed (mode %s): %s", mode, type(exc).__name__
        )
        return None


def _legacy_unit(level: str, code: str | None) -> AdministrativeUnit | None:
    if not code:
        return None
    return (
        AdministrativeUnit.objects.filter(scheme=Scheme.LEGACY, level=level, code=code)
        .select_related("successor__parent")
        .first()
    )


def _current_province(code: str | None) -> AdministrativeUnit | None:
    if not code:
        return None
    return AdministrativeUnit.objects.filter(
        scheme=Scheme.CURRENT, level=Level.PROVINCE, code=code
    ).first()


def _current_commune(
    province: AdministrativeUnit | None, name: str | None
) -> AdministrativeUnit | None:
    """The parser's 2025 codes are not the official ones for ~120 communes: match by name."""
    if province is None or not name:
        return None
    in_province = AdministrativeUnit.objects.current().communes().filter(parent=province)
    exact = list(in_province.filter(name_search=fold(name)).select_related("parent")[:2])
    if len(exact) == 1:
        return exact[0]
    # Spelled differently ("–" for "-") or two names folding alike: compare closely.
    communes = list(in_province.select_related("parent"))
    key = match_key(name)
    found = [c for c in communes if match_key(c.name) == key]
    if len(found) > 1:  # "Xã Văn Lang" and "Xã Văn Lăng" fold alike
        found = [c for c in found if c.name == " ".join(name.split())]
    return found[0] if len(found) == 1 else None


def _named_in(short_name: str | None, text: str) -> bool:
    """Whether ``short_name`` appears as whole words in ``text``, diacritics ignored.

    Whole words: "An Hải" must not be found inside "Quận Hải Châu" ("qu-an hai chau").
    """
    words = fold(short_name or "")
    return bool(words) and re.search(rf"(?<!\w){re.escape(words)}(?!\w)", fold(text)) is not None


@dataclass(frozen=True)
class _Readings:
    """Both parser readings of one text, resolved to our rows."""

    text: str
    legacy: Any  # vietnamadminunits AdminUnit or None
    current: Any
    l_province: AdministrativeUnit | None
    l_district: AdministrativeUnit | None
    l_commune: AdministrativeUnit | None
    c_province: AdministrativeUnit | None
    c_commune: AdministrativeUnit | None

    @property
    def before_province(self) -> str:
        """The text without its last comma-separated part (the province, usually)."""
        head, _sep, _tail = self.text.rpartition(",")
        return head or self.text

    @property
    def old_province_name(self) -> bool:
        """The province is written with a name that no longer exists ("Tỉnh Long An")."""
        old, new = self.l_province, self.c_province
        return old is not None and (new is None or old.name != new.name)

    @classmethod
    def of(cls, text: str) -> _Readings:
        legacy = _parse(text, "LEGACY")
        current = _parse(text, "FROM_2025")
        l_province = _legacy_unit(Level.PROVINCE, getattr(legacy, "province_code", None))
        l_district = _legacy_unit(Level.DISTRICT, getattr(legacy, "district_code", None))
        l_commune = _legacy_unit(Level.COMMUNE, getattr(legacy, "ward_code", None))
        # Keep only a consistent chain: commune in district in province.
        if l_district is not None and l_district.parent_id != getattr(l_province, "pk", None):
            l_district = None
        if l_commune is not None and (l_district is None or l_commune.parent_id != l_district.pk):
            l_commune = None
        c_province = _current_province(getattr(current, "province_code", None))
        return cls(
            text=text,
            legacy=legacy,
            current=current,
            l_province=l_province,
            l_district=l_district,
            l_commune=l_commune,
            c_province=c_province,
            c_commune=_current_commune(c_province, getattr(current, "ward", None)),
        )


def _legacy_reading(r: _Readings) -> ParsedAddress | None:
    """A commune within a named district, or an island district (now a special zone)."""
    island = r.l_district if r.l_district is not None and r.l_district.successor_id else None
    source = r.l_commune or island
    if r.legacy is None or source is None:
        return None
    target = source.successor
    notes: list[str] = []
    confidence = 0.9 if r.l_commune is not None else 0.85
    if r.l_commune is not None and not _named_in(r.legacy.short_ward, r.text):
        confidence -= 0.2
        notes.append(
            gettext("“%(name)s” được nhận theo tên gọi khác hoặc tên trước khi sáp nhập.")
            % {"name": r.l_commune.name}
        )
    if source.successor_partial:
        confidence -= 0.1
        notes.append(
            gettext("%(old)s đã được chia cho nhiều xã/phường; chọn phần chính là %(new)s.")
            % {"old": source.name, "new": getattr(target, "name", "")}
        )
    return ParsedAddress(
        text=r.text,
        street=(r.legacy.street or "").strip(),
        commune=r.l_commune,
        district=r.l_district,
        province=r.l_province,
        current_commune=target,
        scheme=Scheme.LEGACY,
        confidence=round(max(confidence, 0.0), 2),
        notes=tuple(notes),
    )


def _current_reading(r: _Readings) -> ParsedAddress | None:
    commune, province = r.c_commune, r.c_province
    if r.current is None or commune is None or province is None:
        return None
    notes: list[str] = []
    confidence = 0.9
    if not _named_in(r.current.short_ward, r.before_province):
        # The 2025 reading matches loosely ("Quận Hải Châu" -> "Phường An Hải"; "Xã Tân
        # Thành, Tỉnh Long An" -> "Phường Long An"): a commune whose name is not written
        # before the province is a guess, below MIN_CONFIDENCE, and loses to a district
        # the legacy reading found.
        if r.l_district is not None:
            return None
        confidence -= 0.45
        notes.append(
            gettext("“%(name)s” được nhận gần đúng; hãy kiểm tra lại.") % {"name": commune.name}
        )
    old = r.l_province
    if old is not None and r.old_province_name:
        if old.successor_id == province.pk:  # a pre-merger province name ("Bình Dương")
            confidence -= 0.1
            notes.append(
                gettext("%(old)s nay thuộc %(new)s.") % {"old": old.name, "new": province.name}
            )
        else:
            confidence -= 0.3
            notes.append(gettext("Tỉnh/thành phố không khớp với xã/phường."))
    return ParsedAddress(
        text=r.text,
        street=(r.current.street or "").strip(),
        commune=commune,
        province=province,
        current_commune=commune,
        scheme=Scheme.CURRENT,
        confidence=round(max(confidence, 0.0), 2),
        notes=tuple(notes),
    )


def _legacy_without_district(r: _Readings) -> ParsedAddress | None:
    """A legacy commune written without its district ("Phường Phước Ninh, Đà Nẵng").

    The legacy parser needs the district; here a comma-separated part of the text that is
    exactly the full name of one legacy commune of the named legacy province is taken.
    """
    if r.l_province is None or r.l_district is not None:
        return None
    parts = {fold(part) for part in r.text.split(",")[:-1]} - {""}
    if not parts:
        return None
    found = list(
        AdministrativeUnit.objects.filter(
            scheme=Scheme.LEGACY,
            level=Level.COMMUNE,
            parent__parent=r.l_province,
            name_search__in=parts,
        ).select_related("parent", "successor__parent")[:2]
    )
    if len(found) != 1:  # none, or a name shared by communes of several districts
        return None
    commune = found[0]
    notes = [gettext("Địa chỉ cũ không ghi quận/huyện; đã xác định theo tên xã/phường.")]
    confidence = 0.7
    if commune.successor_partial:
        confidence -= 0.1
        notes.append(
            gettext("%(old)s đã được chia cho nhiều xã/phường; chọn phần chính là %(new)s.")
            % {"old": commune.name, "new": getattr(commune.successor, "name", "")}
        )
    street = ", ".join(
        part.strip() for part in r.text.split(",")[:-1] if fold(part) != commune.name_search
    )
    return ParsedAddress(
        text=r.text,
        street=street,
        commune=commune,
        district=commune.parent,
        province=r.l_province,
        current_commune=commune.successor,
        scheme=Scheme.LEGACY,
        confidence=confidence,
        notes=tuple(notes),
    )


def _partial_reading(r: _Readings) -> ParsedAddress:
    """No commune: keep what was found (district and/or province), low confidence."""
    notes = (gettext("Không xác định được xã/phường."),)
    if r.l_district is not None:
        return ParsedAddress(
            text=r.text,
            district=r.l_district,
            province=r.l_province,
            scheme=Scheme.LEGACY,
            confidence=0.4,
            notes=notes,
        )
    old, new = r.l_province, r.c_province
    if old is not None and r.old_province_name:
        # A pre-merger province ("Tỉnh Quảng Nam") or one the 2025 reading missed.
        return ParsedAddress(
            text=r.text, province=old, scheme=Scheme.LEGACY, confidence=0.25, notes=notes
        )
    if new is not None:
        return ParsedAddress(
            text=r.text, province=new, scheme=Scheme.CURRENT, confidence=0.25, notes=notes
        )
    return ParsedAddress(text=r.text, notes=notes)


def parse_address(text: str) -> ParsedAddress:
    """Recognise the commune, district and province in ``text``; never raises on input.

    A text naming a district ("Quận Hải Châu") with a commune in it is read in the legacy
    scheme; otherwise the 2025 reading is used when it finds a commune. ``confidence``
    drops when a name was matched through an alias or old name, when the province named is
    a pre-merger one, and when the old commune was split between several new ones.
    """
    raw = (text or "").strip()[:MAX_TEXT]
    if not any(ch.isalpha() for ch in raw):
        return ParsedAddress(text=raw)
    readings = _Readings.of(raw)
    if readings.old_province_name:  # "Xã Tam Xuân I, Quảng Nam": a legacy address
        order = (_legacy_reading, _legacy_without_district, _current_reading)
    else:  # "Phường Hải Châu, Đà Nẵng" names a legacy and a current unit: current wins
        order = (_legacy_reading, _current_reading, _legacy_without_district)
    for reading in order:
        parsed = reading(readings)
        if parsed is not None:
            return parsed
    return _partial_reading(readings)


def build_address(
    *, text: str, commune: AdministrativeUnit | None = None, street: str = ""
) -> Address:
    """Create an ``Address``: the text as written, its units and today's commune.

    A given ``commune`` (legacy or current) is authoritative and the text is not parsed;
    otherwise the commune comes from ``parse_address(text)``. Raises ``ValidationFailed``
    when no commune can be determined. Runs in the caller's transaction.
    """
    text = (text or "").strip()
    street = (street or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationFailed(
            _("Địa chỉ dài quá %(max)d ký tự.") % {"max": MAX_TEXT},
            code="address_too_long",
            field="address",
        )
    district: AdministrativeUnit | None
    province: AdministrativeUnit | None
    if commune is not None:
        if commune.level != Level.COMMUNE:
            raise ValidationFailed(
                _("Đơn vị %(name)s không phải là xã/phường.") % {"name": commune.name},
                code="unknown_commune",
                field="commune",
            )
        parent = commune.parent
        if commune.is_current:
            district, province = None, parent
        else:
            district, province = parent, parent.parent if parent is not None else None
        current = current_unit(commune)
        if not text:
            text = ", ".join(u for u in (street, commune.name, str(province or "")) if u)
    else:
        parsed = parse_address(text)
        if parsed.current_commune is None or parsed.confidence < MIN_CONFIDENCE:
            raise ValidationFailed(
                _("Không xác định được xã/phường của địa chỉ; hãy chọn xã/phường."),
                code="unknown_address",
                field="address",
            )
        commune, district, province = parsed.commune, parsed.district, parsed.province
        current = parsed.current_commune
        street = street or parsed.street
    if len(street) > MAX_STREET:
        raise ValidationFailed(
            _("Số nhà, đường, thôn/tổ dài quá %(max)d ký tự.") % {"max": MAX_STREET},
            code="street_too_long",
            field="street",
        )
    return Address.objects.create(
        text=text,
        street=street,
        commune=commune,
        district=district,
        province=province,
        current_commune=current,
    )


def address_display(address: Address) -> str:
    """The address as written, plus today's unit when it differs:
    "…, Phường Phước Ninh, Quận Hải Châu, Đà Nẵng (nay là Phường Hải Châu, Thành phố Đà Nẵng)".
    """
    current = address.current_commune
    if current is None or current.pk == address.commune_id:
        return address.text
    return gettext("%(address)s (nay là %(commune)s, %(province)s)") % {
        "address": address.text,
        "commune": current.name,
        "province": current.parent.name if current.parent is not None else "",
    }
