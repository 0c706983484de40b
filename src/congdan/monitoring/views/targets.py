"""Managing the KPIs' targets and the Decision 766 weights (issue 7, part 2), under
``Perm.TARGET_MANAGE``:

* ``target_list`` (/monitoring/targets/): for one year, the target that applies to each
  KPI in the selected unit (the user's own by default) and, for one KPI, in each of its
  child units (provinces of the country, communes of a province) — its own or inherited,
  and from where; the index weights;
* ``target_set`` (/monitoring/targets/set/): set or change a target (KPI, unit, year,
  value, amber margin, basis); ``?kpi=&unit=&year=`` preselect it;
* ``target_remove`` (/monitoring/targets/<id>/remove/): remove one, with a reason;
* ``target_weights`` (/monitoring/targets/weights/): the index weights (national users).

Scope: the user's jurisdiction; a unit or a target outside it is a 404, national targets
and the weights are for national users (403 to others).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from congdan.core.errors import NotFound, PermissionDenied
from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.permissions import Perm
from congdan.core.web import permission_required_view, submit_form
from congdan.geo.models import AdministrativeUnit
from congdan.monitoring import kpis
from congdan.monitoring.models import Target
from congdan.monitoring.services import targets as target_services

MIN_YEAR = 2000
MAX_YEAR = 2100
DEFAULT_KPI = "online_dossier_rate"
MEASURE_LABELS: dict[str, Any] = {
    "percent": gettext_lazy("%"),
    "count": gettext_lazy("số lượng"),
    "score": gettext_lazy("điểm"),
}


class DecimalCommaField(forms.DecimalField):
    """A decimal typed either way: "42,5" (Vietnamese) or "42.5"."""

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = value.strip().replace(",", ".")
        return super().to_python(value)


def _kpi_choices() -> list[tuple[str, str]]:
    return [(k.code, str(k.name)) for k in kpis.KPIS]


# --- the list ----------------------------------------------------------------------------


class ListForm(forms.Form):
    year = forms.IntegerField(
        label=gettext_lazy("Năm"), required=False, min_value=MIN_YEAR, max_value=MAX_YEAR
    )
    kpi = forms.ChoiceField(label=gettext_lazy("Chỉ tiêu (bảng đơn vị trực thuộc)"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kpi"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = _kpi_choices()


@dataclass
class Line:
    """The target that applies to one KPI in one unit, and where it comes from."""

    kpi: kpis.KPI
    unit: AdministrativeUnit | None
    target: Target | None
    own: bool  # set for this very unit
    source: str  # "own", "province", "national" or "none"
    source_label: str
    set_query: str  # the set form's query for this KPI and unit
    applies: bool = True  # False: a KPI counted nationally, no unit target applies

    @property
    def value_text(self) -> str:
        if self.target is None:
            return "—"
        return _fmt(Decimal(self.target.value), self.kpi.measure)

    @property
    def margin_text(self) -> str:
        if self.target is None:
            return "—"
        return _fmt(Decimal(self.target.amber_margin), self.kpi.measure, points=True)

    @property
    def direction(self) -> str:
        return "≥" if self.kpi.higher_is_better else "≤"


def _fmt(value: Decimal, measure: str, *, points: bool = False) -> str:
    text = f"{value.normalize():f}".replace(".", ",")
    if measure == "percent":
        return f"{text} {_('điểm')}" if points else f"{text} %"
    return text


def _int_param(raw: str) -> int | None:
    raw = raw.strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 12:
        raise NotFound(_("Không tìm thấy địa bàn."), field="unit")
    return int(raw)


def _selected_unit(request: HttpRequest, raw: str) -> AdministrativeUnit | None:
    """The unit the page looks at: ``?unit=`` within the jurisdiction, else the user's
    own (None: the country for a national user)."""
    j = jurisdiction_of(request.user)
    if j.none:
        raise PermissionDenied(_("Tài khoản chưa được giao địa bàn quản lý."))
    unit_id = _int_param(raw)
    if unit_id is None:
        if j.national:
            return None
        assert j.unit is not None  # noqa: S101 -- j.none was refused above
        unit_id = j.unit.pk
    found = target_services.units_in_scope(request.user).filter(pk=unit_id)
    unit = found.select_related("parent").first()
    if unit is None:
        raise NotFound(_("Không tìm thấy địa bàn."), field="unit")
    return unit


def _children(unit: AdministrativeUnit | None) -> list[AdministrativeUnit]:
    qs = AdministrativeUnit.objects.current().select_related("parent")
    if unit is None:
        return list(qs.filter(level="province").order_by("name"))
    if unit.level == "province":
        return list(qs.filter(level="commune", parent_id=unit.pk).order_by("name"))
    return []


def _line(kpi: kpis.KPI, unit: AdministrativeUnit | None, loaded: list[Target], year: int) -> Line:
    applies = unit is None or "unit" in kpi.filters
    target = target_services.applying(kpi.code, unit if applies else None, loaded)
    unit_id = unit.pk if unit is not None else None
    own = target is not None and target.unit_id == unit_id and applies
    if target is None:
        source, label = "none", _("Chưa có mục tiêu")
    elif own:
        source, label = "own", _("Mục tiêu riêng")
    elif target.unit_id is None:
        source, label = "national", _("Kế thừa mục tiêu toàn quốc")
    else:
        assert target.unit is not None  # noqa: S101 -- unit_id is set
        source = "province"
        label = _("Kế thừa từ %(unit)s") % {"unit": target.unit.name}
    query = urlencode({"kpi": kpi.code, "unit": "" if unit is None else unit.pk, "year": year})
    return Line(kpi, unit, target, own, source, label, query, applies)


@permission_required_view(Perm.TARGET_MANAGE)
@require_GET
def target_list(request: HttpRequest) -> HttpResponse:
    unit = _selected_unit(request, request.GET.get("unit", ""))
    form = ListForm(request.GET)
    valid = form.is_valid()
    year = (form.cleaned_data.get("year") if valid else None) or timezone.localdate().year
    code = (form.cleaned_data.get("kpi") if valid else None) or DEFAULT_KPI
    chosen = kpis.get(code)
    children = _children(unit)
    ids = [u.pk for u in children]
    if unit is not None:
        ids.append(unit.pk)
        if unit.parent_id is not None:
            ids.append(unit.parent_id)
    loaded = list(
        Target.objects.filter(year=year)
        .filter(Q(unit__isnull=True) | Q(unit_id__in=ids))
        .select_related("unit")
    )
    own_lines = [_line(k, unit, loaded, year) for k in kpis.KPIS]
    child_lines = [_line(chosen, c, loaded, year) for c in children]
    j = jurisdiction_of(request.user)
    chain: list[AdministrativeUnit | None] = [None] if j.national else []
    if unit is not None:
        if unit.parent is not None and j.covers(unit.parent):
            chain.append(unit.parent)
        chain.append(unit)
    weights = kpis.index_weights()
    context = {
        "form": form,
        "year": year,
        "unit": unit,
        "unit_name": unit.name if unit is not None else _("Toàn quốc"),
        "chosen": chosen,
        "own_lines": own_lines,
        "child_lines": child_lines,
        "child_level": "province" if unit is None else "commune",
        "chain": [
            {"unit": u, "query": urlencode({"unit": u.pk if u else "", "year": year})}
            for u in chain
        ],
        "weights": [
            {"group": g, "label": label, "weight": weights[g]} for g, label, _d in kpis.GROUPS_766
        ],
        "weight_total": sum(weights.values(), Decimal(0)),
        "national": j.national,
        "can_set_here": unit is not None or j.national,
        "measure_labels": MEASURE_LABELS,
    }
    status = 200 if valid else 400
    return render(request, "monitoring/targets/list.html", context, status=status)


# --- setting a target --------------------------------------------------------------------


class TargetForm(forms.Form):
    kpi = forms.ChoiceField(label=gettext_lazy("Chỉ tiêu"))
    # Validated by the service (a unit outside the jurisdiction is a 404, not a form
    # error); the select lists the units the user may choose.
    unit = forms.CharField(label=gettext_lazy("Địa bàn"), required=False, max_length=12)
    year = forms.IntegerField(label=gettext_lazy("Năm"), min_value=MIN_YEAR, max_value=MAX_YEAR)
    value = DecimalCommaField(
        label=gettext_lazy("Mục tiêu"),
        max_digits=7,
        decimal_places=2,
        min_value=Decimal(0),
        help_text=gettext_lazy(
            "Tỷ lệ, điểm: từ 0 đến 100. Số đếm (hồ sơ quá hạn, lượt khai thác): số nguyên. "
            "Chỉ tiêu càng thấp càng tốt (số hồ sơ quá hạn) đạt khi không vượt mục tiêu."
        ),
    )
    amber_margin = DecimalCommaField(
        label=gettext_lazy("Ngưỡng vàng (điểm)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        initial=Decimal(10),
        help_text=gettext_lazy("Chưa đạt nhưng cách mục tiêu không quá ngưỡng này: màu vàng."),
    )
    note = forms.CharField(
        label=gettext_lazy("Căn cứ"),
        required=False,
        max_length=target_services.MAX_NOTE,
        help_text=gettext_lazy("Văn bản giao chỉ tiêu, ví dụ: Kế hoạch số …/KH-UBND."),
    )

    def __init__(self, *args: Any, units: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["kpi"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = _kpi_choices()
        self.fields["unit"].widget = forms.Select(choices=units)


def _unit_choices(request: HttpRequest, around: AdministrativeUnit | None) -> list[tuple[str, str]]:
    """The units the form offers: the country (national users), the provinces and the
    communes of the province in focus (a national user), or the user's province and its
    communes, or the user's commune."""
    j = jurisdiction_of(request.user)
    qs = AdministrativeUnit.objects.current()
    choices: list[tuple[str, str]] = []
    if j.national:
        choices.append(("", _("Toàn quốc")))
        province = around
        if around is not None and around.level == "commune":
            province = around.parent
        cond = Q(level="province")
        if province is not None:
            cond |= Q(level="commune", parent_id=province.pk)
        units = list(qs.filter(cond).order_by("level", "name"))
    elif j.unit is not None:
        units = list(
            qs.filter(Q(pk=j.unit.pk) | Q(level="commune", parent_id=j.unit.pk)).order_by(
                "level", "name"
            )
        )
    else:
        units = []
    provinces = [u for u in units if u.level == "province"]
    communes = [u for u in units if u.level == "commune"]
    for p in provinces:
        choices.append((str(p.pk), p.name))
        choices.extend((str(c.pk), f"— {c.name}") for c in communes if c.parent_id == p.pk)
    if not provinces:
        choices.extend((str(c.pk), c.name) for c in communes)
    return choices


def _focus(request: HttpRequest, raw: Any) -> AdministrativeUnit | None:
    """The unit named by ``raw`` if it is within the jurisdiction (for the choices)."""
    text = str(raw or "").strip()
    if not text or not text.isascii() or not text.isdigit() or len(text) > 12:
        return None
    return (
        target_services.units_in_scope(request.user)
        .select_related("parent")
        .filter(pk=int(text))
        .first()
    )


def _list_url(unit_id: int | None, year: int, kpi: str) -> str:
    query = urlencode({"unit": unit_id or "", "year": year, "kpi": kpi})
    return f"{reverse('monitoring:targets')}?{query}"


@permission_required_view(Perm.TARGET_MANAGE)
@require_http_methods(["GET", "POST"])
def target_set(request: HttpRequest) -> HttpResponse:
    j = jurisdiction_of(request.user)
    if j.none:
        raise PermissionDenied(_("Tài khoản chưa được giao địa bàn quản lý."))
    if request.method == "POST":
        focus = _focus(request, request.POST.get("unit"))
        form = TargetForm(request.POST, units=_unit_choices(request, focus))
        if not j.national and not str(request.POST.get("unit") or "").strip():
            raise PermissionDenied(_("Chỉ cấp trung ương được đặt mục tiêu toàn quốc."))
        if form.is_valid():
            data = form.cleaned_data
            target = submit_form(
                form,
                lambda: target_services.set_target(
                    request.user,
                    kpi=data["kpi"],
                    unit=data.get("unit") or None,
                    year=data["year"],
                    value=data["value"],
                    amber_margin=data["amber_margin"],
                    note=data.get("note") or "",
                ),
            )
            if target is not None:
                messages.success(request, _("Đã lưu mục tiêu."))
                return redirect(_list_url(target.unit_id, target.year, target.kpi))
        return render(
            request, "monitoring/targets/form.html", {"form": form, "existing": None}, status=400
        )
    # GET: preselect ?kpi=&unit=&year= and show the target already set there.
    code = request.GET.get("kpi", "")
    unit_raw = request.GET.get("unit", "").strip()
    focus = _focus(request, unit_raw)
    if unit_raw and focus is None:
        raise NotFound(_("Không tìm thấy địa bàn."), field="unit")
    if not unit_raw and not j.national:
        focus = j.unit
    year_raw = request.GET.get("year", "").strip()
    year = timezone.localdate().year
    if year_raw.isascii() and year_raw.isdigit() and MIN_YEAR <= int(year_raw[:5]) <= MAX_YEAR:
        year = int(year_raw)
    initial: dict[str, Any] = {
        "kpi": code if code in kpis.BY_CODE else DEFAULT_KPI,
        "unit": str(focus.pk) if focus is not None else "",
        "year": year,
        "amber_margin": Decimal(10),
    }
    existing = Target.objects.filter(kpi=initial["kpi"], unit=focus, year=year).first()
    if existing is not None:
        initial |= {
            "value": existing.value,
            "amber_margin": existing.amber_margin,
            "note": existing.note,
        }
    form = TargetForm(initial=initial, units=_unit_choices(request, focus))
    return render(request, "monitoring/targets/form.html", {"form": form, "existing": existing})


# --- removing one ------------------------------------------------------------------------


class RemoveForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Lý do xóa"),
        max_length=target_services.MAX_REASON,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _removable(request: HttpRequest, pk: int) -> Target:
    target = target_services.get_target(request.user, pk)
    if target.unit_id is None and not target_services.can_set_national(request.user):
        raise NotFound(_("Không tìm thấy mục tiêu."))
    return target


@permission_required_view(Perm.TARGET_MANAGE)
@require_http_methods(["GET", "POST"])
def target_remove(request: HttpRequest, pk: int) -> HttpResponse:
    target = _removable(request, pk)
    kpi = kpis.get(target.kpi) if target.kpi in kpis.BY_CODE else None
    form = RemoveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        unit_id, year, code = target.unit_id, target.year, target.kpi
        done = submit_form(
            form,
            lambda: (
                target_services.remove_target(
                    request.user, target_id=target.pk, reason=form.cleaned_data["reason"]
                )
                or True
            ),
        )
        if done is not None:
            messages.success(request, _("Đã xóa mục tiêu."))
            return redirect(_list_url(unit_id, year, code))
    status = 400 if request.method == "POST" else 200
    value = _fmt(Decimal(target.value), kpi.measure) if kpi is not None else str(target.value)
    return render(
        request,
        "monitoring/targets/remove.html",
        {"form": form, "target": target, "kpi": kpi, "value_text": value},
        status=status,
    )


# --- the Decision 766 weights ------------------------------------------------------------


class WeightForm(forms.Form):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for group, label, _default in kpis.GROUPS_766:
            self.fields[group] = DecimalCommaField(
                label=label,
                max_digits=5,
                decimal_places=2,
                min_value=Decimal(0),
                max_value=Decimal(100),
            )


@permission_required_view(Perm.TARGET_MANAGE)
@require_http_methods(["GET", "POST"])
def target_weights(request: HttpRequest) -> HttpResponse:
    if not target_services.can_set_national(request.user):
        raise PermissionDenied(_("Chỉ cấp trung ương được thay đổi trọng số Bộ chỉ số 766."))
    form = WeightForm(request.POST or None, initial=kpis.index_weights())
    if request.method == "POST" and form.is_valid():
        done = submit_form(
            form,
            lambda: target_services.set_weights(request.user, weights=dict(form.cleaned_data)),
            {"weight": ""},
        )
        if done is not None:
            messages.success(request, _("Đã lưu trọng số Bộ chỉ số 766."))
            return redirect(reverse("monitoring:targets") + "#weights")
    status = 400 if request.method == "POST" else 200
    return render(request, "monitoring/targets/weights.html", {"form": form}, status=status)
