"""Volumes of the access log for the data-protection officer (issue 6, part 8).

How many accesses each organisation made, per service (the entry's ``view``) and purpose,
per day or per month (local time, Asia/Ho_Chi_Minh), over a bounded period. One GROUP BY
over the period's rows; on PostgreSQL the monthly partitions of the log keep the scan to
the months asked for. No person appears in a volume: reading volumes is not an access to
anyone's data and is not logged. The entries behind an anomaly are (``anomalies``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import AccessLogEntry
from congdan.core.errors import ValidationFailed

DAY = "day"
MONTH = "month"
GRANULARITIES = (DAY, MONTH)
# The longest period one request may group: a year by day, five years by month.
MAX_DAYS = {DAY: 366, MONTH: 5 * 366}
# Rows the page shows of the detailed table (the CSV export has them all).
TABLE_LIMIT = 1000


@dataclass(frozen=True)
class VolumeRow:
    bucket: dt.date  # the day, or the first day of the month
    organisation: str
    view: str
    purpose: str
    count: int


def local_start(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in local time (an aware datetime)."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=timezone.get_default_timezone())


def check_period(start: dt.date, end: dt.date, granularity: str) -> None:
    if granularity not in GRANULARITIES:
        raise ValidationFailed(
            _("Chọn thống kê theo ngày hoặc theo tháng."), code="invalid", field="granularity"
        )
    if end < start:
        raise ValidationFailed(
            _("Ngày kết thúc phải sau ngày bắt đầu."), code="bad_period", field="end"
        )
    if (end - start).days + 1 > MAX_DAYS[granularity]:
        raise ValidationFailed(
            _("Khoảng thời gian quá dài (tối đa %(n)d ngày).") % {"n": MAX_DAYS[granularity]},
            code="period_too_long",
            field="start",
        )


def entries_between(
    start: dt.date, end: dt.date, *, organisation: str = "", channel: str = ""
) -> QuerySet[AccessLogEntry]:
    """Entries from local midnight of ``start`` to the end of ``end`` (inclusive)."""
    qs = AccessLogEntry.objects.filter(
        at__gte=local_start(start), at__lt=local_start(end + dt.timedelta(days=1))
    )
    if organisation:
        qs = qs.filter(organisation=organisation)
    if channel:
        qs = qs.filter(channel=channel)
    return qs


def _trunc(granularity: str) -> TruncMonth | TruncDate:
    """The local day (or the month's first day) of an entry."""
    tz = timezone.get_default_timezone()
    return TruncMonth("at", tzinfo=tz) if granularity == MONTH else TruncDate("at", tzinfo=tz)


def _as_date(value: dt.date | dt.datetime) -> dt.date:
    if isinstance(value, dt.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.date()
    return value


def volumes(
    start: dt.date,
    end: dt.date,
    *,
    granularity: str = DAY,
    organisation: str = "",
    channel: str = "",
) -> Iterator[VolumeRow]:
    """Counts per bucket × organisation × service × purpose, in that order."""
    check_period(start, end, granularity)
    qs = (
        entries_between(start, end, organisation=organisation, channel=channel)
        .annotate(bucket=_trunc(granularity))
        .values("bucket", "organisation", "view", "purpose")
        .annotate(n=Count("id"))
        .order_by("bucket", "organisation", "view", "purpose")
    )
    for row in qs.iterator(chunk_size=2000):
        yield VolumeRow(
            bucket=_as_date(row["bucket"]),
            organisation=row["organisation"],
            view=row["view"],
            purpose=row["purpose"],
            count=row["n"],
        )


def totals_by_bucket(
    start: dt.date,
    end: dt.date,
    *,
    granularity: str = DAY,
    organisation: str = "",
    channel: str = "",
) -> list[tuple[dt.date, int]]:
    """Total per day (or month), every bucket of the period present (zero when empty)."""
    check_period(start, end, granularity)
    qs = (
        entries_between(start, end, organisation=organisation, channel=channel)
        .annotate(bucket=_trunc(granularity))
        .values("bucket")
        .annotate(n=Count("id"))
        .order_by("bucket")
    )
    counts = {_as_date(row["bucket"]): int(row["n"]) for row in qs}
    return [(bucket, counts.get(bucket, 0)) for bucket in buckets(start, end, granularity)]


def buckets(start: dt.date, end: dt.date, granularity: str) -> list[dt.date]:
    if granularity == MONTH:
        out = []
        month = start.replace(day=1)
        while month <= end:
            out.append(month)
            month = (month + dt.timedelta(days=32)).replace(day=1)
        return out
    return [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]


def totals_by_organisation(
    start: dt.date, end: dt.date, *, organisation: str = "", channel: str = ""
) -> list[tuple[str, int]]:
    """Total per organisation over the period, largest first."""
    qs = (
        entries_between(start, end, organisation=organisation, channel=channel)
        .values("organisation")
        .annotate(n=Count("id"))
        .order_by("-n", "organisation")
    )
    return [(row["organisation"], int(row["n"])) for row in qs]


@dataclass(frozen=True)
class Bar:
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    """A bar chart drawn server-side as SVG (coordinates in the view box)."""

    width: int
    height: int
    bars: list[Bar]
    max_count: int
    ticks: list[tuple[float, int]]  # (y, value) of the horizontal grid lines


CHART_WIDTH = 720
CHART_HEIGHT = 240
CHART_LEFT = 56  # room for the axis labels
CHART_BOTTOM = 24


def bar_chart(series: list[tuple[str, int]]) -> Chart:
    plot_w = CHART_WIDTH - CHART_LEFT - 8
    plot_h = CHART_HEIGHT - CHART_BOTTOM - 8
    top = max((count for _label, count in series), default=0)
    scale_max = max(top, 1)
    slot = plot_w / max(len(series), 1)
    gap = min(slot * 0.2, 4.0)
    bars = []
    for index, (label, count) in enumerate(series):
        height = plot_h * count / scale_max
        bars.append(
            Bar(
                label=label,
                count=count,
                x=round(CHART_LEFT + index * slot + gap / 2, 2),
                y=round(8 + plot_h - height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(height, 2),
            )
        )
    ticks = [
        (round(8 + plot_h - plot_h * step / 4, 2), round(scale_max * step / 4)) for step in range(5)
    ]
    return Chart(CHART_WIDTH, CHART_HEIGHT, bars, top, ticks)
