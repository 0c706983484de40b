"""The citizen's data tracker, "Ai đã xem dữ liệu của tôi" (/me/data/access/; issue 6,
part 7): every access-log entry about the citizen's own person, from every channel
(officers, API, OpenID Connect, wallet, member organisations), newest first.

* Only the logged-in citizen's own person: the person comes from their e-ID account,
  never from the request.
* Entries hidden under a legal basis (``hidden_until`` after today, an investigation)
  are neither shown, counted nor exported; from that date on they appear.
* Paged by keyset on ``id`` (``?before=<id>`` / ``?after=<id>``): the log is huge.
* Filters: date range (local days), organisation, channel; the CSV export has every
  row the filters select (UTF-8 with BOM, for Excel).
* Reading one's own log is not itself logged.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from congdan.audit.models import AccessLogEntry, Channel
from congdan.exchange.supervision import local_start
from congdan.exchange.views import Describer, csv_lines
from congdan.identity.decorators import citizen_required
from congdan.registry.models import Person

PAGE_SIZE = 50
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
MIN_YEAR = 1970
MAX_YEAR = 2999


def _person(request: HttpRequest) -> Person:
    return request.eid_account.person  # type: ignore[attr-defined]  # set by citizen_required


def visible_entries(person_id: int, today: dt.date | None = None) -> QuerySet[AccessLogEntry]:
    """The entries about ``person_id`` the citizen may see today."""
    day = today or timezone.localdate()
    return AccessLogEntry.objects.filter(person_id=person_id).filter(
        Q(hidden_until__isnull=True) | Q(hidden_until__lte=day)
    )


class TrackerFilterForm(forms.Form):
    date_from = forms.DateField(
        label=_("Từ ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    date_to = forms.DateField(
        label=_("Đến ngày"),
        required=False,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    organisation = forms.ChoiceField(label=_("Cơ quan, tổ chức"), required=False)
    channel = forms.ChoiceField(
        label=_("Kênh truy cập"),
        required=False,
        choices=[("", _("Tất cả")), *Channel.choices],
    )

    def __init__(self, *args: Any, organisations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ChoiceField)  # noqa: S101 -- declared above
        field.choices = [("", _("Tất cả")), *organisations]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("date_from", "date_to"):
            value = data.get(name)
            if value is not None and not MIN_YEAR <= value.year <= MAX_YEAR:
                self.add_error(
                    name,
                    _("Năm phải từ %(min)d đến %(max)d.") % {"min": MIN_YEAR, "max": MAX_YEAR},
                )
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _("Ngày kết thúc phải sau ngày bắt đầu."))
        return data

    def apply(self, qs: QuerySet[AccessLogEntry]) -> QuerySet[AccessLogEntry]:
        data = self.cleaned_data
        if data.get("date_from"):
            qs = qs.filter(at__gte=local_start(data["date_from"]))
        if data.get("date_to"):
            qs = qs.filter(at__lt=local_start(data["date_to"] + dt.timedelta(days=1)))
        if data.get("organisation"):
            qs = qs.filter(organisation=data["organisation"])
        if data.get("channel"):
            qs = qs.filter(channel=data["channel"])
        return qs


def _form(request: HttpRequest, person_id: int, describer: Describer) -> TrackerFilterForm:
    codes = sorted(
        set(
            visible_entries(person_id)
            .exclude(organisation="")
            .values_list("organisation", flat=True)
            .distinct()
        )
    )
    describer.prime(codes)
    organisations = sorted(
        ((code, describer.organisation(code)) for code in codes), key=lambda c: c[1].casefold()
    )
    params = {k: v for k, v in request.GET.items() if k in TrackerFilterForm.base_fields}
    return TrackerFilterForm(params or None, organisations=organisations)


def _cursor(raw: str | None) -> int | None:
    if raw and raw.isascii() and raw.isdigit() and len(raw) <= 18:
        return int(raw)
    return None


def _filter_query(form: TrackerFilterForm) -> str:
    data = form.data
    return urlencode({k: data[k] for k in TrackerFilterForm.base_fields if data.get(k)})


@never_cache
@require_GET
@citizen_required
def tracker(request: HttpRequest) -> HttpResponse:
    person = _person(request)
    describer = Describer()
    form = _form(request, person.pk, describer)
    rows: list[dict[str, Any]] = []
    newer = older = None
    filtered = form.is_bound
    valid = not form.is_bound or form.is_valid()
    if valid:
        qs = form.apply(visible_entries(person.pk)) if form.is_bound else visible_entries(person.pk)
        before, after = _cursor(request.GET.get("before")), _cursor(request.GET.get("after"))
        if after is not None:
            page = list(qs.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
            more_newer = len(page) > PAGE_SIZE
            entries = list(reversed(page[:PAGE_SIZE]))
            newer = entries[0].pk if entries and more_newer else None
            older = entries[-1].pk if entries else None
        else:
            if before is not None:
                qs = qs.filter(id__lt=before)
            page = list(qs.order_by("-id")[: PAGE_SIZE + 1])
            entries = page[:PAGE_SIZE]
            older = entries[-1].pk if len(page) > PAGE_SIZE else None
            newer = entries[0].pk if entries and before is not None else None
        rows = describer.rows(entries)
    query = _filter_query(form) if filtered and valid else ""
    return render(
        request,
        "exchange/tracker.html",
        {
            "form": form,
            "rows": rows,
            "filtered": filtered,
            "newer": newer,
            "older": older,
            "query": query,
            "export_query": query,
        },
        status=200 if valid else 400,
    )


def _export_rows(qs: QuerySet[AccessLogEntry]) -> Iterator[list[Any]]:
    describer = Describer()
    batch: list[AccessLogEntry] = []
    for entry in qs.order_by("-id").iterator(chunk_size=2000):
        batch.append(entry)
        if len(batch) >= 2000:
            yield from _described(describer, batch)
            batch = []
    yield from _described(describer, batch)


def _described(describer: Describer, batch: list[AccessLogEntry]) -> Iterator[list[Any]]:
    for row in describer.rows(batch):
        local = timezone.localtime(row["at"])
        yield [
            local.strftime("%Y-%m-%d %H:%M:%S"),
            row["organisation"],
            row["actor"],
            row["channel"],
            row["service"],
            "; ".join(row["fields"]),
            row["purpose"],
            row["legal_basis"],
            row["outcome_label"],
        ]


EXPORT_HEADER = (
    _("Thời điểm"),
    _("Cơ quan, tổ chức"),
    _("Người/hệ thống truy cập"),
    _("Kênh"),
    _("Dịch vụ/màn hình"),
    _("Trường dữ liệu"),
    _("Mục đích"),
    _("Căn cứ pháp lý"),
    _("Kết quả"),
)


@never_cache
@require_GET
@citizen_required
def tracker_export(request: HttpRequest) -> HttpResponse | StreamingHttpResponse:
    person = _person(request)
    form = _form(request, person.pk, Describer())
    if form.is_bound and not form.is_valid():
        return render(
            request,
            "exchange/tracker.html",
            {"form": form, "rows": [], "filtered": True},
            status=400,
        )
    qs = form.apply(visible_entries(person.pk)) if form.is_bound else visible_entries(person.pk)
    response = StreamingHttpResponse(
        csv_lines(EXPORT_HEADER, _export_rows(qs)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="nhat-ky-truy-cap-du-lieu.csv"'
    return response
