"""The programme dashboards (issue 7, part 3), under ``Perm.MONITORING_VIEW``:

* ``overview`` (/monitoring/): every KPI of one unit over a period — value, numerator and
  denominator, the target with its traffic light and the gap, and each KPI's written
  definition;
* ``kpi_detail`` (/monitoring/kpi/<code>/): one KPI per child unit (country → provinces,
  province → communes, commune → agencies) and per procedure, ranked best first with
  the laggards marked, a bar chart of each ranking, and the unit's time series by month
  against its target; links drill into a child unit (``?unit=``), a procedure
  (``?procedure=``) or an agency (``?agency=``).

Both export their tables with ``?format=csv`` (one table: ``&table=<name>``) or
``?format=xlsx`` (every table of the page, one sheet each): the same rows as the page.

Scope: the user's jurisdiction (a national user the country, a provincial leader the
province and its communes, a commune leader the commune); any other unit is a 404.
Figures come only from ``monitoring.kpis`` (daily facts), targets from
``monitoring.targets``; a page runs a bounded number of queries whatever the number of
communes (the targets of a ranking are loaded in one query, names come with the rows).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from congdan.core.errors import NotFound, PermissionDenied
from congdan.core.jurisdiction import Jurisdiction, jurisdiction_of
from congdan.core.models import Agency
from congdan.core.permissions import Perm, has_perm
from congdan.core.web import permission_required_view
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring import charts, exports, kpis, targets
from congdan.monitoring.models import Target
from congdan.procedures.specs import catalogue

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_DAYS = 3 * 366 + 1  # a custom range: up to three years
PERIODS = ("year", "quarter", "month", "custom")
FORMATS = ("csv", "xlsx")

LIGHT_LABELS: dict[str, Any] = {
    "green": gettext_lazy("Đạt"),
    "amber": gettext_lazy("Gần đạt"),
    "red": gettext_lazy("Chưa đạt"),
    "none": gettext_lazy("Chưa đánh giá"),
}
DIM_LABELS: dict[str, Any] = {
    "province": gettext_lazy("Tỉnh, thành phố"),
    "commune": gettext_lazy("Xã, phường"),
    "agency": gettext_lazy("Cơ quan"),
    "procedure": gettext_lazy("Thủ tục"),
    "organisation": gettext_lazy("Cơ quan, tổ chức khai thác"),
    "purpose": gettext_lazy("Mục đích"),
    "month": gettext_lazy("Tháng"),
}
MEASURE_LABELS: dict[str, Any] = {
    "percent": gettext_lazy("%"),
    "count": gettext_lazy("số lượng"),
    "score": gettext_lazy("điểm"),
}


# --- the period ------------------------------------------------------------------------


class PeriodForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Kỳ báo cáo"),
        required=False,
        choices=[
            ("year", gettext_lazy("Năm")),
            ("quarter", gettext_lazy("Quý")),
            ("month", gettext_lazy("Tháng")),
            ("custom", gettext_lazy("Tùy chọn (từ ngày … đến ngày)")),
        ],
    )
    year = forms.IntegerField(
        label=gettext_lazy("Năm"), required=False, min_value=MIN_YEAR, max_value=MAX_YEAR
    )
    quarter = forms.TypedChoiceField(
        label=gettext_lazy("Quý"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(q, f"{q}") for q in range(1, 5)],
    )
    month = forms.TypedChoiceField(
        label=gettext_lazy("Tháng"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", "—")] + [(m, f"{m}") for m in range(1, 13)],
    )
    start = forms.DateField(
        label=gettext_lazy("Từ ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=gettext_lazy("Đến ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        today = timezone.localdate()
        kind = data.get("period") or "year"
        data["period"] = kind
        year = data.get("year") or today.year
        data["year"] = year
        if kind == "custom":
            start, end = data.get("start"), data.get("end")
            if start is None:
                self.add_error("start", _("Nhập ngày bắt đầu."))
            if end is None:
                self.add_error("end", _("Nhập ngày kết thúc."))
            if start is None or end is None:
                return data
            for name, value in (("start", start), ("end", end)):
                if not MIN_YEAR <= value.year <= MAX_YEAR:
                    self.add_error(
                        name,
                        _("Năm phải từ %(min)d đến %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR},
                    )
                    return data
            if start > end:
                self.add_error("end", _("Ngày kết thúc phải sau ngày bắt đầu."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error("end", _("Khoảng thời gian tối đa là 3 năm."))
        elif kind == "quarter":
            quarter = data.get("quarter") or (today.month - 1) // 3 + 1
            data["quarter"] = quarter
            data["start"] = dt.date(year, 3 * quarter - 2, 1)
            data["end"] = _month_end(dt.date(year, 3 * quarter, 1))
        elif kind == "month":
            month = data.get("month") or today.month
            data["month"] = month
            data["start"] = dt.date(year, month, 1)
            data["end"] = _month_end(data["start"])
        else:
            data["start"] = dt.date(year, 1, 1)
            data["end"] = dt.date(year, 12, 31)
        return data


def _month_end(day: dt.date) -> dt.date:
    following = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date
    end: dt.date
    params: dict[str, str]  # the query parameters that select it

    @property
    def year(self) -> int:
        """The year whose targets apply: the period's last day's."""
        return self.end.year

    @property
    def label(self) -> str:
        if self.kind == "year":
            return _("Năm %(y)d") % {"y": self.start.year}
        if self.kind == "quarter":
            return _("Quý %(q)d/%(y)d") % {"q": (self.start.month + 2) // 3, "y": self.start.year}
        if self.kind == "month":
            return _("Tháng %(m)02d/%(y)d") % {"m": self.start.month, "y": self.start.year}
        return _("Từ %(a)s đến %(b)s") % {
            "a": self.start.strftime("%d/%m/%Y"),
            "b": self.end.strftime("%d/%m/%Y"),
        }


def _period(form: PeriodForm) -> Period:
    data = form.cleaned_data
    kind = data["period"]
    params = {"period": kind}
    if kind == "custom":
        params |= {"start": data["start"].isoformat(), "end": data["end"].isoformat()}
    else:
        params["year"] = str(data["year"])
        if kind == "quarter":
            params["quarter"] = str(data["quarter"])
        if kind == "month":
            params["month"] = str(data["month"])
    return Period(kind, data["start"], data["end"], params)


# --- the scope ---------------------------------------------------------------------------


@dataclass
class Scope:
    """Where the page looks: the selected unit (None: the country) inside the user's
    jurisdiction, and optionally one agency and one procedure."""

    jurisdiction: Jurisdiction
    unit: AdministrativeUnit | None
    agency: Agency | None = None
    procedure: str | None = None
    procedure_name: str = ""

    @property
    def level(self) -> str:
        return "national" if self.unit is None else self.unit.level

    @property
    def name(self) -> str:
        return _("Toàn quốc") if self.unit is None else self.unit.name

    def chain(self) -> list[AdministrativeUnit | None]:
        """The units from the jurisdiction's root down to the selected one (breadcrumb)."""
        chain: list[AdministrativeUnit | None] = []
        if self.jurisdiction.national:
            chain.append(None)
        if self.unit is not None:
            parent = self.unit.parent if self.unit.level == "commune" else None
            if parent is not None and self.jurisdiction.covers(parent):
                chain.append(parent)
            chain.append(self.unit)
        return chain

    def target_chain(self) -> list[int | None]:
        chain: list[int | None] = []
        if self.unit is not None:
            chain.append(self.unit.pk)
            if self.unit.parent_id is not None:
                chain.append(self.unit.parent_id)
        chain.append(None)
        return chain


def _kpis_for(scope: Scope) -> list[kpis.KPI]:
    """The KPIs this user may read. The lookups KPI breaks the national access log down
    by organisation and free-text purpose, which is not a province's business: only
    users with national jurisdiction see it."""
    return [k for k in kpis.KPIS if k.source != "lookup" or scope.jurisdiction.national]


def _int_param(request: HttpRequest, name: str) -> int | None:
    raw = request.GET.get(name, "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise NotFound(_("Không tìm thấy địa bàn."), field=name)
    return int(raw)


def _scope(request: HttpRequest) -> Scope:
    j = jurisdiction_of(request.user)
    if j.none:
        raise PermissionDenied(_("Tài khoản chưa được giao địa bàn quản lý."))
    unit_id = _int_param(request, "unit")
    unit: AdministrativeUnit | None
    if unit_id is None:
        unit = None if j.national else j.unit
        if unit is not None:
            unit = AdministrativeUnit.objects.select_related("parent").get(pk=unit.pk)
    else:
        unit = (
            AdministrativeUnit.objects.current()
            .filter(level__in=("province", "commune"), pk=unit_id)
            .select_related("parent")
            .first()
        )
        if unit is None or not j.covers(unit):
            raise NotFound(_("Không tìm thấy địa bàn."), field="unit")
    scope = Scope(jurisdiction=j, unit=unit)
    agency_id = _int_param(request, "agency")
    if agency_id is not None:
        scope.agency = Agency.objects.select_related("jurisdiction").filter(pk=agency_id).first()
        # An agency of another province or commune is not this user's to look at.
        if scope.agency is None or not (
            scope.agency.jurisdiction is None or j.covers(scope.agency.jurisdiction)
        ):
            raise NotFound(_("Không tìm thấy cơ quan."), field="agency")
    code = request.GET.get("procedure", "").strip()
    if code:
        spec = catalogue().procedures.get(code)
        if spec is None:
            raise NotFound(_("Không tìm thấy thủ tục."), field="procedure")
        scope.procedure, scope.procedure_name = code, str(spec.name)
    return scope


def _children(scope: Scope) -> list[AdministrativeUnit]:
    """The units one level down (provinces of the country, communes of a province)."""
    qs = AdministrativeUnit.objects.current()
    if scope.unit is None:
        return list(qs.filter(level="province").order_by("name"))
    if scope.unit.level == "province":
        return list(qs.filter(level="commune", parent_id=scope.unit.pk).order_by("name"))
    return []


def _unit_choices(scope: Scope) -> list[tuple[str, str]]:
    """The units the picker offers: the jurisdiction's root and the levels below the
    selected unit (a national user: the country, the provinces and, once a province is
    chosen, its communes). One query."""
    j = scope.jurisdiction
    qs = AdministrativeUnit.objects.current()
    if j.national:
        cond = Q(level="province")
        province = scope.unit if scope.unit and scope.unit.level == "province" else None
        if scope.unit is not None and scope.unit.level == "commune":
            province = scope.unit.parent
        if province is not None:
            cond |= Q(level="commune", parent_id=province.pk)
        units = list(qs.filter(cond).select_related("parent").order_by("level", "name"))
        choices = [("", str(_("Toàn quốc")))]
    else:
        root = j.unit
        assert root is not None  # noqa: S101 -- j.none was refused by _scope
        units = list(
            qs.filter(Q(pk=root.pk) | Q(parent_id=root.pk, level="commune")).order_by(
                "level", "name"
            )
        )
        choices = []
    provinces = [u for u in units if u.level == "province"]
    communes = [u for u in units if u.level == "commune"]
    open_province = _province_id(scope)
    for p in provinces:
        choices.append((str(p.pk), p.name))
        if not j.national or open_province == p.pk:
            choices.extend((str(c.pk), f"— {c.name}") for c in communes if c.parent_id == p.pk)
    if not provinces:
        choices.extend((str(c.pk), c.name) for c in communes)
    return choices


def _province_id(scope: Scope) -> int | None:
    if scope.unit is None:
        return None
    return scope.unit.pk if scope.unit.level == "province" else scope.unit.parent_id


# --- targets in bulk --------------------------------------------------------------------


class TargetBook:
    """The targets of one KPI and year for many units, loaded in one query; ``status``
    answers as ``targets.status`` does (own target, else the province's, else the
    national one) without a query per row."""

    def __init__(
        self,
        code: str,
        year: int,
        unit_ids: Iterable[int],
        loaded: Iterable[Target] | None = None,
    ) -> None:
        self.kpi = kpis.get(code)
        if loaded is None:
            ids = sorted({pk for pk in unit_ids if pk is not None})
            loaded = Target.objects.filter(kpi=code, year=year).filter(
                Q(unit__isnull=True) | Q(unit_id__in=ids)
            )
        rows = [t for t in loaded if t.kpi == code and t.year == year]
        self.by_unit: dict[int | None, Target] = {t.unit_id: t for t in rows}

    @classmethod
    def many(
        cls, codes: Sequence[str], year: int, unit_ids: Iterable[int]
    ) -> dict[str, TargetBook]:
        """The books of several KPIs for the same units, in one query."""
        ids = sorted({pk for pk in unit_ids if pk is not None})
        loaded = list(
            Target.objects.filter(kpi__in=codes, year=year).filter(
                Q(unit__isnull=True) | Q(unit_id__in=ids)
            )
        )
        return {code: cls(code, year, ids, loaded) for code in codes}

    def target_for(self, chain: Sequence[int | None]) -> Target | None:
        for pk in chain:
            if pk in self.by_unit:
                return self.by_unit[pk]
        return None

    def status(
        self, chain: Sequence[int | None], value: Decimal | int | None
    ) -> targets.TargetStatus:
        target = self.target_for(chain)
        if target is None:
            return targets.TargetStatus(None, None, "none", None)
        goal = Decimal(target.value)
        if value is None:
            return targets.TargetStatus(goal, None, "none", target)
        gap = Decimal(value) - goal
        shortfall = -gap if self.kpi.higher_is_better else gap
        if shortfall <= 0:
            light: targets.Light = "green"
        elif shortfall <= Decimal(target.amber_margin):
            light = "amber"
        else:
            light = "red"
        return targets.TargetStatus(goal, gap, light, target)


# --- rows as shown ----------------------------------------------------------------------


@dataclass
class Line:
    """One row of a table as the page and the exports show it."""

    label: str
    numerator: int | Decimal | None
    denominator: int | Decimal | None
    value: Decimal | None
    status: targets.TargetStatus
    measure: str
    key: Any = None
    href: str = ""
    rank: int | None = None

    @property
    def value_text(self) -> str:
        return charts.fmt(self.value, self.measure)

    @property
    def target_text(self) -> str:
        return (
            charts.fmt(self.status.target, self.measure) if self.status.target is not None else "—"
        )

    @property
    def gap_text(self) -> str:
        gap = self.status.gap
        if gap is None:
            return "—"
        sign = "+" if gap > 0 else ("−" if gap < 0 else "")
        unit = _(" điểm %") if self.measure == "percent" else ""
        shown = charts.fmt(abs(gap), "count" if self.measure == "count" else "score")
        return f"{sign}{shown}{unit}"

    @property
    def light(self) -> str:
        return self.status.light

    @property
    def light_label(self) -> str:
        if self.status.light == "none" and self.value is None:
            return str(_("Chưa có số liệu"))
        if self.status.light == "none":
            return str(_("Chưa có mục tiêu"))
        return str(LIGHT_LABELS[self.status.light])

    @property
    def laggard(self) -> bool:
        return self.status.light in ("red", "amber")

    def cells(self, with_rank: bool) -> list[Any]:
        head: list[Any] = [self.rank] if with_rank else []
        return [
            *head,
            self.label,
            self.value,
            self.numerator,
            self.denominator,
            self.status.target,
            self.status.gap,
            self.light_label,
        ]


def _header(first: str, with_rank: bool) -> list[str]:
    head = [str(_("Hạng"))] if with_rank else []
    return [
        *head,
        first,
        str(_("Giá trị")),
        str(_("Tử số")),
        str(_("Mẫu số")),
        str(_("Mục tiêu")),
        str(_("Chênh lệch")),
        str(_("Đánh giá")),
    ]


def _percent_columns(kpi: kpis.KPI, with_rank: bool) -> frozenset[int]:
    if kpi.measure == "count":
        return frozenset()
    shift = 1 if with_rank else 0
    return frozenset({1 + shift, 4 + shift, 5 + shift})


def _rank(lines: list[Line], higher_is_better: bool) -> list[Line]:
    """Best first; rows without data last; ties by label."""
    with_value = [ln for ln in lines if ln.value is not None]
    without = [ln for ln in lines if ln.value is None]
    with_value.sort(key=lambda ln: ln.label)
    with_value.sort(key=lambda ln: ln.value or 0, reverse=higher_is_better)
    ranked = with_value + sorted(without, key=lambda ln: ln.label)
    for index, line in enumerate(ranked, start=1):
        line.rank = index if line.value is not None else None
    return ranked


# --- pages ------------------------------------------------------------------------------


@dataclass
class Table:
    name: str  # the ``table`` query parameter of its export
    title: str
    dim_label: str
    lines: list[Line]
    ranked: bool
    chart: charts.Chart | None = None
    laggards: int = 0
    export_query: str = ""
    notes: list[str] = field(default_factory=list)


def _query(base: dict[str, str], **extra: Any) -> str:
    params = {**base, **{k: str(v) for k, v in extra.items() if v not in (None, "")}}
    return urlencode(params)


def _base_params(period: Period, scope: Scope) -> dict[str, str]:
    params = dict(period.params)
    if scope.unit is not None:
        params["unit"] = str(scope.unit.pk)
    if scope.agency is not None:
        params["agency"] = str(scope.agency.pk)
    if scope.procedure:
        params["procedure"] = scope.procedure
    return params


def _form(request: HttpRequest) -> PeriodForm:
    params = {k: v for k, v in request.GET.items() if k in PeriodForm.base_fields}
    return PeriodForm(params)


def _format(request: HttpRequest) -> str | None:
    fmt = request.GET.get("format", "").strip()
    if not fmt:
        return None
    if fmt not in FORMATS:
        raise NotFound(_("Không có định dạng tải về này."), field="format")
    return fmt


def _invalid(request: HttpRequest, template: str, form: PeriodForm, **extra: Any) -> HttpResponse:
    return render(request, template, {"form": form, "invalid": True, **extra}, status=400)


def _value_line(
    kpi: kpis.KPI, scope: Scope, period: Period, *, href: str = "", book: TargetBook | None = None
) -> Line:
    value = kpis.compute(
        kpi.code,
        start=period.start,
        end=period.end,
        unit=scope.unit if "unit" in kpi.filters else None,
        agency=scope.agency if "agency" in kpi.filters else None,
        procedure=scope.procedure if "procedure" in kpi.filters else None,
    )
    unit = scope.unit if "unit" in kpi.filters else None
    if book is None:
        status = targets.status(kpi.code, unit, period.year, value.value)
    else:
        chain = scope.target_chain() if unit is not None else [None]
        status = book.status(chain, value.value)
    return Line(
        label=str(kpi.name),
        numerator=value.numerator,
        denominator=value.denominator,
        value=value.value,
        status=status,
        measure=kpi.measure,
        key=kpi.code,
        href=href,
    )


@permission_required_view(Perm.MONITORING_VIEW)
@require_GET
def overview(request: HttpRequest) -> HttpResponse:
    template = "monitoring/dashboard/overview.html"
    form = _form(request)
    fmt = _format(request)
    scope = _scope(request)
    if not form.is_valid():
        return _invalid(request, template, form, scope=scope, units=_unit_choices(scope))
    period = _period(form)
    base = _base_params(period, scope)
    rows: list[dict[str, Any]] = []
    visible = _kpis_for(scope)
    books = TargetBook.many(
        [k.code for k in visible], period.year, [pk for pk in scope.target_chain() if pk]
    )
    for kpi in visible:
        href = reverse("monitoring:kpi", args=[kpi.code]) + "?" + _query(base)
        line = _value_line(kpi, scope, period, href=href, book=books[kpi.code])
        rows.append({"kpi": kpi, "line": line, "national_only": "unit" not in kpi.filters})
    stem = f"chi-tieu-{_stem_unit(scope)}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if fmt is not None:
        header = [str(_("Mã")), *_header(str(_("Chỉ tiêu")), False), str(_("Đơn vị tính"))]
        table = exports.Table(
            title=str(_("Chỉ tiêu")),
            header=header,
            rows=[
                [r["kpi"].code, *r["line"].cells(False), str(MEASURE_LABELS[r["kpi"].measure])]
                for r in rows
            ],
            percent_columns=frozenset({2, 5, 6}),
        )
        if fmt == "csv":
            return exports.csv_response(table, stem)
        return exports.xlsx_response([table], stem)
    children = _children(scope)
    context = {
        "form": form,
        "scope": scope,
        "period": period,
        "rows": rows,
        "children": [{"unit": c, "query": _query(period.params, unit=c.pk)} for c in children],
        "units": _unit_choices(scope),
        "chain": [
            {"unit": u, "query": _query(period.params, unit=u.pk if u else "")}
            for u in scope.chain()
        ],
        "query": _query(base),
        "light_labels": LIGHT_LABELS,
        "can_manage_targets": has_perm(request.user, Perm.TARGET_MANAGE),
    }
    return render(request, template, context)


def _dims(kpi: kpis.KPI, scope: Scope) -> list[str]:
    """The breakdowns the page shows for this KPI at this level, first the ranking of
    the child units."""
    if scope.unit is None:
        wanted = ["province", "procedure"]
    elif scope.unit.level == "province":
        wanted = ["commune", "procedure"]
    else:
        wanted = ["agency", "procedure"]
    wanted += ["organisation", "purpose"]
    if scope.procedure:
        wanted.remove("procedure")
    if scope.agency is not None:
        wanted = [d for d in wanted if d != "agency"]
    return [d for d in wanted if d in kpi.breakdowns]


def _breakdown_table(
    kpi: kpis.KPI, scope: Scope, period: Period, by: str, base: dict[str, str]
) -> Table:
    unit = scope.unit if "unit" in kpi.filters else None
    rows = kpis.breakdown(
        kpi.code,
        start=period.start,
        end=period.end,
        by=by,
        unit=unit,
        agency=scope.agency if "agency" in kpi.filters else None,
        procedure=scope.procedure if "procedure" in kpi.filters else None,
    )
    scope_chain: list[int | None] = scope.target_chain() if unit is not None else [None]
    place = by in ("commune", "province")
    if place:
        # Child units without any fact in the period are listed too (no data is news).
        present = {r.key for r in rows}
        empty = kpis.Value(0, None, Decimal(0)) if kpi.measure == "count" else None
        rows = rows + [
            kpis.Row(
                key=child.pk,
                label=child.name,
                numerator=0,
                denominator=None if empty else 0,
                value=empty.value if empty else None,
            )
            for child in _children(scope)
            if child.pk not in present
        ]
    ids = [r.key for r in rows if place and isinstance(r.key, int)]
    book = TargetBook(kpi.code, period.year, [*ids, *(pk for pk in scope_chain if pk)])
    lines = []
    for row in rows:
        if place and isinstance(row.key, int):
            chain: list[int | None] = [row.key]
            if by == "commune" and scope.unit is not None:
                chain.append(scope.unit.pk)
            chain.append(None)
        else:
            chain = scope_chain
        href = ""
        if place and isinstance(row.key, int):
            href = "?" + _query({**base, "unit": str(row.key)})
        elif by == "procedure" and row.key:
            href = "?" + _query(base, procedure=row.key)
        elif by == "agency" and isinstance(row.key, int):
            href = "?" + _query(base, agency=row.key)
        lines.append(
            Line(
                label=row.label,
                numerator=row.numerator,
                denominator=row.denominator,
                value=row.value,
                status=book.status(chain, row.value),
                measure=kpi.measure,
                key=row.key,
                href=href,
            )
        )
    lines = _rank(lines, kpi.higher_is_better)
    common = book.target_for(scope_chain)
    title = _("%(kpi)s theo %(dim)s") % {"kpi": kpi.name, "dim": str(DIM_LABELS[by]).lower()}
    chart = charts.bar_chart(
        # The chart shows the rows with data; the table also lists those without.
        [charts.Datum(ln.label, ln.value, ln.light) for ln in lines if ln.denominator != 0],
        chart_id=f"chart-{by}",
        title=title,
        measure=kpi.measure,
        target=Decimal(common.value) if common is not None else None,
    )
    return Table(
        name=by,
        title=title,
        dim_label=str(DIM_LABELS[by]),
        lines=lines,
        ranked=True,
        chart=chart,
        laggards=sum(1 for ln in lines if ln.laggard),
    )


def _series_table(
    kpi: kpis.KPI, scope: Scope, period: Period, base: dict[str, str]
) -> Table | None:
    if "month" not in kpi.breakdowns:
        return None
    unit = scope.unit if "unit" in kpi.filters else None
    rows = kpis.breakdown(
        kpi.code,
        start=period.start,
        end=period.end,
        by="month",
        unit=unit,
        agency=scope.agency if "agency" in kpi.filters else None,
        procedure=scope.procedure if "procedure" in kpi.filters else None,
    )
    by_month = {r.key: r for r in rows}
    chain: list[int | None] = scope.target_chain() if unit is not None else [None]
    ids = [pk for pk in chain if pk is not None]
    books: dict[int, TargetBook] = {}
    lines = []
    month = period.start.replace(day=1)
    while month <= period.end:
        if month.year not in books:
            books[month.year] = TargetBook(kpi.code, month.year, ids)
        row = by_month.get(month)
        value = row.value if row is not None else None
        lines.append(
            Line(
                label=month.strftime("%m/%Y"),
                numerator=row.numerator if row is not None else None,
                denominator=row.denominator if row is not None else None,
                value=value,
                status=books[month.year].status(chain, value),
                measure=kpi.measure,
                key=month,
            )
        )
        month = (month + dt.timedelta(days=32)).replace(day=1)
    title = _("%(kpi)s theo tháng — %(unit)s") % {"kpi": kpi.name, "unit": scope.name}
    chart = charts.line_chart(
        [charts.Datum(ln.label, ln.value, ln.light, ln.status.target) for ln in lines],
        chart_id="chart-month",
        title=title,
        measure=kpi.measure,
    )
    return Table(
        name="month",
        title=title,
        dim_label=str(DIM_LABELS["month"]),
        lines=lines,
        ranked=False,
        chart=chart,
        laggards=sum(1 for ln in lines if ln.laggard),
    )


def _stem_unit(scope: Scope) -> str:
    return "toan-quoc" if scope.unit is None else f"{scope.unit.level}-{scope.unit.code}"


@permission_required_view(Perm.MONITORING_VIEW)
@require_GET
def kpi_detail(request: HttpRequest, code: str) -> HttpResponse:
    template = "monitoring/dashboard/kpi.html"
    kpi = kpis.get(code)
    form = _form(request)
    fmt = _format(request)
    scope = _scope(request)
    if kpi not in _kpis_for(scope):
        raise NotFound(_("Không có chỉ tiêu này."), field="kpi")
    if not form.is_valid():
        return _invalid(request, template, form, scope=scope, kpi=kpi, units=_unit_choices(scope))
    period = _period(form)
    base = _base_params(period, scope)
    headline = _value_line(kpi, scope, period)
    tables = [_breakdown_table(kpi, scope, period, by, base) for by in _dims(kpi, scope)]
    series = _series_table(kpi, scope, period, base)
    if series is not None:
        tables.append(series)
    stem = f"{kpi.code}-{_stem_unit(scope)}-{period.start:%Y%m%d}-{period.end:%Y%m%d}"
    if fmt is not None:
        exported = [
            exports.Table(
                title=t.title,
                header=_header(t.dim_label, t.ranked),
                rows=[ln.cells(t.ranked) for ln in t.lines],
                percent_columns=_percent_columns(kpi, t.ranked),
            )
            for t in tables
        ]
        if fmt == "csv":
            wanted = request.GET.get("table", "").strip() or (tables[0].name if tables else "")
            names = [t.name for t in tables]
            if wanted not in names:
                raise NotFound(_("Không có bảng này."), field="table")
            return exports.csv_response(exported[names.index(wanted)], f"{stem}-{wanted}")
        return exports.xlsx_response(exported, stem)
    for table in tables:
        table.export_query = _query(base, table=table.name)
    context = {
        "form": form,
        "kpi": kpi,
        "scope": scope,
        "period": period,
        "headline": headline,
        "tables": tables,
        "units": _unit_choices(scope),
        "chain": [
            {"unit": u, "query": _query(period.params, unit=u.pk if u else "")}
            for u in scope.chain()
        ],
        "query": _query(base),
        "unfiltered_query": _query(
            {k: v for k, v in base.items() if k not in ("procedure", "agency")}
        ),
        "national_only": "unit" not in kpi.filters,
    }
    return render(request, template, context)
