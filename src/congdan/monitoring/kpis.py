"""KPI definitions and their computation from the daily facts.

Public API (stable; the dashboards build on it)
-----------------------------------------------

``KPIS``
    The ordered tuple of :class:`KPI` definitions (code, Vietnamese name, written
    definition with numerator, denominator, period, unit of measure, direction, the
    Decision 766 group it feeds, and the breakdowns it supports). ``BY_CODE`` maps a code
    to its definition; ``get(code)`` returns it or raises ``NotFound`` (404).

``compute(code, *, start, end, unit=None, agency=None, procedure=None) -> Value``
    The KPI over the days ``start``..``end`` (inclusive, local dates) for the whole
    country (``unit=None``), a province or a commune (an ``AdministrativeUnit``),
    optionally one agency (``core.Agency``) and one procedure code. ``Value`` carries
    ``numerator``, ``denominator`` and ``value`` (a ``Decimal`` percentage 0–100 rounded
    to 0.01 for rates, the count for counts, the score for the index; ``None`` when the
    denominator is 0).

``breakdown(code, *, start, end, by, unit=None, agency=None, procedure=None) -> list[Row]``
    The same KPI split by ``by`` (one of ``BREAKDOWNS``: ``"commune"``, ``"province"``,
    ``"agency"``, ``"procedure"``, ``"day"``, ``"month"``, ``"quarter"``; lookups also
    ``"organisation"`` and ``"purpose"``). Each :class:`Row` has ``key`` (a unit or
    agency id, a procedure code, a date — the first day of the month/quarter — or a
    string), ``label`` (display text), ``numerator``, ``denominator``, ``value``. Rows of
    a unit/agency/procedure breakdown are ordered by label, time rows by date. For
    additive KPIs the rows' numerators and denominators sum to ``compute()``'s. A ``by``
    the KPI does not support (``KPI.breakdowns``), an unknown code or ``start > end``
    raise ``ValidationFailed`` / ``NotFound`` — never a 500.

``congdan.monitoring.targets.status(code, unit, year, value) -> TargetStatus``
    The target that applies (own, else the province's, else the national one), the gap
    (``value - target``) and the traffic light ``"green"``/``"amber"``/``"red"``/``"none"``;
    ``targets.evaluate(code, target, value)`` does the same for a ``Target`` already found.

All figures come from ``DossierFact``, ``PopulationFact`` and ``LookupFact`` with
``SUM() ... GROUP BY`` (never from the raw dossiers), so a dashboard over millions of
dossiers answers from a few thousand rows. Coverage KPIs (e-ID, chip cards) are
snapshots: a period's figure is the snapshot of its last refreshed day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from django.db.models import F, QuerySet, Sum
from django.db.models.functions import TruncMonth, TruncQuarter
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.models import Agency
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring.models import (
    DossierFact,
    IndexWeight,
    LookupFact,
    PopulationFact,
    RefreshedDay,
)
from congdan.procedures.specs import catalogue

__all__ = [
    "BREAKDOWNS",
    "BY_CODE",
    "GROUPS_766",
    "KPI",
    "KPIS",
    "Row",
    "Value",
    "breakdown",
    "compute",
    "get",
    "index_weights",
]

Measure = Literal["percent", "count", "score"]
Source = Literal["dossier", "population", "lookup", "catalogue", "index"]

BREAKDOWNS = (
    "commune",
    "province",
    "agency",
    "procedure",
    "day",
    "month",
    "quarter",
    "organisation",
    "purpose",
)
_PLACE = ("commune", "province")
_TIME = ("day", "month", "quarter")

# The five groups of the Decision 766 service index, in the decision's order, and their
# default weights (points out of 100) — the weights in force are IndexWeight rows.
GROUPS_766: tuple[tuple[str, Any, Decimal], ...] = (
    ("transparency", gettext_lazy("Công khai, minh bạch"), Decimal(18)),
    ("progress", gettext_lazy("Tiến độ, kết quả giải quyết"), Decimal(20)),
    ("digitisation", gettext_lazy("Số hoá hồ sơ, kết quả"), Decimal(22)),
    ("online", gettext_lazy("Cung cấp dịch vụ trực tuyến"), Decimal(22)),
    ("satisfaction", gettext_lazy("Mức độ hài lòng"), Decimal(18)),
)


@dataclass(frozen=True)
class KPI:
    code: str
    name: Any  # lazy gettext
    definition: Any  # one sentence, lazy gettext
    numerator: Any
    denominator: Any
    period: Any
    measure: Measure
    higher_is_better: bool
    group_766: str  # a GROUPS_766 code, or "" when it feeds no group
    source: Source
    breakdowns: tuple[str, ...]  # the ``by`` values breakdown() accepts
    # The filters compute()/breakdown() honour ("unit", "agency", "procedure"); the
    # others are ignored (e.g. lookups are national: the access log has no unit).
    filters: tuple[str, ...]


@dataclass(frozen=True)
class Value:
    numerator: int | Decimal
    denominator: int | Decimal | None  # None for plain counts
    value: Decimal | None  # None when the denominator is 0


@dataclass(frozen=True)
class Row:
    key: Any
    label: str
    numerator: int | Decimal
    denominator: int | Decimal | None
    value: Decimal | None


_ALL_DOSSIER_BY = ("commune", "province", "agency", "procedure", "day", "month", "quarter")
_DOSSIER_FILTERS = ("unit", "agency", "procedure")
_DAYS = gettext_lazy("Các ngày trong kỳ (theo ngày nhận/xử lý, giờ Việt Nam)")
_SNAPSHOT = gettext_lazy("Ảnh chụp ngày cuối kỳ có số liệu")
_RECEIVED = gettext_lazy(
    "Số hồ sơ tiếp nhận trong kỳ (mọi kênh: trực tuyến, tại quầy, hồ sơ giấy đã đếm)"
)


def _k(  # noqa: PLR0917 -- the definitions table reads best positionally
    code: str,
    name: Any,
    definition: Any,
    numerator: Any,
    denominator: Any,
    period: Any,
    *,
    measure: Measure = "percent",
    higher: bool = True,
    group: str = "",
    source: Source = "dossier",
    breakdowns: tuple[str, ...] = _ALL_DOSSIER_BY,
    filters: tuple[str, ...] = _DOSSIER_FILTERS,
) -> KPI:
    return KPI(
        code=code,
        name=name,
        definition=definition,
        numerator=numerator,
        denominator=denominator,
        period=period,
        measure=measure,
        higher_is_better=higher,
        group_766=group,
        source=source,
        breakdowns=breakdowns,
        filters=filters,
    )


KPIS: tuple[KPI, ...] = (
    _k(
        "online_dossier_rate",
        gettext_lazy("Tỷ lệ hồ sơ trực tuyến"),
        gettext_lazy("Tỷ lệ hồ sơ nộp trực tuyến trên tổng số hồ sơ tiếp nhận."),
        gettext_lazy("Số hồ sơ nộp trực tuyến tiếp nhận trong kỳ"),
        _RECEIVED,
        _DAYS,
        group="online",
    ),
    _k(
        "fully_online_dossier_rate",
        gettext_lazy("Tỷ lệ hồ sơ trực tuyến toàn trình"),
        gettext_lazy(
            "Tỷ lệ hồ sơ nộp trực tuyến của thủ tục được cung cấp trực tuyến toàn trình "
            "trên tổng số hồ sơ tiếp nhận."
        ),
        gettext_lazy("Số hồ sơ trực tuyến của thủ tục toàn trình tiếp nhận trong kỳ"),
        _RECEIVED,
        _DAYS,
        group="online",
    ),
    _k(
        "fully_online_procedure_rate",
        gettext_lazy("Tỷ lệ thủ tục cung cấp trực tuyến toàn trình"),
        gettext_lazy(
            "Tỷ lệ thủ tục hành chính được cung cấp trực tuyến toàn trình trên tổng số thủ "
            "tục cung cấp trên nền tảng (danh mục thủ tục dùng chung cả nước, nên như nhau "
            "ở mọi địa bàn)."
        ),
        gettext_lazy("Số thủ tục cung cấp trực tuyến toàn trình"),
        gettext_lazy("Số thủ tục cung cấp trên nền tảng"),
        gettext_lazy("Danh mục thủ tục hiện hành"),
        group="online",
        source="catalogue",
        breakdowns=("procedure",),
        filters=("procedure",),
    ),
    _k(
        "on_time_rate",
        gettext_lazy("Tỷ lệ hồ sơ giải quyết đúng hạn"),
        gettext_lazy("Tỷ lệ hồ sơ giải quyết xong (trả kết quả hoặc từ chối) đúng hoặc trước hạn."),
        gettext_lazy("Số hồ sơ giải quyết xong trong kỳ, vào hoặc trước ngày hẹn trả"),
        gettext_lazy("Số hồ sơ giải quyết xong trong kỳ (phê duyệt, trả kết quả hoặc từ chối)"),
        _DAYS,
        group="progress",
    ),
    _k(
        "overdue_count",
        gettext_lazy("Số hồ sơ quá hạn chưa giải quyết"),
        gettext_lazy(
            "Số hồ sơ đang giải quyết đã quá ngày hẹn trả, tại cuối kỳ; hồ sơ đang chờ "
            "công dân bổ sung (tạm dừng tính thời hạn) không tính."
        ),
        gettext_lazy(
            "Số hồ sơ đang giải quyết, không tạm dừng, có ngày hẹn trả trước ngày cuối kỳ"
        ),
        gettext_lazy("(không có — số đếm)"),
        _SNAPSHOT,
        measure="count",
        higher=False,
        group="progress",
    ),
    _k(
        "dossier_digitisation_rate",
        gettext_lazy("Tỷ lệ số hoá hồ sơ"),
        gettext_lazy(
            "Tỷ lệ hồ sơ tiếp nhận dưới dạng dữ liệu điện tử trên tổng số hồ sơ tiếp nhận."
        ),
        gettext_lazy("Số hồ sơ tiếp nhận là dữ liệu (trực tuyến hoặc nhập tại quầy) trong kỳ"),
        _RECEIVED,
        _DAYS,
        group="digitisation",
    ),
    _k(
        "result_digitisation_rate",
        gettext_lazy("Tỷ lệ số hoá kết quả"),
        gettext_lazy("Tỷ lệ kết quả giải quyết được cấp dưới dạng giấy tờ điện tử có ký số."),
        gettext_lazy("Số kết quả trả trong kỳ có bản điện tử trong ví giấy tờ"),
        gettext_lazy("Số kết quả trả trong kỳ"),
        _DAYS,
        group="digitisation",
    ),
    _k(
        "online_payment_rate",
        gettext_lazy("Tỷ lệ thanh toán trực tuyến"),
        gettext_lazy("Tỷ lệ hồ sơ có phí, lệ phí được thanh toán trực tuyến."),
        gettext_lazy("Số hồ sơ có phí tiếp nhận trong kỳ đã thanh toán trực tuyến"),
        gettext_lazy("Số hồ sơ có phí, lệ phí tiếp nhận trong kỳ"),
        _DAYS,
        group="online",
    ),
    _k(
        "eid_coverage_level1",
        gettext_lazy("Tỷ lệ định danh điện tử mức 1"),
        gettext_lazy("Tỷ lệ người từ 14 tuổi có tài khoản định danh điện tử mức 1 đang hoạt động."),
        gettext_lazy("Số người thường trú từ 14 tuổi có tài khoản mức 1 đang hoạt động"),
        gettext_lazy("Số người thường trú còn sống từ 14 tuổi"),
        _SNAPSHOT,
        source="population",
        breakdowns=("commune", "province", "day", "month", "quarter"),
        filters=("unit",),
    ),
    _k(
        "eid_coverage_level2",
        gettext_lazy("Tỷ lệ định danh điện tử mức 2"),
        gettext_lazy("Tỷ lệ người từ 14 tuổi có tài khoản định danh điện tử mức 2 đang hoạt động."),
        gettext_lazy("Số người thường trú từ 14 tuổi có tài khoản mức 2 đang hoạt động"),
        gettext_lazy("Số người thường trú còn sống từ 14 tuổi"),
        _SNAPSHOT,
        source="population",
        breakdowns=("commune", "province", "day", "month", "quarter"),
        filters=("unit",),
    ),
    _k(
        "chip_card_coverage",
        gettext_lazy("Tỷ lệ cấp thẻ căn cước gắn chip"),
        gettext_lazy(
            "Tỷ lệ người từ 14 tuổi có thẻ căn cước/căn cước công dân gắn chip còn hiệu lực."
        ),
        gettext_lazy("Số người thường trú từ 14 tuổi có thẻ gắn chip còn hiệu lực"),
        gettext_lazy("Số người thường trú còn sống từ 14 tuổi"),
        _SNAPSHOT,
        source="population",
        breakdowns=("commune", "province", "day", "month", "quarter"),
        filters=("unit",),
    ),
    _k(
        "lookups",
        gettext_lazy("Số lượt khai thác dữ liệu dân cư"),
        gettext_lazy(
            "Số lượt cơ quan, tổ chức tra cứu, khai thác dữ liệu của công dân, theo cơ quan "
            "và mục đích (toàn quốc: nhật ký truy cập không gắn với địa bàn)."
        ),
        gettext_lazy("Số lượt truy cập dữ liệu công dân ghi trong nhật ký trong kỳ"),
        gettext_lazy("(không có — số đếm)"),
        _DAYS,
        measure="count",
        source="lookup",
        breakdowns=("organisation", "purpose", "day", "month", "quarter"),
        filters=(),
    ),
    _k(
        "satisfaction_rate",
        gettext_lazy("Tỷ lệ hài lòng"),
        gettext_lazy("Tỷ lệ đánh giá hài lòng (4 hoặc 5 sao) trên tổng số đánh giá."),
        gettext_lazy("Số đánh giá 4–5 sao trong kỳ"),
        gettext_lazy("Số đánh giá trong kỳ"),
        _DAYS,
        group="satisfaction",
    ),
    _k(
        "service_index_766",
        gettext_lazy("Chỉ số phục vụ người dân, doanh nghiệp (Quyết định 766)"),
        gettext_lazy(
            "Điểm tổng hợp 5 nhóm chỉ số theo trọng số cấu hình: công khai minh bạch (đại "
            "diện: tỷ lệ hồ sơ được theo dõi trạng thái trực tuyến, tức hồ sơ là dữ liệu), "
            "tiến độ (tỷ lệ đúng hạn), số hoá (trung bình tỷ lệ số hoá hồ sơ và kết quả), "
            "cung cấp trực tuyến (trung bình tỷ lệ hồ sơ trực tuyến và thanh toán trực "
            "tuyến), hài lòng (tỷ lệ hài lòng); thang 100 điểm."
        ),
        gettext_lazy("Tổng trọng số × tỷ lệ của các nhóm có số liệu"),
        gettext_lazy("Tổng trọng số của các nhóm có số liệu"),
        _DAYS,
        measure="score",
        source="index",
    ),
)
BY_CODE: dict[str, KPI] = {k.code: k for k in KPIS}

# Dossier KPIs: (numerator field, denominator field or None) on DossierFact.
_DOSSIER: dict[str, tuple[str, str | None]] = {
    "online_dossier_rate": ("received_online", "received"),
    "fully_online_dossier_rate": ("received_fully_online", "received"),
    "on_time_rate": ("decided_on_time", "decided"),
    "overdue_count": ("overdue_open", None),
    "dossier_digitisation_rate": ("digitised", "received"),
    "result_digitisation_rate": ("results_digitised", "results_issued"),
    "online_payment_rate": ("paid_online", "with_fee"),
    "satisfaction_rate": ("rating_satisfied", "rating_count"),
}
_SNAPSHOT_FIELDS = frozenset({"overdue_open"})
_POPULATION: dict[str, str] = {
    "eid_coverage_level1": "eid_level1",
    "eid_coverage_level2": "eid_level2",
    "chip_card_coverage": "chip_cards",
}
# The index's groups: group -> fact (numerator, denominator) pairs averaged into its rate.
_INDEX_PARTS: dict[str, tuple[tuple[str, str], ...]] = {
    "transparency": (("digitised", "received"),),
    "progress": (("decided_on_time", "decided"),),
    "digitisation": (("digitised", "received"), ("results_digitised", "results_issued")),
    "online": (("received_online", "received"), ("paid_online", "with_fee")),
    "satisfaction": (("rating_satisfied", "rating_count"),),
}
_INDEX_FIELDS = sorted({f for parts in _INDEX_PARTS.values() for pair in parts for f in pair})

_CENT = Decimal("0.01")


def get(code: str) -> KPI:
    """The definition of ``code``; ``NotFound`` for an unknown code."""
    kpi = BY_CODE.get(code)
    if kpi is None:
        raise NotFound(_("Không có chỉ tiêu này."), field="kpi")
    return kpi


def index_weights() -> dict[str, Decimal]:
    """The weight of each Decision 766 group: its IndexWeight row, else the default."""
    stored = dict(IndexWeight.objects.values_list("group", "weight"))
    return {group: Decimal(stored.get(group, default)) for group, _label, default in GROUPS_766}


def compute(
    code: str,
    *,
    start: dt.date,
    end: dt.date,
    unit: AdministrativeUnit | None = None,
    agency: Agency | None = None,
    procedure: str | None = None,
) -> Value:
    """The KPI ``code`` over ``start``..``end`` (inclusive) in the scope given."""
    kpi = _check(code, start, end, None)
    rows = _rows(kpi, start, end, None, unit, agency, procedure)
    if not rows:
        return _empty(kpi)
    return rows[0][1]


def breakdown(
    code: str,
    *,
    start: dt.date,
    end: dt.date,
    by: str,
    unit: AdministrativeUnit | None = None,
    agency: Agency | None = None,
    procedure: str | None = None,
) -> list[Row]:
    """The KPI ``code`` split by ``by`` (see ``BREAKDOWNS`` and ``KPI.breakdowns``)."""
    kpi = _check(code, start, end, by)
    pairs = _rows(kpi, start, end, by, unit, agency, procedure)
    labels = _labels(by, [key for key, _value in pairs])
    rows = [
        Row(
            key=key,
            label=labels.get(key, str(key)),
            numerator=value.numerator,
            denominator=value.denominator,
            value=value.value,
        )
        for key, value in pairs
    ]
    if by in _TIME:
        rows.sort(key=lambda r: r.key)
    else:
        rows.sort(key=lambda r: (r.label, str(r.key)))
    return rows


# --- internals -----------------------------------------------------------------------------


def _check(code: str, start: Any, end: Any, by: str | None) -> KPI:
    kpi = get(code)
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise ValidationFailed(_("Khoảng thời gian không hợp lệ."), field="start")
    if start > end:
        raise ValidationFailed(_("Ngày bắt đầu phải trước ngày kết thúc."), field="start")
    if by is not None and by not in kpi.breakdowns:
        raise ValidationFailed(_("Chỉ tiêu này không phân tách theo tiêu chí đã chọn."), field="by")
    return kpi


def _empty(kpi: KPI) -> Value:
    if kpi.measure == "count":
        return Value(0, None, Decimal(0))
    return Value(0, 0, None)


def _rate(numerator: int | Decimal, denominator: int | Decimal) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(_CENT, ROUND_HALF_UP)


def _rows(  # noqa: PLR0917 -- private; both callers pass the same six values
    kpi: KPI,
    start: dt.date,
    end: dt.date,
    by: str | None,
    unit: AdministrativeUnit | None,
    agency: Agency | None,
    procedure: str | None,
) -> list[tuple[Any, Value]]:
    """(key, value) pairs; one pair with key None when ``by`` is None."""
    if kpi.source == "catalogue":
        return _catalogue_rows(by, procedure)
    if kpi.source == "lookup":
        lookups = LookupFact.objects.filter(day__range=(start, end))
        return [(key, Value(n, None, Decimal(n))) for key, n, _d in _sums(lookups, by, "count")]
    if kpi.source == "population":
        field = _POPULATION[kpi.code]
        pop = _scoped(PopulationFact.objects.filter(day__range=(start, end)), unit, None, None)
        days = _snapshot_days(
            PopulationFact.objects.filter(day__range=(start, end))
            .values_list("day", flat=True)
            .distinct()
            .order_by(),
            by,
        )
        pop = pop.filter(day__in=days)
        return [(key, Value(n, d, _rate(n, d))) for key, n, d in _sums(pop, by, field, "adults")]
    facts = _scoped(DossierFact.objects.filter(day__range=(start, end)), unit, agency, procedure)
    if kpi.source == "index":
        return _index_rows(facts, by)
    num, den = _DOSSIER[kpi.code]
    if num in _SNAPSHOT_FIELDS:
        facts = facts.filter(day__in=_snapshot_days(_dossier_days(start, end), by))
    if den is None:
        return [(key, Value(n, None, Decimal(n))) for key, n, _d in _sums(facts, by, num)]
    return [(key, Value(n, d, _rate(n, d))) for key, n, d in _sums(facts, by, num, den)]


def _scoped(
    qs: QuerySet[Any],
    unit: AdministrativeUnit | None,
    agency: Agency | None,
    procedure: str | None,
) -> QuerySet[Any]:
    if unit is not None:
        if unit.level == "province":
            qs = qs.filter(province_id=unit.pk)
        elif unit.level == "commune":
            qs = qs.filter(commune_id=unit.pk)
        else:  # a legacy district: its communes
            qs = qs.filter(commune__parent_id=unit.pk)
    if agency is not None:
        qs = qs.filter(agency_id=agency.pk)
    if procedure:
        qs = qs.filter(procedure_code=procedure)
    return qs


def _group_expr(by: str) -> Any:
    if by == "month":
        return TruncMonth("day")
    if by == "quarter":
        return TruncQuarter("day")
    if by == "procedure":
        return F("procedure_code")
    return F(by)  # commune, province, agency, day, organisation, purpose: the field itself


def _sums(qs: QuerySet[Any], by: str | None, *fields: str) -> list[tuple[Any, int, int]]:
    """[(key, Σ fields[0], Σ fields[1] or 0)], one row per ``by`` key (or one, key None)."""
    sums = {f"s{i}": Sum(field) for i, field in enumerate(fields)}
    if by is None:
        agg = qs.aggregate(**sums)
        if agg["s0"] is None:
            return []
        return [(None, agg["s0"] or 0, agg.get("s1") or 0)]
    grouped = qs.annotate(k=_group_expr(by)).values("k").annotate(**sums).order_by()
    return [(_date_key(row["k"]), row["s0"] or 0, row.get("s1") or 0) for row in grouped]


def _date_key(key: Any) -> Any:
    # TruncMonth/TruncQuarter give dates on PostgreSQL and SQLite; keep datetimes out.
    if isinstance(key, dt.datetime):
        return key.date()
    return key


def _bucket(day: dt.date, by: str | None) -> dt.date | None:
    if by == "day":
        return day
    if by == "month":
        return day.replace(day=1)
    if by == "quarter":
        return day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)
    return None


def _snapshot_days(days: Iterable[dt.date], by: str | None) -> list[dt.date]:
    """The last day of each time bucket of ``by`` (one day when ``by`` is not a time)."""
    last: dict[dt.date | None, dt.date] = {}
    for day in days:
        key = _bucket(day, by if by in _TIME else None)
        if key not in last or day > last[key]:
            last[key] = day
    return sorted(last.values())


def _dossier_days(start: dt.date, end: dt.date) -> list[dt.date]:
    days = list(RefreshedDay.objects.filter(day__range=(start, end)).values_list("day", flat=True))
    if not days:
        days = list(
            DossierFact.objects.filter(day__range=(start, end))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        )
    return days


def _index_rows(facts: QuerySet[Any], by: str | None) -> list[tuple[Any, Value]]:
    sums = {field: Sum(field) for field in _INDEX_FIELDS}
    weights = index_weights()
    if by is None:
        agg = facts.aggregate(**sums)
        if agg[_INDEX_FIELDS[0]] is None:
            return []
        return [(None, _score(agg, weights))]
    grouped = facts.annotate(k=_group_expr(by)).values("k").annotate(**sums).order_by()
    return [(_date_key(row["k"]), _score(row, weights)) for row in grouped]


def _score(sums: dict[str, Any], weights: dict[str, Decimal]) -> Value:
    """Σ weight × group rate over the groups with data, and 100 × that / Σ their weights."""
    earned = Decimal(0)
    possible = Decimal(0)
    for group, parts in _INDEX_PARTS.items():
        rates = [Decimal(sums[num] or 0) / Decimal(sums[den]) for num, den in parts if sums[den]]
        if not rates:
            continue
        weight = weights[group]
        earned += weight * sum(rates, Decimal(0)) / len(rates)
        possible += weight
    points = earned.quantize(_CENT, ROUND_HALF_UP)
    if not possible:
        return Value(points, possible, None)
    # From the unrounded points: rounding them first loses up to 0.5 of the score.
    value = (earned * 100 / possible).quantize(_CENT, ROUND_HALF_UP)
    return Value(points, possible, value)


def _catalogue_rows(by: str | None, procedure: str | None) -> list[tuple[Any, Value]]:
    specs = catalogue().procedures
    if procedure:
        specs = {code: spec for code, spec in specs.items() if code == procedure}
    if by == "procedure":
        return [
            (code, Value(int(spec.fully_online), 1, _rate(int(spec.fully_online), 1)))
            for code, spec in specs.items()
        ]
    numerator = sum(1 for spec in specs.values() if spec.fully_online)
    return [(None, Value(numerator, len(specs), _rate(numerator, len(specs))))]


def _labels(by: str, keys: list[Any]) -> dict[Any, str]:  # noqa: PLR0911 -- one per dimension
    unknown = _("(không xác định)")
    if by in ("commune", "province"):
        names = dict(
            AdministrativeUnit.objects.filter(pk__in=[k for k in keys if k]).values_list(
                "pk", "name"
            )
        )
        return {k: names.get(k, unknown) if k else unknown for k in keys}
    if by == "agency":
        names = dict(Agency.objects.filter(pk__in=[k for k in keys if k]).values_list("pk", "name"))
        return {k: names.get(k, unknown) if k else unknown for k in keys}
    if by == "procedure":
        specs = catalogue().procedures
        return {k: str(specs[k].name) if k in specs else str(k or unknown) for k in keys}
    if by == "day":
        return {k: k.strftime("%d/%m/%Y") for k in keys}
    if by == "month":
        return {k: k.strftime("%m/%Y") for k in keys}
    if by == "quarter":
        return {k: _("Quý %(q)s/%(y)s") % {"q": (k.month - 1) // 3 + 1, "y": k.year} for k in keys}
    return {k: str(k) if k else _("(không ghi)") for k in keys}
