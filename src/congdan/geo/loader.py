"""Load administrative units from the packaged reference data.

Sources (nothing is typed by hand):

* current scheme ``2025`` — the 34 provinces and 3,321 communes of ``vietnam-provinces``
  (official GSO codes);
* legacy scheme — the 63 provinces, their districts and communes of the ``vietnamadminunits``
  SQLite file (table ``admin_units_legacy``, state on 30 June 2025);
* successor links — ``vietnamadminunits``' conversion table ``converter_2025.json``.

``load_units`` is idempotent: it upserts on ``(scheme, level, code)`` level by level
(``INSERT ... ON CONFLICT DO UPDATE``), so a second run updates rows in place and keeps
primary keys (and every foreign key pointing at them). It never deletes a unit. It takes
the model class as an argument so that a data migration can pass its historical model.

``vietnamadminunits`` is *not* imported: importing it loads shapely, geopy and compiles
its parser (about a second); the loader only reads its data files.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import connections, router

from congdan.core.text import fold

CURRENT = "2025"
LEGACY = "legacy"
PROVINCE = "province"
DISTRICT = "district"
COMMUNE = "commune"

CURRENT_VALID_FROM = dt.date(2025, 7, 1)
LEGACY_VALID_TO = dt.date(2025, 6, 30)

# Words that open a unit's name and give its type. division_type is taken from the name
# when it opens with one: a few legacy rows have a type column that contradicts the name
# ("Thị trấn Ngọc Lặc" typed "Xã").
_TYPE_PREFIXES = (
    "Thành phố",
    "Thị trấn",
    "Thị xã",
    "Đặc khu",
    "Phường",
    "Huyện",
    "Quận",
    "Tỉnh",
    "Xã",
)


class SourceDataError(RuntimeError):
    """The packaged data is not what the loader expects (a package upgrade changed it)."""


@dataclass(frozen=True)
class _Row:
    code: str
    name: str
    division_type: str
    parent_code: str = ""
    id_code: str = ""
    successor_code: str = ""
    successor_partial: bool = False


def _clean(name: str) -> str:
    """NFC, single spaces: the sources carry stray double spaces."""
    return " ".join(unicodedata.normalize("NFC", name).split())


def match_key(name: str) -> str:
    """Folded letters and digits only: "Chân Mây – Lăng Cô" == "Chân Mây - Lăng Cô"."""
    return re.sub(r"[^a-z0-9]", "", fold(name))


def _type_of(name: str, fallback: str | None) -> str:
    for prefix in _TYPE_PREFIXES:
        if name.startswith(prefix + " "):
            return prefix
    return (fallback or "").strip()


def vau_data_dir() -> Path:
    """The ``data`` directory of vietnamadminunits, located without importing it."""
    spec = importlib.util.find_spec("vietnamadminunits")
    if spec is None or not spec.submodule_search_locations:
        raise SourceDataError("the vietnamadminunits package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "data"


# --- current scheme (vietnam-provinces) ----------------------------------------------


def _current_rows() -> tuple[list[_Row], list[_Row]]:
    # Deferred: the lookup tables (3,321 objects) are only needed while loading, and this
    # module is imported by geo.services at start-up.
    from vietnam_provinces import Province, VietNamDivisionType  # noqa: PLC0415  # see above
    from vietnam_provinces.lookup import WARD_MAPPING  # noqa: PLC0415  # see above

    provinces = []
    for p in Province.iter_all():
        is_city = p.division_type == VietNamDivisionType.THANH_PHO_TRUNG_UONG
        kind = "Thành phố" if is_city else "Tỉnh"
        name = _clean(p.name)
        # The package writes "Thành phố Hà Nội" but "Cao Bằng": add the type so that
        # current names read like legacy ones ("Tỉnh Cao Bằng").
        if not name.startswith(kind + " "):
            name = f"{kind} {name}"
        provinces.append(_Row(code=f"{int(p.code):02d}", name=name, division_type=kind))
    communes = [
        _Row(
            code=f"{int(w.code):05d}",
            name=_clean(w.name),
            division_type=_type_of(_clean(w.name), w.division_type.value.capitalize()),
            parent_code=f"{int(w.province_code):02d}",
        )
        for w in WARD_MAPPING.values()
    ]
    return provinces, communes


# --- legacy scheme and successors (vietnamadminunits) ---------------------------------


@dataclass
class _Legacy:
    provinces: list[_Row]
    districts: list[_Row]
    communes: list[_Row]


@dataclass(frozen=True)
class _Successors:
    province: dict[str, str]  # legacy provinceKey -> current province code
    # legacy "provinceKey_districtKey_wardKey" -> (current commune code, was it split)
    commune: dict[str, tuple[str, bool]]


def _read_source(data_dir: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    db = sqlite3.connect(f"file:{data_dir / 'dataset.db'}?mode=ro", uri=True)
    try:
        legacy = db.execute(
            "SELECT provinceKey, districtKey, wardKey, province, district, ward,"
            " provinceCode, districtCode, wardCode, districtType, wardType"
            " FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode"
        ).fetchall()
        current = db.execute(
            "SELECT provinceKey, wardKey, provinceCode, ward FROM admin_units"
        ).fetchall()
    finally:
        db.close()
    return legacy, current


def _current_keys(
    current: Iterable[tuple[Any, ...]], current_communes: Sequence[_Row]
) -> tuple[dict[tuple[str, str], str], dict[str, str]]:
    """vietnamadminunits' keys of 2025 units -> our codes.

    Its own 2025 commune codes differ from the official ones of vietnam-provinces for
    ~120 communes, so communes are matched by province and name instead.
    """
    by_name: dict[tuple[str, str], list[_Row]] = {}
    for row in current_communes:
        by_name.setdefault((row.parent_code, match_key(row.name)), []).append(row)
    communes: dict[tuple[str, str], str] = {}  # (provinceKey, wardKey) -> code
    provinces: dict[str, str] = {}  # provinceKey -> code
    for province_key, ward_key, province_code, ward in current:
        candidates = by_name.get((province_code, match_key(ward)), [])
        if len(candidates) > 1:  # "Xã Văn Lang" / "Xã Văn Lăng": compare with diacritics
            candidates = [c for c in candidates if c.name == _clean(ward)]
        if len(candidates) != 1:
            raise SourceDataError(f"cannot match 2025 commune {ward!r} ({province_code})")
        communes[(province_key, ward_key)] = candidates[0].code
        provinces[province_key] = province_code
    return communes, provinces


def _successors(
    converter: dict[str, Any],
    new_commune: dict[tuple[str, str], str],
    new_province: dict[str, str],
) -> _Successors:
    province = {
        old_key: new_province[new_key]
        for new_key, old_keys in converter["DICT_PROVINCE"].items()
        for old_key in old_keys
    }
    commune = {
        old_key: (new_commune[(new_key, new_ward_key)], False)
        for new_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items()
        for new_ward_key, old_keys in wards.items()
        for old_key in old_keys
    }
    # A commune split between several new ones: the part marked as default, which is
    # what convert_address picks for an address without street.
    for new_key, old_wards in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, parts in old_wards.items():
            default = [p["newWardKey"] for p in parts if p.get("isDefaultNewWard")]
            if len(default) != 1:
                raise SourceDataError(f"no single default successor for {old_key!r}")
            commune[old_key] = (new_commune[(new_key, default[0])], True)
    return _Successors(province=province, commune=commune)


def _legacy_rows(current_communes: Sequence[_Row]) -> _Legacy:
    data_dir = vau_data_dir()
    legacy, current = _read_source(data_dir)
    converter = json.loads((data_dir / "converter_2025.json").read_text(encoding="utf-8"))
    successors = _successors(converter, *_current_keys(current, current_communes))

    provinces: dict[str, _Row] = {}
    districts: dict[str, _Row] = {}
    communes: list[_Row] = []
    for (
        province_key,
        district_key,
        ward_key,
        province,
        district,
        ward,
        province_code,
        district_code,
        ward_code,
        district_type,
        ward_type,
    ) in legacy:
        if province_code not in provinces:
            name = _clean(province)
            provinces[province_code] = _Row(
                code=province_code,
                name=name,
                division_type=_type_of(name, "Tỉnh"),
                # Digits 1-3 of a personal ID number: the 2-digit code zero-padded.
                id_code=province_code.zfill(3),
                successor_code=successors.province[province_key],
            )
        if district_code not in districts:
            # Districts were abolished: no successor. The exception is the five island
            # districts that had no communes; each became one special zone (đặc khu).
            island = successors.commune.get(f"{province_key}_{district_key}_")
            name = _clean(district)
            districts[district_code] = _Row(
                code=district_code,
                name=name,
                division_type=_type_of(name, district_type),
                parent_code=province_code,
                successor_code=island[0] if island else "",
            )
        if ward_code:
            successor, split = successors.commune[f"{province_key}_{district_key}_{ward_key}"]
            name = _clean(ward)
            communes.append(
                _Row(
                    code=ward_code,
                    name=name,
                    division_type=_type_of(name, ward_type),
                    parent_code=district_code,
                    successor_code=successor,
                    successor_partial=split,
                )
            )
    return _Legacy(list(provinces.values()), list(districts.values()), communes)


# --- writing ---------------------------------------------------------------------------

_COLUMNS = (
    "scheme",
    "level",
    "code",
    "name",
    "name_search",
    "division_type",
    "parent",
    "id_code",
    "valid_from",
    "valid_to",
    "successor",
    "successor_partial",
)
_KEY = ("scheme", "level", "code")


def _upsert(
    model: Any,
    using: str,
    rows: Iterable[_Row],
    *,
    scheme: str,
    level: str,
    parents: dict[str, int],
    successors: dict[str, int],
) -> dict[str, int]:
    """Insert or update one level; return ``{code: pk}`` for that level.

    ``INSERT ... ON CONFLICT (scheme, level, code) DO UPDATE ... WHERE <something
    changed>``: unchanged rows are not rewritten on a reload. On PostgreSQL all rows go in
    one statement as arrays (``unnest``), elsewhere (SQLite 3.24+) through
    ``executemany``. Both are several times faster than
    ``bulk_create(update_conflicts=True)``, whose per-value SQL compilation dominates a
    14,000-row load.
    """
    connection = connections[using]
    quote = connection.ops.quote_name
    opts = model._meta
    columns = [quote(opts.get_field(name).column) for name in _COLUMNS]
    key = [quote(opts.get_field(name).column) for name in _KEY]
    table = quote(opts.db_table)
    updated = [c for c in columns if c not in key]
    updates = ", ".join(f"{c} = excluded.{c}" for c in updated)
    valid_from = connection.ops.adapt_datefield_value(
        CURRENT_VALID_FROM if scheme == CURRENT else None
    )
    valid_to = connection.ops.adapt_datefield_value(LEGACY_VALID_TO if scheme == LEGACY else None)
    params = [
        (
            scheme,
            level,
            row.code,
            row.name,
            fold(row.name),
            row.division_type,
            parents[row.parent_code] if row.parent_code else None,
            row.id_code,
            valid_from,
            valid_to,
            successors[row.successor_code] if row.successor_code else None,
            row.successor_partial,
        )
        for row in rows
    ]
    if connection.vendor == "postgresql":
        types = [opts.get_field(name).db_type(connection) for name in _COLUMNS]
        changed = (
            f"({', '.join(f'{table}.{c}' for c in updated)}) IS DISTINCT FROM"
            f" ({', '.join(f'excluded.{c}' for c in updated)})"
        )
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608  # identifiers come from model metadata, values are parameters
            f" SELECT * FROM unnest({', '.join(f'%s::{t}[]' for t in types)})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE {changed}"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [list(column) for column in zip(*params, strict=True)])
    else:
        changed = " OR ".join(f"{table}.{c} IS NOT excluded.{c}" for c in updated)
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)})"  # noqa: S608  # as above
            f" VALUES ({', '.join(['%s'] * len(columns))})"
            f" ON CONFLICT ({', '.join(key)}) DO UPDATE SET {updates} WHERE {changed}"
        )
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)
    units = model.objects.using(using).filter(scheme=scheme, level=level)
    return dict(units.values_list("code", "pk"))


def load_units(model: Any, *, using: str | None = None) -> dict[str, int]:
    """Upsert every unit of both schemes into ``model``; return counts per scheme and level.

    ``model`` is ``AdministrativeUnit`` or its historical version from a migration's
    ``apps.get_model("geo", "AdministrativeUnit")``; ``using`` is the database alias
    (a migration passes ``schema_editor.connection.alias``). Call inside a transaction.
    """
    using = using or router.db_for_write(model)
    existing = model.objects.using(using).count()
    current_provinces, current_communes = _current_rows()
    legacy = _legacy_rows(current_communes)

    def upsert(rows: list[_Row], scheme: str, level: str, **links: dict[str, int]) -> int:
        stored = _upsert(
            model,
            using,
            rows,
            scheme=scheme,
            level=level,
            parents=links.get("parents", {}),
            successors=links.get("successors", {}),
        )
        ids[(scheme, level)] = stored
        return len(stored)

    ids: dict[tuple[str, str], dict[str, int]] = {}
    upsert(current_provinces, CURRENT, PROVINCE)
    upsert(current_communes, CURRENT, COMMUNE, parents=ids[(CURRENT, PROVINCE)])
    cp, cc = ids[(CURRENT, PROVINCE)], ids[(CURRENT, COMMUNE)]
    upsert(legacy.provinces, LEGACY, PROVINCE, successors=cp)
    upsert(legacy.districts, LEGACY, DISTRICT, parents=ids[(LEGACY, PROVINCE)], successors=cc)
    upsert(legacy.communes, LEGACY, COMMUNE, parents=ids[(LEGACY, DISTRICT)], successors=cc)

    counts = {
        "current_provinces": len(current_provinces),
        "current_communes": len(current_communes),
        "legacy_provinces": len(legacy.provinces),
        "legacy_districts": len(legacy.districts),
        "legacy_communes": len(legacy.communes),
    }
    loaded = sum(counts.values())
    counts["loaded"] = loaded
    counts["created"] = model.objects.using(using).count() - existing
    # Units stored at these levels that the sources no longer list: kept, since other
    # tables point at them with on_delete=PROTECT.
    counts["not_in_source"] = sum(len(v) for v in ids.values()) - loaded
    return counts
