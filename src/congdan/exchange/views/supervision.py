"""Supervision of the access log for the data-protection officer (issue 6, part 8), under
/supervision/access/ and ``Perm.ACCESS_LOG_SUPERVISE`` (403 without it; the login page
when not logged in):

* volumes per organisation, service and purpose per day or month over a period: an SVG
  bar chart drawn on the server with its data table, the detailed table, a CSV export;
* anomalies of a day (``exchange.anomalies``), each linking to
* the entries behind one finding, keyset-paged. Those name persons (ID numbers): each
  page shown is access-logged (channel ``ui``, view ``supervision``, purpose
  ``data_protection_supervision``), so citizens see the supervision in their tracker.

Volumes name no person and are not logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from congdan.audit.models import Channel
from congdan.audit.services import log_access
from congdan.core.errors import ValidationFailed
from congdan.core.permissions import Perm
from congdan.core.web import permission_required_view
from congdan.exchange import anomalies, supervision
from congdan.exchange.views import Describer, csv_lines
from congdan.exchange.views.tracker import DATE_FORMATS, MAX_YEAR, MIN_YEAR

DEFAULT_DAYS = 30
FINDING_PAGE_SIZE = 100
FINDING_FIELDS = ("id_number", "access_log")


class VolumeForm(forms.Form):
    start = forms.DateField(
        label=_("Từ ngày"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    end = forms.DateField(
        label=_("Đến ngày"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    granularity = forms.ChoiceField(
        label=_("Thống kê theo"),
        choices=[(supervision.DAY, _("Ngày")), (supervision.MONTH, _("Tháng"))],
    )
    organisation = forms.CharField(
        label=_("Mã cơ quan, tổ chức"),
        required=False,
        max_length=80,
        help_text=_("Để trống: tất cả."),
    )
    channel = forms.ChoiceField(
        label=_("Kênh truy cập"), required=False, choices=[("", _("Tất cả")), *Channel.choices]
    )

    def clean_organisation(self) -> str:
        value: str = self.cleaned_data.get("organisation") or ""
        if not value.isprintable():
            raise forms.ValidationError(_("Mã có ký tự không được phép."))
        return value.strip()

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("start", "end"):
            value = data.get(name)
            if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
                self.add_error(
                    name,
                    _("Năm phải từ %(min)d đến %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR},
                )
        if self.errors:
            return data
        try:
            supervision.check_period(data["start"], data["end"], data["granularity"])
        except ValidationFailed as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc.message))
        return data


def _volume_form(request: HttpRequest) -> VolumeForm:
    today = timezone.localdate()
    defaults = {
        "start": (today - dt.timedelta(days=DEFAULT_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
        "granularity": supervision.DAY,
        "organisation": "",
        "channel": "",
    }
    params = {k: v for k, v in request.GET.items() if k in VolumeForm.base_fields}
    return VolumeForm({**defaults, **params})


def _bucket_label(day: dt.date, granularity: str) -> str:
    return day.strftime("%m/%Y") if granularity == supervision.MONTH else day.strftime("%d/%m")


@permission_required_view(Perm.ACCESS_LOG_SUPERVISE)
@require_GET
def volumes(request: HttpRequest) -> HttpResponse:
    form = _volume_form(request)
    context: dict[str, Any] = {"form": form}
    if not form.is_valid():
        return render(request, "exchange/supervision/volumes.html", context, status=400)
    data = form.cleaned_data
    filters = {"organisation": data["organisation"], "channel": data["channel"]}
    granularity = data["granularity"]
    totals = supervision.totals_by_bucket(
        data["start"], data["end"], granularity=granularity, **filters
    )
    describer = Describer()
    by_org = supervision.totals_by_organisation(data["start"], data["end"], **filters)
    describer.prime(code for code, _n in by_org)
    detail: list[supervision.VolumeRow] = []
    truncated = False
    for row in supervision.volumes(data["start"], data["end"], granularity=granularity, **filters):
        if len(detail) >= supervision.TABLE_LIMIT:
            truncated = True
            break
        detail.append(row)
    describer.prime(r.organisation for r in detail)
    query = urlencode({k: form.data[k] for k in VolumeForm.base_fields if form.data.get(k)})
    context.update(
        {
            "chart": supervision.bar_chart(
                [(_bucket_label(day, granularity), n) for day, n in totals]
            ),
            "totals": [
                {"label": _bucket_label(day, granularity), "day": day, "count": n}
                for day, n in totals
            ],
            "total": sum(n for _day, n in totals),
            "by_org": [
                {"code": code, "name": describer.organisation(code), "count": n}
                for code, n in by_org
            ],
            "detail": [
                {
                    "row": r,
                    "label": _bucket_label(r.bucket, granularity),
                    "organisation": describer.organisation(r.organisation),
                }
                for r in detail
            ],
            "truncated": truncated,
            "table_limit": supervision.TABLE_LIMIT,
            "query": query,
            "anomaly_day": min(data["end"], timezone.localdate()).isoformat(),
        }
    )
    return render(request, "exchange/supervision/volumes.html", context)


VOLUME_HEADER = (
    _("Kỳ"),
    _("Mã cơ quan, tổ chức"),
    _("Cơ quan, tổ chức"),
    _("Dịch vụ/màn hình"),
    _("Mục đích"),
    _("Số lượt truy cập"),
)


@permission_required_view(Perm.ACCESS_LOG_SUPERVISE)
@require_GET
def volumes_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    form = _volume_form(request)
    if not form.is_valid():
        return render(request, "exchange/supervision/volumes.html", {"form": form}, status=400)
    data = form.cleaned_data

    def rows() -> Iterator[list[Any]]:
        describer = Describer()
        for row in supervision.volumes(
            data["start"],
            data["end"],
            granularity=data["granularity"],
            organisation=data["organisation"],
            channel=data["channel"],
        ):
            yield [
                row.bucket.isoformat()
                if data["granularity"] == supervision.DAY
                else row.bucket.strftime("%Y-%m"),
                row.organisation,
                describer.organisation(row.organisation),
                row.view,
                row.purpose,
                row.count,
            ]

    response = StreamingHttpResponse(
        csv_lines(VOLUME_HEADER, rows()), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="luot-truy-cap-du-lieu.csv"'
    return response


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Ngày kiểm tra"),
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )

    def clean_day(self) -> dt.date:
        day: dt.date = self.cleaned_data["day"]
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise forms.ValidationError(
                _("Năm phải từ %(min)d đến %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR}
            )
        return day


@permission_required_view(Perm.ACCESS_LOG_SUPERVISE)
@require_GET
def anomaly_list(request: HttpRequest) -> HttpResponse:
    form = DayForm({"day": request.GET.get("day") or timezone.localdate().isoformat()})
    if not form.is_valid():
        return render(request, "exchange/supervision/anomalies.html", {"form": form}, status=400)
    day = form.cleaned_data["day"]
    findings = anomalies.run_all(day)
    describer = Describer()
    describer.prime(f.organisation for f in findings)
    rows = [
        {
            "finding": f,
            "organisation": describer.organisation(f.organisation),
            "organisations": [describer.organisation(o) for o in f.detail.get("organisations", [])],
            "query": urlencode(f.params()),
        }
        for f in findings
    ]
    return render(
        request,
        "exchange/supervision/anomalies.html",
        {
            "form": form,
            "day": day,
            "rows": rows,
            "rules": anomalies.RULE_LABELS,
            "thresholds": {
                "factor": anomalies.VOLUME_FACTOR,
                "minimum": anomalies.VOLUME_MINIMUM,
                "baseline_days": anomalies.BASELINE_DAYS,
                "run": anomalies.SEQUENTIAL_RUN,
                "members": anomalies.MANY_MEMBERS,
                "members_days": anomalies.MANY_MEMBERS_DAYS,
                "off_hours": anomalies.OFF_HOURS_THRESHOLD,
                "work_start": anomalies.WORK_START_HOUR,
                "work_end": anomalies.WORK_END_HOUR,
            },
        },
    )


def _cursor(raw: str | None) -> int | None:
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


@permission_required_view(Perm.ACCESS_LOG_SUPERVISE)
@require_GET
def finding_entries(request: HttpRequest) -> HttpResponse:
    """The entries behind one finding, newest first; the persons shown are logged."""
    finding = anomalies.from_params(request.GET.dict())  # NotFound → 404
    qs = finding.entries().select_related("person")
    before = _cursor(request.GET.get("before"))
    if before is not None:
        qs = qs.filter(id__lt=before)
    page = list(qs.order_by("-id")[: FINDING_PAGE_SIZE + 1])
    entries = page[:FINDING_PAGE_SIZE]
    # The officer's read is logged on each person shown, hidden from the citizen as long
    # as the latest still-hidden entry shown of that person (an investigation's read
    # must not surface through its supervision).
    hidden: dict[int, dt.date | None] = {}
    for e in entries:
        known = hidden.get(e.person_id)
        hidden[e.person_id] = max(
            (d for d in (known, e.hidden_until) if d is not None), default=None
        )
    by_date: dict[dt.date | None, list[int]] = {}
    for person_id, until in hidden.items():
        by_date.setdefault(until, []).append(person_id)
    for until, person_ids in by_date.items():
        log_access(
            request.user,
            person_ids=person_ids,
            channel=Channel.UI,
            view=anomalies.SUPERVISION_VIEW,
            fields=FINDING_FIELDS,
            purpose=anomalies.SUPERVISION_PURPOSE,
            hidden_until=until,
        )
    describer = Describer()
    rows = describer.rows(entries)
    for row in rows:
        person = row["entry"].person if row["entry"].person_id else None
        row["id_number"] = person.id_number if person is not None else ""
    return render(
        request,
        "exchange/supervision/finding.html",
        {
            "finding": finding,
            "organisation": describer.organisation(finding.organisation),
            "rows": rows,
            "query": urlencode(finding.params()),
            "older": entries[-1].pk if len(page) > FINDING_PAGE_SIZE else None,
            "first_page": before is None,
        },
    )
