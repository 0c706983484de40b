"""Anomaly rules over the access log, for the data-protection officer (issue 6, part 8).

Each rule looks at a bounded window (one local day, or seven days for the many-members
rule), counts with one GROUP BY in the database (never loading the window's rows), and
returns ``Finding``s; ``Finding.entries()`` is the queryset of the entries behind one,
which the supervision page lists (and access-logs, since it shows whose data was read).

=================  ==========================================================================
rule               flags
=================  ==========================================================================
``volume``         an organisation's count on a day > ``VOLUME_FACTOR`` × its mean daily
                   count over the previous ``BASELINE_DAYS`` days, and > ``VOLUME_MINIMUM``
``sequential``     an organisation reading, within a day, a run of ≥ ``SEQUENTIAL_RUN``
                   persons whose ID numbers are consecutive (sorted, each 1 above the last)
``many_members``   one person read by ≥ ``MANY_MEMBERS`` distinct organisations within
                   ``MANY_MEMBERS_DAYS`` days
``off_hours``      more than ``OFF_HOURS_THRESHOLD`` reads by an organisation on a day outside
                   working hours: before 07:00 or from 19:00 local time on a working day,
                   all day on a weekend or public holiday (``core.calendar``)
=================  ==========================================================================

Entries without an organisation (the system, anonymous verifiers) and the officer's own
supervision reads (channel ``ui``, view ``supervision``) are left out of every rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.db.models import BigIntegerField, Count, Q, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import AccessLogEntry, Channel
from congdan.core.calendar import is_working_day
from congdan.core.errors import NotFound
from congdan.exchange.supervision import local_start

VOLUME_FACTOR = 3.0
VOLUME_MINIMUM = 100
BASELINE_DAYS = 28
SEQUENTIAL_RUN = 20
MANY_MEMBERS = 5
MANY_MEMBERS_DAYS = 7
OFF_HOURS_THRESHOLD = 50
# Days a finding may name (a local midnight far outside overflows a datetime).
MIN_YEAR = 1970
MAX_YEAR = 2999
WORK_START_HOUR = 7
WORK_END_HOUR = 19

# The supervision pages log their own reads under this view and purpose.
SUPERVISION_VIEW = "supervision"
SUPERVISION_PURPOSE = "data_protection_supervision"

VOLUME = "volume"
SEQUENTIAL = "sequential"
MANY_MEMBERS_RULE = "many_members"
OFF_HOURS = "off_hours"

RULE_LABELS: dict[str, Any] = {
    VOLUME: _("Khối lượng truy cập cao bất thường so với mức thường ngày"),
    SEQUENTIAL: _("Tra cứu lần lượt các số định danh liên tiếp"),
    MANY_MEMBERS_RULE: _("Một công dân bị nhiều tổ chức tra cứu"),
    OFF_HOURS: _("Tra cứu ngoài giờ làm việc vượt ngưỡng"),
}


def _base() -> QuerySet[AccessLogEntry]:
    return AccessLogEntry.objects.exclude(organisation="").exclude(
        channel=Channel.UI, view=SUPERVISION_VIEW
    )


def _day_window(day: dt.date) -> Q:
    return Q(at__gte=local_start(day), at__lt=local_start(day + dt.timedelta(days=1)))


def _off_hours_window(day: dt.date) -> Q:
    start = local_start(day)
    end = local_start(day + dt.timedelta(days=1))
    if not is_working_day(day):
        return Q(at__gte=start, at__lt=end)
    morning = start + dt.timedelta(hours=WORK_START_HOUR)
    evening = start + dt.timedelta(hours=WORK_END_HOUR)
    return Q(at__gte=start, at__lt=morning) | Q(at__gte=evening, at__lt=end)


@dataclass(frozen=True)
class Finding:
    """One anomaly: which rule, which day, whose (an organisation or a person), how many
    entries, and the rule's figures (``detail``)."""

    rule: str
    day: dt.date
    count: int
    organisation: str = ""
    person_id: int | None = None
    first: str = ""  # ID numbers bounding a sequential run
    last: str = ""
    detail: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> Any:
        return RULE_LABELS[self.rule]

    def params(self) -> dict[str, str]:
        """The query string naming this finding (``from_params`` reads it back)."""
        out = {"rule": self.rule, "day": self.day.isoformat()}
        if self.organisation:
            out["org"] = self.organisation
        if self.person_id is not None:
            out["person"] = str(self.person_id)
        if self.first:
            out["first"] = self.first
            out["last"] = self.last
        return out

    def entries(self) -> QuerySet[AccessLogEntry]:
        """The entries behind the finding (unordered)."""
        qs = _base()
        if self.rule == VOLUME:
            return qs.filter(_day_window(self.day), organisation=self.organisation)
        if self.rule == SEQUENTIAL:
            return qs.filter(
                _day_window(self.day),
                organisation=self.organisation,
                person__id_number__gte=self.first,
                person__id_number__lte=self.last,
            )
        if self.rule == MANY_MEMBERS_RULE:
            return qs.filter(
                at__gte=local_start(self.day - dt.timedelta(days=MANY_MEMBERS_DAYS - 1)),
                at__lt=local_start(self.day + dt.timedelta(days=1)),
                person_id=self.person_id or 0,
            )
        return qs.filter(_off_hours_window(self.day), organisation=self.organisation)


def from_params(params: Mapping[str, str]) -> Finding:
    """The finding a query string names (``Finding.params``); malformed: NotFound."""
    missing = NotFound(_("Không tìm thấy dấu hiệu bất thường này."), code="finding_not_found")
    rule = params.get("rule", "")
    if rule not in RULE_LABELS:
        raise missing
    try:
        day = dt.date.fromisoformat(params.get("day", ""))
    except ValueError as exc:
        raise missing from exc
    if not MIN_YEAR <= day.year <= MAX_YEAR:
        raise missing
    org = params.get("org", "")
    if rule == MANY_MEMBERS_RULE:
        person = params.get("person", "")
        if not (person.isascii() and person.isdigit() and len(person) <= 18):
            raise missing
        return Finding(rule, day, 0, person_id=int(person))
    if not org or len(org) > 80 or not org.isprintable():
        raise missing
    if rule == SEQUENTIAL:
        first, last = params.get("first", ""), params.get("last", "")
        for number in (first, last):
            if not (len(number) == 12 and number.isascii() and number.isdigit()):
                raise missing
        return Finding(rule, day, 0, organisation=org, first=first, last=last)
    return Finding(rule, day, 0, organisation=org)


# --- the rules ------------------------------------------------------------------------


def volume_spikes(
    day: dt.date,
    *,
    factor: float = VOLUME_FACTOR,
    minimum: int = VOLUME_MINIMUM,
    baseline_days: int = BASELINE_DAYS,
) -> list[Finding]:
    """Organisations whose count on ``day`` is above ``minimum`` and above ``factor`` ×
    their mean daily count over the ``baseline_days`` days before (days without entries
    count as zero; a new organisation's baseline is zero)."""
    today = dict(
        _base()
        .filter(_day_window(day))
        .values_list("organisation")
        .annotate(n=Count("id"))
        .filter(n__gt=minimum)
        .values_list("organisation", "n")
    )
    if not today:
        return []
    baseline = dict(
        _base()
        .filter(
            at__gte=local_start(day - dt.timedelta(days=baseline_days)),
            at__lt=local_start(day),
            organisation__in=list(today),
        )
        .values_list("organisation")
        .annotate(n=Count("id"))
        .values_list("organisation", "n")
    )
    found = []
    for org, count in sorted(today.items()):
        mean = baseline.get(org, 0) / baseline_days
        if count > factor * mean:
            found.append(
                Finding(
                    VOLUME,
                    day,
                    count,
                    organisation=org,
                    detail={"mean": round(mean, 1), "factor": factor, "minimum": minimum},
                )
            )
    return found


def sequential_scans(day: dt.date, *, min_run: int = SEQUENTIAL_RUN) -> list[Finding]:
    """Runs of consecutive ID numbers one organisation read on ``day``.

    Gaps and islands: over the distinct (organisation, number) pairs of the day, a
    number minus its rank within the organisation is constant along a run of
    consecutive numbers; grouping by it gives each run's bounds and length.
    """
    seen = (
        _base()
        .filter(_day_window(day))
        .annotate(num=Cast("person__id_number", BigIntegerField()))
        .values("organisation", "num")
        .distinct()
    )
    inner, params = seen.query.sql_with_params()
    sql = (
        "SELECT org, MIN(num), MAX(num), COUNT(*) FROM ("  # noqa: S608 -- ORM-built subquery, parameters bound
        "  SELECT org, num, num - ROW_NUMBER() OVER (PARTITION BY org ORDER BY num) AS grp"
        f"  FROM (SELECT organisation AS org, num FROM ({inner}) AS seen) AS pairs"
        ") AS runs GROUP BY org, grp HAVING COUNT(*) >= %s ORDER BY org, MIN(num)"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, min_run])
        rows = cursor.fetchall()
    return [
        Finding(
            SEQUENTIAL,
            day,
            int(length),
            organisation=org,
            first=f"{int(low):012d}",
            last=f"{int(high):012d}",
            detail={"run": int(length), "min_run": min_run},
        )
        for org, low, high, length in rows
    ]


def many_members(
    day: dt.date, *, min_orgs: int = MANY_MEMBERS, window_days: int = MANY_MEMBERS_DAYS
) -> list[Finding]:
    """Persons read by ≥ ``min_orgs`` distinct organisations in the ``window_days`` days
    ending with ``day``."""
    window = Q(
        at__gte=local_start(day - dt.timedelta(days=window_days - 1)),
        at__lt=local_start(day + dt.timedelta(days=1)),
    )
    rows = list(
        _base()
        .filter(window)
        .values("person_id")
        .annotate(orgs=Count("organisation", distinct=True), n=Count("id"))
        .filter(orgs__gte=min_orgs)
        .order_by("-orgs", "person_id")
    )
    if not rows:
        return []
    names: dict[int, list[str]] = {}
    pairs = (
        _base()
        .filter(window, person_id__in=[row["person_id"] for row in rows])
        .values_list("person_id", "organisation")
        .distinct()
        .order_by("person_id", "organisation")
    )
    for person_id, org in pairs:
        names.setdefault(person_id, []).append(org)
    return [
        Finding(
            MANY_MEMBERS_RULE,
            day,
            int(row["n"]),
            person_id=row["person_id"],
            detail={
                "organisations": names.get(row["person_id"], []),
                "distinct": int(row["orgs"]),
                "window_days": window_days,
            },
        )
        for row in rows
    ]


def off_hours(day: dt.date, *, threshold: int = OFF_HOURS_THRESHOLD) -> list[Finding]:
    """Organisations with more than ``threshold`` reads outside working hours on ``day``."""
    rows = (
        _base()
        .filter(_off_hours_window(day))
        .values_list("organisation")
        .annotate(n=Count("id"))
        .filter(n__gt=threshold)
        .values_list("organisation", "n")
        .order_by("organisation")
    )
    return [
        Finding(
            OFF_HOURS,
            day,
            int(n),
            organisation=org,
            detail={"threshold": threshold, "working_day": is_working_day(day)},
        )
        for org, n in rows
    ]


RULES: dict[str, Callable[[dt.date], list[Finding]]] = {
    VOLUME: volume_spikes,
    SEQUENTIAL: sequential_scans,
    MANY_MEMBERS_RULE: many_members,
    OFF_HOURS: off_hours,
}


def run_all(day: dt.date) -> list[Finding]:
    """Every rule's findings for ``day`` with the default thresholds."""
    found: list[Finding] = []
    for rule in RULES.values():
        found.extend(rule(day))
    return found
