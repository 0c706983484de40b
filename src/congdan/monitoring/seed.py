"""A year of synthetic monitoring data for one province (``congdan seed_monitoring``).

On top of the seeded population (``congdan seed``) this writes, deterministically for a
given ``--seed`` and day, in one transaction, in batches (``bulk_create``, or plain
INSERTs for the largest tables: dossier events and the access log):

1. e-ID registrations: a commune-dependent share (40–90 %) of the adults without an
   account get a level-1 account (a ``core.User`` with an unusable password, never
   hashed), some of them level 2; about a third registered in the year before the
   window, the rest spread over it.
2. Dossiers (codes ``S<province><yymmdd><serial>``): eight procedures of the catalogue
   with their legal deadline in working days, fee and agency; each commune has its own
   online share (10–85 % on average, rising through the year), on-time share and
   rating level; working days busier than weekends; most decided, the recent ones and a
   few stuck ones still open (some overdue). Each has the ``DossierEvent`` rows of its
   transitions and a filled-in form (what the registry prefills, plausible answers for
   the rest), so an officer can process one still open like any other. Procedures about
   another person (a child's card, a death) are not seeded. Paper dossiers counted at
   the counters of communes with a low online share (``PaperDossierCount``).
3. Lookups in the access log by ministries, a bank and a telecom (channel ``exchange``),
   weekday-heavy, a few thousand a month, only older than 30 days (the exchange demo
   seeds the last 30 days itself).
4. Working groups (province, each commune, two villages per commune) with members, and
   about 55 programme tasks with legal sources, owner agencies, deadlines, statuses and
   progress notes.

A second run for the same province adds nothing: the run leaves a change record
(action ``monitoring_seed`` on the province) and is skipped when one exists. At the end
the daily facts of the window are refreshed (``monitoring.facts.refresh_range``).
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.conf import settings
from django.db import connection, transaction
from django.db.models import DateTimeField, Model
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.audit.models import Channel as LogChannel
from congdan.audit.services import record_change
from congdan.core.calendar import add_working_days, is_working_day
from congdan.core.models import Agency, AgencyKind, Position, User
from congdan.core.permissions import Role
from congdan.geo.models import AdministrativeUnit, Level, Scheme
from congdan.identity.models import AccountStatus, EidAccount, EidLevel
from congdan.monitoring.models import (
    GroupMember,
    GroupRole,
    PaperDossierCount,
    ProgrammeTask,
    TaskNote,
    TaskStatus,
    WorkingGroup,
)
from congdan.monitoring.models import Level as TaskLevel
from congdan.payments.fees import FeeContext, compute_fee
from congdan.procedures.models import Channel, Dossier, DossierEvent, DossierStatus
from congdan.procedures.specs import ProcedureSpec, catalogue
from congdan.registry.models import (
    HouseholdMembership,
    Person,
    RecordStatus,
    Relationship,
    VitalStatus,
)

SEED_ACTION = "monitoring_seed"
CODE_PREFIX = "S"  # seeded dossier codes: S<province><yymmdd><serial>
BATCH = 2000  # rows per bulk_create
INSERT_ROWS = 10_000  # rows per executemany
STEP_OF: dict[str, int] = {DossierStatus.SUBMITTED: 0, DossierStatus.RECEIVED: 1}
REJECTION = "Hồ sơ không đủ điều kiện theo quy định"
REQUEST_ID = "monitoring-seed"  # marks the seeded lookups in the access log
ADULT_AGE = 14
DOSSIERS_PER_PERSON_YEAR = 0.45
LOOKUPS_PER_WORKING_DAY = 130  # across organisations, before growth
EXCHANGE_DEMO_DAYS = 30  # congdan.exchange.demo.seed_traffic covers these

# Procedure code → relative weight in the mix (procedures missing from the catalogue are
# left out; the ones about another person — a child's insurance card, a death, a funeral
# allowance, a removal — are not seeded: their subject would have to be found first).
PROCEDURE_MIX: dict[str, int] = {
    "accommodation_notification": 20,
    "temporary_residence_registration": 18,
    "marital_status_certificate": 14,
    "permanent_residence_registration": 12,
    "judicial_record_certificate": 10,
    "birth_registration": 8,
    "driving_licence_renewal": 8,
    "temporary_absence_declaration": 3,
}
PAPER_PROCEDURES = (
    "temporary_residence_registration",
    "permanent_residence_registration",
    "marital_status_certificate",
    "birth_registration",
)
# A child of the applicant's, related to the head of household (as procedures.prefill).
CHILD_OF: dict[str, str] = {
    Relationship.HEAD: Relationship.CHILD,
    Relationship.SPOUSE: Relationship.CHILD,
    Relationship.CHILD: Relationship.GRANDCHILD,
    Relationship.CHILD_IN_LAW: Relationship.GRANDCHILD,
}

T = TypeVar("T")


@dataclass
class SeedStats:
    province_code: str
    skipped: bool = False
    created: Counter[str] = field(default_factory=Counter)
    start: dt.date | None = None
    end: dt.date | None = None
    facts_refreshed: bool = False
    generate_seconds: float = 0.0  # writing the raw data
    seconds: float = 0.0  # in all, with the refresh of the facts


class SeedError(ValueError):
    pass


# --- small helpers ------------------------------------------------------------------------


def _bulk(model: type[Model], rows: list[Any], stats: SeedStats, label: str) -> list[Any]:
    """Insert in batches; the rows come back with their primary keys."""
    for start in range(0, len(rows), BATCH):
        model._default_manager.bulk_create(rows[start : start + BATCH])
    stats.created[label] += len(rows)
    return rows


def _insert(model: type[Model], names: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Plain ``INSERT``s with ``executemany`` for rows whose keys are not needed back
    (several times faster than ``bulk_create`` for hundreds of thousands of rows).
    Date-times are adapted for the database; other values go as they are."""
    by_name = {f.name: f for f in model._meta.concrete_fields}
    fields = [by_name[name] for name in names]
    quote = connection.ops.quote_name
    # Table and column names come from the model; the values are parameters.
    table = quote(model._meta.db_table)
    columns = ", ".join(quote(str(f.column)) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608 -- see above
    moments = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        for start in range(0, len(rows), INSERT_ROWS):
            batch = []
            for row in rows[start : start + INSERT_ROWS]:
                values = list(row)
                for i in moments:
                    values[i] = adapt(values[i])
                batch.append(values)
            cursor.executemany(sql, batch)


def _poisson(rng: random.Random, lam: float) -> int:
    """A Poisson draw (Knuth for small means, a rounded normal for large ones)."""
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit = math.exp(-lam)
    k, p = 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


class _Clock:
    """Local moments, and working days counted from a day (cached: the calendar loops)."""

    def __init__(self) -> None:
        self.tz = timezone.get_default_timezone()
        self._due: dict[tuple[dt.date, int], dt.date] = {}

    def at(self, day: dt.date, hour: float) -> dt.datetime:
        start = dt.datetime(day.year, day.month, day.day, tzinfo=self.tz)
        return start + dt.timedelta(seconds=int(hour * 3600))

    def add(self, day: dt.date, days: int) -> dt.date:
        key = (day, days)
        if key not in self._due:
            self._due[key] = add_working_days(day, days)
        return self._due[key]


# --- units, agencies, officers --------------------------------------------------------------


@dataclass
class CommuneProfile:
    unit: AdministrativeUnit
    online: float  # average online share over the window
    on_time: float
    rating: float  # mean rating
    eid: float  # share of adults with an account at the end
    level2: float  # share of accounts at level 2
    paper: float  # paper dossiers per electronic counter dossier (0: none counted)


def _profiles(rng: random.Random, communes: Sequence[AdministrativeUnit]) -> list[CommuneProfile]:
    """Evenly spread online shares (10 %–85 %) dealt to the communes at random, with
    the other figures loosely following: a commune that files online also registers
    e-IDs and decides on time a little more often."""
    n = len(communes)
    shares = [0.10 + 0.75 * i / (n - 1) if n > 1 else 0.45 for i in range(n)]
    rng.shuffle(shares)
    out = []
    for unit, online in zip(communes, shares, strict=True):
        lead = (online - 0.10) / 0.75  # 0 … 1
        out.append(
            CommuneProfile(
                unit=unit,
                online=online,
                on_time=min(0.99, 0.72 + 0.18 * lead + rng.uniform(-0.04, 0.08)),
                rating=min(4.8, 3.3 + 1.2 * lead + rng.uniform(-0.3, 0.3)),
                eid=min(0.90, max(0.40, 0.40 + 0.45 * lead + rng.uniform(-0.05, 0.05))),
                level2=rng.uniform(0.45, 0.8),
                paper=round(max(0.0, (0.35 - online) * 2.5), 3),
            )
        )
    return out


@dataclass
class Agencies:
    province: dict[str, Agency]  # kind → provincial agency
    commune: dict[tuple[int, str], Agency]  # (commune id, kind) → commune agency


PROVINCE_AGENCIES = (
    # code prefix, kind, name
    ("UBND-T", AgencyKind.PEOPLES_COMMITTEE, "Ủy ban nhân dân {name}"),
    ("CA-T", AgencyKind.POLICE, "Công an {name}"),
    ("STP-T", AgencyKind.JUSTICE, "Sở Tư pháp {name}"),
    ("BHXH", AgencyKind.SOCIAL_INSURANCE, "Bảo hiểm xã hội {name}"),
    ("SXD-T", AgencyKind.TRANSPORT, "Sở Xây dựng {name}"),
    ("SKHCN-T", AgencyKind.OTHER, "Sở Khoa học và Công nghệ {name}"),
    ("SYT-T", AgencyKind.OTHER, "Sở Y tế {name}"),
)
COMMUNE_AGENCIES = (
    ("UB-X", AgencyKind.PEOPLES_COMMITTEE, "UBND {name}"),
    ("CA-X", AgencyKind.POLICE, "Công an {name}"),
    # The same code and name as ``congdan demo_accounts`` gives the commune's justice.
    ("TP-X", AgencyKind.JUSTICE, "UBND {name} (tư pháp - hộ tịch)"),
)


def ensure_agencies(
    province: AdministrativeUnit, communes: Sequence[AdministrativeUnit], stats: SeedStats
) -> tuple[Agencies, dict[str, Agency]]:
    """The province's and communes' agencies, made when missing (existing rows are left
    as they are). Also returns the provincial ones by code prefix."""
    wanted: dict[str, tuple[str, str, AdministrativeUnit]] = {}
    for prefix, kind, name in PROVINCE_AGENCIES:
        wanted[f"{prefix}-{province.code}"] = (kind, name.format(name=province.name), province)
    for unit in communes:
        for prefix, kind, name in COMMUNE_AGENCIES:
            wanted[f"{prefix}-{unit.code}"] = (kind, name.format(name=unit.name), unit)
    found = {a.code: a for a in Agency.objects.filter(code__in=list(wanted))}
    missing = [
        Agency(code=code, name=name, kind=kind, jurisdiction=unit)
        for code, (kind, name, unit) in wanted.items()
        if code not in found
    ]
    for agency in _bulk(Agency, missing, stats, "agencies"):
        found[agency.code] = agency
    by_prefix = {prefix: found[f"{prefix}-{province.code}"] for prefix, _k, _n in PROVINCE_AGENCIES}
    provincial: dict[str, Agency] = {
        AgencyKind.PEOPLES_COMMITTEE: by_prefix["UBND-T"],
        AgencyKind.POLICE: by_prefix["CA-T"],
        AgencyKind.JUSTICE: by_prefix["STP-T"],
        AgencyKind.SOCIAL_INSURANCE: by_prefix["BHXH"],
        AgencyKind.TRANSPORT: by_prefix["SXD-T"],
    }
    local = {}
    for unit in communes:
        for prefix, kind, _name in COMMUNE_AGENCIES:
            local[(unit.pk, str(kind))] = found[f"{prefix}-{unit.code}"]
    return Agencies(province=provincial, commune=local), by_prefix


def _unusable(rng: random.Random) -> str:
    # What make_password(None) stores, drawn from the seed: "!" marks it unusable.
    return "!" + f"{rng.getrandbits(160):040x}"


def ensure_officers(
    rng: random.Random,
    province: AdministrativeUnit,
    *,
    communes: Sequence[AdministrativeUnit],
    agencies: Agencies,
    by_prefix: dict[str, Agency],
    stats: SeedStats,
) -> tuple[User, dict[int, User]]:
    """A secretary of the provincial working group (author of the task notes) and a
    one-stop-counter officer per commune (files counter dossiers, counts paper ones).
    They cannot log in (unusable passwords)."""
    secretary_name = f"to06.{province.code}"
    wanted = {f"motcua.{unit.code}": unit for unit in communes}
    found = {u.username: u for u in User.objects.filter(username__in=[*wanted, secretary_name])}
    rows = []
    if secretary_name not in found:
        rows.append(
            User(
                username=secretary_name,
                password=_unusable(rng),
                first_name="Thư ký Tổ công tác Đề án 06",
                last_name=province.name,
                role=Role.LEADER,
                agency=by_prefix["UBND-T"],
            )
        )
    for username, unit in wanted.items():
        if username not in found:
            rows.append(
                User(
                    username=username,
                    password=_unusable(rng),
                    first_name="Bộ phận một cửa",
                    last_name=unit.name,
                    role=Role.OFFICER,
                    position=Position.COUNTER,
                    agency=agencies.commune[(unit.pk, str(AgencyKind.JUSTICE))],
                )
            )
    for user in _bulk(User, rows, stats, "officers"):
        found[user.username] = user
    return found[secretary_name], {unit.pk: found[name] for name, unit in wanted.items()}


# --- the population ---------------------------------------------------------------------------


@dataclass
class Resident:
    pk: int
    commune_id: int
    birth_date: dt.date
    id_number: str
    full_name: str
    sex: str
    spouse_id: int | None
    # What the registry would prefill in a form (see ``PREFILLED``).
    household_code: str = ""
    address: str = ""
    relationship: str = ""
    spouse: Resident | None = None


@dataclass
class Account:
    person: Resident
    user_id: int
    activated_at: dt.datetime
    level2_at: dt.datetime | None
    phone: str


def _residents(province: AdministrativeUnit) -> list[Resident]:
    rows = (
        Person.objects.filter(
            residence_province=province,
            residence_commune__isnull=False,
            vital_status=VitalStatus.ALIVE,
            status=RecordStatus.ACTIVE,
        )
        .order_by("id")
        .values_list(
            "id", "residence_commune_id", "birth_date", "id_number", "full_name", "sex", "spouse_id"
        )
    )
    residents = [Resident(*row) for row in rows.iterator(chunk_size=5000)]
    by_pk = {r.pk: r for r in residents}
    for person in residents:
        partner = by_pk.get(person.spouse_id) if person.spouse_id else None
        if partner is not None:
            person.spouse = partner
            partner.spouse = partner.spouse or person
    memberships = HouseholdMembership.objects.filter(
        person__residence_province=province, until__isnull=True
    ).values_list("person_id", "household__code", "household__address__text", "relationship")
    for person_id, code, address, relationship in memberships.iterator(chunk_size=5000):
        if (member := by_pk.get(person_id)) is not None:
            member.household_code, member.address, member.relationship = code, address, relationship
    return residents


# --- 1. e-ID registrations -------------------------------------------------------------------


def seed_accounts(
    rng: random.Random,
    clock: _Clock,
    *,
    province: AdministrativeUnit,
    residents: Sequence[Resident],
    profiles: dict[int, CommuneProfile],
    start: dt.date,
    end: dt.date,
    stats: SeedStats,
) -> dict[int, list[Account]]:
    """Accounts for a commune-dependent share of adults without one; the existing
    accounts of the province's residents join the pools too. Pools by commune."""
    existing = {
        person_id: (user_id, level, activated, level2, phone)
        for person_id, user_id, level, activated, level2, phone in EidAccount.objects.filter(
            person__residence_province=province, status=AccountStatus.ACTIVE
        ).values_list("person_id", "user_id", "level", "activated_at", "level2_at", "phone")
    }
    numbers = [r.id_number for r in residents]
    taken_names: set[str] = set()
    for start_at in range(0, len(numbers), 5000):  # within SQLite's limit of parameters
        taken_names.update(
            User.objects.filter(username__in=numbers[start_at : start_at + 5000]).values_list(
                "username", flat=True
            )
        )
    span = (end - start).days + 1
    before = dt.timedelta(days=365)
    window_end = clock.at(end, 23.5)
    users: list[User] = []
    drafts: list[tuple[Resident, dt.datetime, dt.datetime | None, str]] = []
    for person in residents:
        if person.pk in existing or person.id_number in taken_names:
            continue
        if _age(person.birth_date, end) < ADULT_AGE:
            continue
        profile = profiles[person.commune_id]
        if rng.random() >= profile.eid:
            continue
        if rng.random() < 0.35:  # registered in the year before the window
            created = (
                clock.at(start, 0)
                - before
                + dt.timedelta(seconds=rng.randrange(int(before.total_seconds())))
            )
        else:
            day = start + dt.timedelta(days=rng.randrange(span))
            created = clock.at(day, rng.uniform(7, 22))
        level2 = None
        if rng.random() < profile.level2:
            candidate = created + dt.timedelta(days=rng.expovariate(1 / 45), hours=2)
            if candidate <= window_end:
                level2 = candidate
        phone = f"09{rng.randrange(10**8):08d}"
        users.append(
            User(
                username=person.id_number,
                password=_unusable(rng),
                first_name=person.full_name,
                date_joined=created,
            )
        )
        drafts.append((person, created, level2, phone))
    _bulk(User, users, stats, "users")
    accounts = [
        EidAccount(
            user_id=user.pk,
            person_id=person.pk,
            public_id=uuid.UUID(int=rng.getrandbits(128), version=4),
            level=EidLevel.LEVEL2 if level2 is not None else EidLevel.LEVEL1,
            status=AccountStatus.ACTIVE,
            phone=phone,
            phone_verified_at=created + dt.timedelta(minutes=3),
            created_at=created,
            activated_at=created + dt.timedelta(minutes=3),
            level2_at=level2,
            status_changed_at=level2 or created + dt.timedelta(minutes=3),
        )
        for user, (person, created, level2, phone) in zip(users, drafts, strict=True)
    ]
    _bulk(EidAccount, accounts, stats, "eid_accounts")
    stats.created["eid_level2"] += sum(1 for a in accounts if a.level == EidLevel.LEVEL2)
    pools: dict[int, list[Account]] = defaultdict(list)
    by_pk = {r.pk: r for r in residents}
    for person_id, (user_id, level, activated, level2, phone) in existing.items():
        if person_id in by_pk and activated is not None:
            at2 = level2 or (activated if level == EidLevel.LEVEL2 else None)
            pools[by_pk[person_id].commune_id].append(
                Account(by_pk[person_id], user_id, activated, at2, phone)
            )
    for account in accounts:
        person = by_pk[account.person_id]
        activated = account.activated_at or account.created_at  # activated_at is set above
        pools[person.commune_id].append(
            Account(person, account.user_id, activated, account.level2_at, account.phone)
        )
    return pools


class _Pool:
    """A commune's accounts ordered by when they could first file at level 1 and 2."""

    def __init__(self, accounts: Iterable[Account]) -> None:
        self.level1 = sorted(accounts, key=lambda a: (a.activated_at, a.person.pk))
        self.keys1 = [a.activated_at for a in self.level1]
        self.level2 = sorted(
            (a for a in self.level1 if a.level2_at is not None),
            key=lambda a: (a.level2_at, a.person.pk),
        )
        self.keys2 = [a.level2_at for a in self.level2 if a.level2_at is not None]
        self.by_person = {a.person.pk: a for a in self.level1}

    def pick(self, rng: random.Random, at: dt.datetime, level: int) -> Account | None:
        accounts, keys = (self.level2, self.keys2) if level == 2 else (self.level1, self.keys1)
        n = bisect.bisect_right(keys, at)
        return accounts[rng.randrange(n)] if n else None


# --- 2. dossiers -----------------------------------------------------------------------------


@dataclass
class _Proc:
    spec: ProcedureSpec
    weight: int


def _procedures() -> list[_Proc]:
    cat = catalogue()
    out = []
    for code, weight in PROCEDURE_MIX.items():
        spec = cat.procedure(code)
        if spec is not None:
            out.append(_Proc(spec, weight))
    return out


def _online_share(profile: CommuneProfile, progress: float) -> float:
    """Rising through the window: 70 % of the average at the start, 130 % at the end."""
    return min(0.95, profile.online * (0.7 + 0.6 * progress))


class _DossierWriter:
    def __init__(
        self,
        rng: random.Random,
        clock: _Clock,
        *,
        province: AdministrativeUnit,
        agencies: Agencies,
        counters: dict[int, User],
        now: dt.datetime,
        stats: SeedStats,
    ) -> None:
        self.rng = rng
        self.clock = clock
        self.province = province
        self.agencies = agencies
        self.counters = counters
        self.now = now
        self.today = timezone.localtime(now).date()
        self.stats = stats
        self.serial = 0
        self.stuck: set[int] = set()
        self.stuck_from = now - dt.timedelta(days=60)
        self.dossiers: list[Dossier] = []
        self.events: list[list[tuple[dt.datetime, str, str, str]]] = []
        self._fees: dict[tuple[str, str, dt.date], tuple[int, dict[str, Any]]] = {}

    def fee(self, spec: ProcedureSpec, channel: str, day: dt.date) -> tuple[int, dict[str, Any]]:
        key = (spec.code, channel, day)
        if key not in self._fees:
            quote = compute_fee(
                spec.fee, FeeContext(channel=channel, province_code=self.province.code, on=day)
            )
            detail: dict[str, Any] = {"base": quote.base, "amount": quote.amount}
            if quote.exemption is not None:
                detail["exemption"] = {
                    "code": quote.exemption.code,
                    "name_vi": quote.exemption.name_vi,
                    "name_en": quote.exemption.name_en,
                    "percent": quote.exemption.percent,
                    "reduction": quote.exemption.reduction,
                }
            self._fees[key] = (quote.amount, detail)
        return self._fees[key]

    def _decided_on(self, received: dt.date, due: dt.date, on_time: bool) -> dt.date:
        rng = self.rng
        if on_time:
            # A working day from receipt to the deadline, early ones likelier.
            days = []
            day = received
            while day <= due:
                if is_working_day(day):
                    days.append(day)
                day += dt.timedelta(days=1)
            if not days:
                return due
            index = min(len(days) - 1, int(rng.expovariate(1.2)))
            return days[index]
        return self.clock.add(due, 1 + int(rng.expovariate(1 / 3)))

    def _received(self, submitted: dt.datetime, sub_day: dt.date, *, online: bool) -> dt.datetime:
        """At the counter at once; online within hours on a working day, else the next
        working morning."""
        rng, clock = self.rng, self.clock
        if not online:
            return submitted + dt.timedelta(minutes=rng.randrange(3, 20))
        if is_working_day(sub_day) and timezone.localtime(submitted).hour < 16:
            return submitted + dt.timedelta(minutes=rng.randrange(10, 240))
        receive_day = clock.add(sub_day, 1) if is_working_day(sub_day) else clock.add(sub_day, 0)
        return clock.at(receive_day, rng.uniform(7.5, 11))

    def _outcome(
        self,
        profile: CommuneProfile,
        history: list[tuple[dt.datetime, str, str, str]],
        received: dt.datetime,
        due: dt.date,
        *,
        online: bool,
        reviews: bool,
    ) -> tuple[str, dt.datetime | None, int | None]:
        """Status, decision time and rating; appends the transitions to ``history``."""
        rng, clock = self.rng, self.clock
        if received >= self.now:
            return DossierStatus.SUBMITTED, None, None
        history.append((received, DossierStatus.SUBMITTED, DossierStatus.RECEIVED, ""))
        # A few stuck ones stay open past their deadline: at random, and at least the
        # first of each commune in the last two months.
        stuck = rng.random() < 0.004
        if not stuck and profile.unit.pk not in self.stuck and received >= self.stuck_from:
            stuck = True
        if stuck:
            self.stuck.add(profile.unit.pk)
        on_time = rng.random() < profile.on_time
        decided_on = self._decided_on(timezone.localtime(received).date(), due, on_time)
        decided = max(clock.at(decided_on, rng.uniform(8, 17)), received + dt.timedelta(minutes=30))
        # After the receive step: the review steps (if any), then the decision.
        if stuck or decided >= self.now:
            reviewed = received + dt.timedelta(hours=1)
            if not reviews or reviewed >= self.now:
                return DossierStatus.RECEIVED, None, None
            history.append((reviewed, DossierStatus.RECEIVED, DossierStatus.IN_PROCESSING, ""))
            return DossierStatus.IN_PROCESSING, None, None
        status = DossierStatus.RECEIVED
        if reviews:
            reviewed = received + (decided - received) / 2
            history.append((reviewed, status, DossierStatus.IN_PROCESSING, ""))
            status = DossierStatus.IN_PROCESSING
        if rng.random() < 0.04:
            history.append((decided, status, DossierStatus.REJECTED, REJECTION))
            return DossierStatus.REJECTED, decided, None
        history.append((decided, status, DossierStatus.APPROVED, ""))
        final = DossierStatus.RESULT_ISSUED
        history.append((decided, DossierStatus.APPROVED, final, ""))
        rating = None
        if rng.random() < (0.45 if online else 0.2):
            rating = min(5, max(1, round(rng.gauss(profile.rating, 0.9))))
        return final, decided, rating

    def add(
        self,
        profile: CommuneProfile,
        proc: ProcedureSpec,
        *,
        day: dt.date,
        applicant: Resident,
        account: Account | None,
        channel: str,
    ) -> None:
        rng, clock = self.rng, self.clock
        online = channel == Channel.ONLINE
        if online:
            submitted = clock.at(day, rng.uniform(6, 23))
            if account is not None:  # online needs an account, able to file from then on
                able = account.level2_at if proc.min_eid_level == 2 else None
                submitted = max(submitted, able or account.activated_at)
        else:
            submitted = clock.at(day, rng.uniform(7.5, 16.5))
        if submitted >= self.now:
            return
        sub_day = timezone.localtime(submitted).date()
        amount, detail = self.fee(proc, channel, sub_day)
        due = clock.add(sub_day, proc.deadline_days)
        received = self._received(submitted, sub_day, online=online)
        self.serial += 1
        code = f"{CODE_PREFIX}{self.province.code}{sub_day:%y%m%d}{self.serial:06d}"
        agency = (
            self.agencies.commune[(profile.unit.pk, proc.agency.kind)]
            if proc.agency.level == "commune"
            else self.agencies.province[proc.agency.kind]
        )
        unit = profile.unit if proc.agency.level == "commune" else self.province
        history: list[tuple[dt.datetime, str, str, str]] = []
        if online and amount:
            history.append(
                (
                    submitted - dt.timedelta(minutes=4),
                    DossierStatus.DRAFT,
                    DossierStatus.AWAITING_PAYMENT,
                    "",
                )
            )
            history.append(
                (submitted, DossierStatus.AWAITING_PAYMENT, DossierStatus.SUBMITTED, f"SP{code}")
            )
        else:
            note = "Nộp tại bộ phận một cửa, công dân đã xác nhận bằng mã SMS" if not online else ""
            history.append((submitted, DossierStatus.DRAFT, DossierStatus.SUBMITTED, note))
        reviews = any(step.kind == "review" for step in proc.steps)
        status, decided_at, rating = self._outcome(
            profile, history, received, due, online=online, reviews=reviews
        )
        last_step = len(proc.steps) - 1
        phone = account.phone if account is not None else f"09{applicant.id_number[-8:]}"
        data, prefilled = _form_data(proc, applicant, profile.unit.code, sub_day, phone)
        self.dossiers.append(
            Dossier(
                code=code,
                procedure_code=proc.code,
                applicant_id=applicant.pk,
                applicant_user_id=account.user_id if account is not None else None,
                channel=channel,
                filed_by=None if online else self.counters[profile.unit.pk],
                consent_confirmed_at=None if online else submitted,
                status=status,
                data=data,
                prefilled=prefilled,
                agency_kind=proc.agency.kind,
                unit=unit,
                agency=agency if received < self.now else None,
                step_index=STEP_OF.get(status, last_step),
                fee_amount=amount,
                fee_detail=detail,
                payment_reference=f"SP{code}" if online and amount else "",
                submitted_at=submitted,
                received_at=received if received < self.now else None,
                due_date=due,
                decided_at=decided_at,
                decision_reason=REJECTION if status == DossierStatus.REJECTED else "",
                rating=rating,
                created_at=history[0][0] - dt.timedelta(minutes=6),
                updated_at=history[-1][0],
            )
        )
        self.events.append(history)
        if len(self.dossiers) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.dossiers:
            return
        Dossier.objects.bulk_create(self.dossiers)
        events = []
        for dossier, history in zip(self.dossiers, self.events, strict=True):
            agency = dossier.agency.name if dossier.agency else ""
            for at, from_, to, note in history:
                label = "" if to == DossierStatus.SUBMITTED else agency
                events.append((dossier.pk, at, label, label, from_, to, "", note))
        _insert(
            DossierEvent,
            (
                "dossier",
                "at",
                "actor_label",
                "agency_name",
                "from_status",
                "to_status",
                "step",
                "note",
            ),
            events,
        )
        self.stats.created["dossiers"] += len(self.dossiers)
        self.stats.created["dossier_events"] += len(events)
        self.dossiers, self.events = [], []


# What the state prefills, from the registry rows read once: prefill source → value from
# (applicant, commune code, phone).
Prefilled = Callable[[Resident, str, str], Any]
PREFILLED: dict[str, Prefilled] = {
    "applicant.full_name": lambda p, c, phone: p.full_name,
    "applicant.id_number": lambda p, c, phone: p.id_number,
    "applicant.birth_date": lambda p, c, phone: p.birth_date.isoformat(),
    "applicant.sex": lambda p, c, phone: p.sex,
    "applicant.phone": lambda p, c, phone: phone,
    "applicant.residence_commune": lambda p, c, phone: c,
    "applicant.permanent_address": lambda p, c, phone: p.address,
    "applicant.household_code": lambda p, c, phone: p.household_code,
    "applicant.marital_status": lambda p, c, phone: "married" if p.spouse else "single",
    "applicant.spouse_full_name": lambda p, c, phone: p.spouse.full_name if p.spouse else "",
    "applicant.spouse_id_number": lambda p, c, phone: p.spouse.id_number if p.spouse else "",
    "applicant.child_relationship_to_head": lambda p, c, phone: (
        CHILD_OF.get(p.relationship, Relationship.OTHER_RELATIVE) if p.relationship else ""
    ),
}


# Plausible answers to the form fields the state does not prefill, so that an officer can
# process a seeded dossier that is still open like any other: field name → value from
# (applicant, commune code, filing day).
FormValue = Callable[[Resident, str, dt.date], Any]
FORM_VALUES: dict[str, FormValue] = {
    "guest_id_number": lambda p, c, d: p.id_number,
    "guest_full_name": lambda p, c, d: p.full_name,
    "stay_commune": lambda p, c, d: c,
    "stay_street": lambda p, c, d: f"Số {int(p.id_number[-3:]) % 200 + 1} đường Lê Lợi",
    "arrival_date": lambda p, c, d: d.isoformat(),
    "departure_date": lambda p, c, d: (d + dt.timedelta(days=3)).isoformat(),
    "start_date": lambda p, c, d: d.isoformat(),
    "end_date": lambda p, c, d: (d + dt.timedelta(days=180)).isoformat(),
    "child_full_name": lambda p, c, d: f"{p.full_name.split()[0]} Minh An",
    "child_birth_date": lambda p, c, d: (d - dt.timedelta(days=5)).isoformat(),
    "child_sex": lambda p, c, d: "M",
    "child_ethnicity": lambda p, c, d: "01",
    "child_birth_place": lambda p, c, d: "Bệnh viện Phụ sản - Nhi",
    "applicant_role": lambda p, c, d: "mother" if p.sex == "F" else "father",
    "licence_number": lambda p, c, d: p.id_number,
    "licence_class": lambda p, c, d: "B",
    "health_certificate_date": lambda p, c, d: (d - dt.timedelta(days=10)).isoformat(),
    "certificate_kind": lambda p, c, d: "form_1",
    "purpose": lambda p, c, d: "Bổ sung hồ sơ xin việc làm",
    "is_student": lambda p, c, d: False,
    "destination": lambda p, c, d: "Thành phố Hồ Chí Minh",
    "reason": lambda p, c, d: "Chuyển đến ở cùng gia đình",
}


def _form_data(
    proc: ProcedureSpec, applicant: Resident, commune: str, day: dt.date, phone: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """The form's values and, for those the state filled in, their sources."""
    data: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in proc.fields:
        if f.prefill in PREFILLED:
            value = PREFILLED[f.prefill](applicant, commune, phone)
            if value not in ("", None):
                data[f.name], sources[f.name] = value, f.prefill
                continue
        if f.name in FORM_VALUES:
            data[f.name] = FORM_VALUES[f.name](applicant, commune, day)
        elif f.type == "choice":
            data[f.name] = f.options[0].value
        elif f.type == "date":
            data[f.name] = day.isoformat()
        elif f.required and f.type in ("text", "textarea"):
            data[f.name] = "Theo nhu cầu của công dân"
    return data, sources


def _draw(
    rng: random.Random,
    clock: _Clock,
    *,
    procs: Sequence[_Proc],
    pool: _Pool,
    adults: Sequence[Resident],
    day: dt.date,
    share: float,
) -> tuple[ProcedureSpec, Resident, Account | None, str] | None:
    """One dossier's procedure, applicant, account and channel (None: not filed). Counter
    dossiers on working days only; online ones every day, fewer on rest days."""
    working = is_working_day(day)
    proc = rng.choices(procs, [p.weight for p in procs])[0].spec
    online = rng.random() < (share if working else 0.97)
    if not online and not working:
        return None
    if online:
        account = pool.pick(rng, clock.at(day, 23.99), proc.min_eid_level)
        if account is not None:
            return proc, account.person, account, Channel.ONLINE
        if not working:
            return None
    applicant = adults[rng.randrange(len(adults))]
    found = pool.by_person.get(applicant.pk)
    account = found if found and found.activated_at <= clock.at(day, 0) else None
    return proc, applicant, account, Channel.COUNTER


def _paper_counts(
    rng: random.Random,
    clock: _Clock,
    *,
    profile: CommuneProfile,
    procs: Sequence[_Proc],
    day: dt.date,
    lam_per_weight: float,
    agencies: Agencies,
    officer: User,
) -> list[PaperDossierCount]:
    """What the counter officer counted on paper that day, per procedure."""
    rows = []
    for proc in procs:
        if proc.spec.code not in PAPER_PROCEDURES:
            continue
        count = _poisson(rng, lam_per_weight * proc.weight)
        if count:
            rows.append(
                PaperDossierCount(
                    day=day,
                    commune=profile.unit,
                    agency=agencies.commune[(profile.unit.pk, proc.spec.agency.kind)],
                    procedure_code=proc.spec.code,
                    count=count,
                    recorded_by=officer,
                    recorded_at=clock.at(day, 16.75),
                )
            )
    return rows


def seed_dossiers(
    rng: random.Random,
    clock: _Clock,
    *,
    province: AdministrativeUnit,
    residents: Sequence[Resident],
    profiles: dict[int, CommuneProfile],
    pools: dict[int, list[Account]],
    agencies: Agencies,
    counters: dict[int, User],
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    stats: SeedStats,
) -> None:
    procs = _procedures()
    if not procs:
        return
    total_weight = sum(p.weight for p in procs)
    adults_by_commune: dict[int, list[Resident]] = defaultdict(list)
    population = Counter(r.commune_id for r in residents)
    for person in residents:
        if _age(person.birth_date, end) >= 18:
            adults_by_commune[person.commune_id].append(person)
    writer = _DossierWriter(
        rng,
        clock,
        province=province,
        agencies=agencies,
        counters=counters,
        now=now,
        stats=stats,
    )
    span = (end - start).days
    paper_rows: list[PaperDossierCount] = []
    for commune_id in sorted(profiles, key=lambda pk: profiles[pk].unit.code):
        profile = profiles[commune_id]
        adults = adults_by_commune.get(commune_id)
        if not adults:
            continue
        pool = _Pool(pools.get(commune_id, []))
        per_day = population[commune_id] * DOSSIERS_PER_PERSON_YEAR / 365 * 7 / 5.4
        day = start
        while day <= end:
            progress = (day - start).days / span if span else 1.0
            working = is_working_day(day)
            share = _online_share(profile, progress)
            # Counter dossiers on working days only; online ones every day, fewer on rest days.
            expected = per_day * (1.0 if working else 0.2)
            for _i in range(_poisson(rng, expected)):
                drawn = _draw(
                    rng, clock, procs=procs, pool=pool, adults=adults, day=day, share=share
                )
                if drawn is not None:
                    proc, applicant, account, channel = drawn
                    writer.add(
                        profile,
                        proc,
                        day=day,
                        applicant=applicant,
                        account=account,
                        channel=channel,
                    )
            if working and profile.paper > 0 and day < writer.today:
                paper_rows += _paper_counts(
                    rng,
                    clock,
                    profile=profile,
                    procs=procs,
                    day=day,
                    lam_per_weight=per_day / total_weight * (1 - share) * profile.paper,
                    agencies=agencies,
                    officer=counters[commune_id],
                )
            day += dt.timedelta(days=1)
    writer.flush()
    _bulk(PaperDossierCount, paper_rows, stats, "paper_counts")


# --- 3. lookups ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Caller:
    organisation: str
    member_class: str
    subsystem: str
    service: str
    purpose: str
    fields: str
    outcome: str
    share: float


CALLERS = (
    _Caller(
        "NHDEMO",
        "COM",
        "ekyc",
        "verify-identity",
        "kyc_account_opening",
        "full_name,birth_date",
        "verified",
        0.34,
    ),
    _Caller(
        "NHDEMO",
        "COM",
        "ekyc",
        "card-status",
        "kyc_account_opening",
        "card_status,card_expiry_date",
        "ok",
        0.08,
    ),
    _Caller(
        "BHXHVN",
        "GOV",
        "bhyt",
        "person-basic",
        "health_insurance",
        "id_number,full_name,birth_date,sex,vital_status,death_date",
        "ok",
        0.22,
    ),
    _Caller(
        "VIETTEL",
        "COM",
        "subscriber",
        "verify-identity",
        "subscriber_verification",
        "full_name,birth_date",
        "verified",
        0.18,
    ),
    _Caller(
        "BTP",
        "GOV",
        "hotich",
        "person-basic",
        "civil_status",
        "id_number,full_name,birth_date,sex",
        "ok",
        0.08,
    ),
    _Caller(
        "BYT",
        "GOV",
        "sosuckhoe",
        "person-basic",
        "health_records",
        "id_number,full_name,birth_date,sex",
        "ok",
        0.06,
    ),
    _Caller(
        "BLDTBXH",
        "GOV",
        "ansinh",
        "person-residence",
        "social_welfare",
        "permanent_address,permanent_commune",
        "ok",
        0.04,
    ),
)


def seed_lookups(
    rng: random.Random,
    clock: _Clock,
    *,
    residents: Sequence[Resident],
    start: dt.date,
    end: dt.date,
    stats: SeedStats,
) -> None:
    """Reads by member organisations, only on days older than the exchange demo's."""
    if not residents:
        return
    instance = getattr(settings, "EXCHANGE_INSTANCE", "VN")
    last = end - dt.timedelta(days=EXCHANGE_DEMO_DAYS)  # today - 31: before the demo's month
    shares = [c.share for c in CALLERS]
    span = max(1, (last - start).days)
    scale = min(1.0, len(residents) / 20_000)  # a tiny population gets fewer reads
    rows: list[tuple[Any, ...]] = []
    day = start
    while day <= last:
        growth = 0.7 + 0.6 * (day - start).days / span
        lam = LOOKUPS_PER_WORKING_DAY * growth * scale * (1.0 if is_working_day(day) else 0.15)
        for _i in range(_poisson(rng, lam)):
            caller = rng.choices(CALLERS, shares)[0]
            identifier = (
                f"{instance}/{caller.member_class}/{caller.organisation}/{caller.subsystem}"
            )
            hour = rng.uniform(7.5, 18.5) if rng.random() < 0.95 else rng.uniform(5, 22)
            at = clock.at(day, hour)
            person = residents[rng.randrange(len(residents))].pk
            rows.append(
                (
                    *(at, identifier, caller.organisation, person, identifier),
                    *(LogChannel.EXCHANGE, caller.service, caller.fields, caller.purpose),
                    *(REQUEST_ID, caller.outcome),
                )
            )
        day += dt.timedelta(days=1)
    rows.sort(key=lambda row: row[0])
    columns = ("at", "actor_label", "organisation", "person", "subsystem", "channel", "view")
    _insert(AccessLogEntry, (*columns, "fields", "purpose", "request_id", "outcome"), rows)
    stats.created["lookups"] += len(rows)


# --- 4. working groups and tasks -------------------------------------------------------------

FAMILY = (
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
)
MIDDLE = ("Văn", "Thị", "Hữu", "Minh", "Thanh", "Quốc", "Ngọc", "Đức", "Thu", "Xuân")
GIVEN = (
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Lan",
    "Long",
    "Mai",
    "Nam",
    "Phúc",
    "Quang",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trung",
    "Tuấn",
    "Vy",
)


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _phone(rng: random.Random) -> str:
    return f"09{rng.randrange(10**8):08d}"


PROVINCE_MEMBERS = (
    (GroupRole.HEAD, "Chủ tịch Ủy ban nhân dân {p}"),
    (GroupRole.DEPUTY, "Giám đốc Công an {p}"),
    (GroupRole.DEPUTY, "Phó Chủ tịch Ủy ban nhân dân {p}"),
    (GroupRole.MEMBER, "Giám đốc Sở Tư pháp"),
    (GroupRole.MEMBER, "Giám đốc Bảo hiểm xã hội {p}"),
    (GroupRole.MEMBER, "Giám đốc Sở Khoa học và Công nghệ"),
    (GroupRole.MEMBER, "Giám đốc Sở Y tế"),
    (GroupRole.MEMBER, "Chánh Văn phòng Ủy ban nhân dân {p}"),
)
COMMUNE_MEMBERS = (
    (GroupRole.HEAD, "Chủ tịch UBND {c}"),
    (GroupRole.DEPUTY, "Trưởng Công an {c}"),
    (GroupRole.MEMBER, "Công chức Tư pháp - Hộ tịch {c}"),
    (GroupRole.MEMBER, "Công chức Văn phòng - Thống kê {c}"),
    (GroupRole.MEMBER, "Bí thư Đoàn Thanh niên {c}"),
)
VILLAGE_MEMBERS = (
    (GroupRole.HEAD, "Trưởng {v}"),
    (GroupRole.DEPUTY, "Công an phụ trách {v}"),
    (GroupRole.MEMBER, "Chi hội trưởng Chi hội Phụ nữ {v}"),
    (GroupRole.MEMBER, "Bí thư Chi đoàn {v}"),
)

QD06 = "Quyết định 06/QĐ-TTg ngày 06/01/2022 của Thủ tướng Chính phủ"
# title, legal source ({y}: the year, {p}: the province code), owner (agency prefix)
PROVINCE_TASKS: tuple[tuple[str, str, str], ...] = (
    ("Ban hành Kế hoạch triển khai Đề án 06 năm {y} trên địa bàn tỉnh", QD06, "UBND-T"),
    (
        "Kiện toàn Tổ công tác triển khai Đề án 06 cấp tỉnh, cấp xã và thôn, tổ dân phố",
        QD06,
        "UBND-T",
    ),
    (
        "Làm sạch dữ liệu dân cư: rà soát, điều chỉnh thông tin sai lệch của công dân",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y} của UBND tỉnh",
        "CA-T",
    ),
    (
        "Cấp căn cước gắn chip cho công dân từ 14 tuổi trở lên chưa được cấp",
        "Luật Căn cước 2023; Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "CA-T",
    ),
    (
        "Thu nhận hồ sơ định danh điện tử mức độ 2 cho người dân tại địa bàn",
        "Nghị định 69/2024/NĐ-CP; Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "CA-T",
    ),
    (
        "Kích hoạt tài khoản định danh điện tử cho người đã đăng ký",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "CA-T",
    ),
    (
        "Số hóa sổ hộ tịch giai đoạn 2016–2025 và cập nhật vào Cơ sở dữ liệu hộ tịch điện tử",
        "Quyết định 2173/QĐ-BTP; Kế hoạch 12/KH-UBND",
        "STP-T",
    ),
    (
        "Số hóa sổ hộ tịch trước năm 2016 (khai sinh, kết hôn, khai tử)",
        "Kế hoạch 31/KH-UBND ngày 15/3/{y} của UBND tỉnh",
        "STP-T",
    ),
    (
        (
            "Triển khai liên thông điện tử thủ tục đăng ký khai sinh, thường trú, "
            "cấp thẻ BHYT trẻ em dưới 6 tuổi"
        ),
        "Nghị định 63/2024/NĐ-CP",
        "STP-T",
    ),
    (
        "Triển khai liên thông điện tử thủ tục đăng ký khai tử, xóa thường trú, trợ cấp mai táng",
        "Nghị định 63/2024/NĐ-CP",
        "STP-T",
    ),
    (
        "Cấp phiếu lý lịch tư pháp trên ứng dụng VNeID",
        "Văn bản 1234/BTP-TTLLTPQG; Kế hoạch 12/KH-UBND",
        "STP-T",
    ),
    (
        "Xác thực thông tin người tham gia bảo hiểm với Cơ sở dữ liệu quốc gia về dân cư",
        QD06,
        "BHXH",
    ),
    (
        "Sử dụng căn cước, VNeID thay thẻ BHYT khi khám chữa bệnh tại 100% cơ sở y tế",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "SYT-T",
    ),
    (
        "Chi trả trợ cấp xã hội không dùng tiền mặt qua tài khoản an sinh xã hội",
        QD06,
        "UBND-T",
    ),
    (
        "Triển khai sổ sức khỏe điện tử cho người dân trên VNeID",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "SYT-T",
    ),
    (
        "Tích hợp giấy phép lái xe vào VNeID và đổi giấy phép lái xe trực tuyến",
        "Kế hoạch 31/KH-UBND ngày 15/3/{y}",
        "CA-T",
    ),
    (
        (
            "Kết nối Hệ thống thông tin giải quyết thủ tục hành chính của tỉnh "
            "với Cơ sở dữ liệu dân cư"
        ),
        QD06,
        "SKHCN-T",
    ),
    (
        "Nâng cấp Trung tâm dữ liệu tỉnh bảo đảm an toàn thông tin cấp độ 3",
        "Kế hoạch 45/KH-UBND ngày 10/4/{y}",
        "SKHCN-T",
    ),
    (
        (
            "Rà soát, tái cấu trúc quy trình thủ tục hành chính "
            "cung cấp dịch vụ công trực tuyến toàn trình"
        ),
        "Quyết định 422/QĐ-TTg ngày 04/4/2022",
        "UBND-T",
    ),
    (
        "Đạt tỷ lệ hồ sơ trực tuyến trên tổng số hồ sơ từ 40% trở lên",
        "Nghị quyết 01/NQ-CP ngày 08/01/{y}",
        "UBND-T",
    ),
    (
        "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính đạt 100% tại bộ phận một cửa",
        "Nghị định 45/2020/NĐ-CP; Nghị định 107/2021/NĐ-CP",
        "UBND-T",
    ),
    (
        "Thanh toán trực tuyến phí, lệ phí thủ tục hành chính qua Cổng dịch vụ công",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "UBND-T",
    ),
    (
        "Triển khai thông báo lưu trú qua VNeID tại các cơ sở lưu trú",
        "Luật Cư trú 2020; Kế hoạch 12/KH-UBND",
        "CA-T",
    ),
    (
        "Đánh giá chất lượng phục vụ người dân theo Bộ chỉ số 766 hằng quý",
        "Quyết định 766/QĐ-TTg ngày 23/6/2022",
        "UBND-T",
    ),
    (
        "Tuyên truyền lợi ích của định danh điện tử trên báo, đài và mạng xã hội",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "UBND-T",
    ),
    (
        "Tập huấn cho cán bộ bộ phận một cửa cấp xã về tiếp nhận hồ sơ trực tuyến",
        "Kế hoạch 31/KH-UBND ngày 15/3/{y}",
        "UBND-T",
    ),
    (
        "Triển khai ký số cho cán bộ, công chức cấp xã",
        "Kế hoạch 45/KH-UBND ngày 10/4/{y}",
        "SKHCN-T",
    ),
    (
        "Triển khai xác thực sinh trắc học tại các điểm giao dịch ngân hàng",
        "Thông tư 17/2024/TT-NHNN",
        "CA-T",
    ),
    (
        "Cập nhật dữ liệu người có công, bảo trợ xã hội vào Cơ sở dữ liệu an sinh",
        QD06,
        "UBND-T",
    ),
    (
        "Làm sạch dữ liệu đất đai, kết nối với Cơ sở dữ liệu quốc gia về dân cư",
        "Kế hoạch 45/KH-UBND ngày 10/4/{y}",
        "SXD-T",
    ),
    (
        "Sơ kết 6 tháng thực hiện Đề án 06 trên địa bàn tỉnh",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "UBND-T",
    ),
    (
        "Tổng kết năm {y}, xây dựng kế hoạch năm tiếp theo",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "UBND-T",
    ),
    (
        "Hướng dẫn của Bộ Công an về kết nối hệ thống camera an ninh với trung tâm giám sát",
        QD06,
        "CA-T",
    ),
    (
        "Chờ hướng dẫn của Bộ Tư pháp về chữ ký số trên bản sao trích lục hộ tịch điện tử",
        "Nghị định 87/2020/NĐ-CP",
        "STP-T",
    ),
    (
        "Chờ hướng dẫn kỹ thuật của Bảo hiểm xã hội Việt Nam về cấp lại thẻ BHYT trên VNeID",
        QD06,
        "BHXH",
    ),
    (
        "Chờ hướng dẫn của Bộ Y tế về liên thông giấy chứng sinh điện tử",
        "Nghị định 63/2024/NĐ-CP",
        "SYT-T",
    ),
    (
        "Triển khai mô hình khu phố, thôn điểm về chuyển đổi số",
        "Kế hoạch 31/KH-UBND ngày 15/3/{y}",
        "UBND-T",
    ),
    (
        "Kiểm tra việc thực hiện Đề án 06 tại các xã, phường",
        "Kế hoạch 31/KH-UBND ngày 15/3/{y}",
        "CA-T",
    ),
    (
        "Cấp tài khoản định danh điện tử cho tổ chức, doanh nghiệp",
        "Nghị định 69/2024/NĐ-CP",
        "CA-T",
    ),
    (
        "Đăng ký cư trú trực tuyến đạt 100% hồ sơ tại công an cấp xã",
        "Luật Cư trú 2020; Kế hoạch 12/KH-UBND",
        "CA-T",
    ),
)
COMMUNE_TASKS: tuple[tuple[str, str, str], ...] = (
    (
        "Tổ công tác xã hướng dẫn người dân nộp hồ sơ trực tuyến tại bộ phận một cửa",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "UB-X",
    ),
    (
        "Rà soát công dân chưa có tài khoản định danh điện tử trên địa bàn",
        "Kế hoạch 12/KH-UBND ngày 20/01/{y}",
        "CA-X",
    ),
    ("Số hóa sổ hộ tịch lưu tại UBND xã", "Kế hoạch 31/KH-UBND ngày 15/3/{y}", "TP-X"),
)
TASKS_PER_PROVINCE = 55
NOTES: dict[str, str] = {
    TaskStatus.DONE: "Đã hoàn thành, báo cáo kết quả gửi Tổ công tác tỉnh.",
    TaskStatus.IN_PROGRESS: "Đang triển khai, đã đạt khoảng {p}% khối lượng.",
    TaskStatus.WAITING: "Đã có văn bản xin ý kiến; đang chờ hướng dẫn của bộ, ngành trung ương.",
    TaskStatus.NOT_STARTED: "Chưa bố trí được kinh phí, đề xuất bổ sung trong kế hoạch.",
    TaskStatus.CANCELLED: "Không thực hiện theo chỉ đạo của Tổ công tác tỉnh.",
}


def _village(unit: AdministrativeUnit, n: int) -> str:
    return f"Tổ dân phố {n}" if unit.name.startswith("Phường") else f"Thôn {n}"


def _seed_groups(
    rng: random.Random,
    *,
    province: AdministrativeUnit,
    communes: Sequence[AdministrativeUnit],
    secretary: User,
    made_at: dt.datetime,
    stats: SeedStats,
) -> tuple[WorkingGroup, list[WorkingGroup]]:
    """The provincial group, a group per commune and two per commune's villages."""
    top = WorkingGroup.objects.create(
        name=f"Tổ công tác triển khai Đề án 06 {province.name}",
        level=TaskLevel.PROVINCE,
        unit=province,
        created_at=made_at,
    )
    stats.created["groups"] += 1
    commune_groups = _bulk(
        WorkingGroup,
        [
            WorkingGroup(
                name=f"Tổ công tác Đề án 06 {unit.name}",
                level=TaskLevel.COMMUNE,
                unit=unit,
                parent=top,
                created_at=made_at,
            )
            for unit in communes
        ],
        stats,
        "groups",
    )
    village_groups = _bulk(
        WorkingGroup,
        [
            WorkingGroup(
                name=f"Tổ công tác Đề án 06 {_village(group.unit, n)}, {group.unit.name}",
                level=TaskLevel.VILLAGE,
                unit=group.unit,
                village=_village(group.unit, n),
                parent=group,
                created_at=made_at,
            )
            for group in commune_groups
            for n in (1, 2)
        ],
        stats,
        "groups",
    )
    members = [
        GroupMember(
            group=top,
            name=_name(rng),
            position=position.format(p=province.name),
            role=role,
            phone=_phone(rng),
        )
        for role, position in PROVINCE_MEMBERS
    ]
    members.append(
        GroupMember(
            group=top,
            user=secretary,
            name=secretary.get_full_name(),
            position=f"Văn phòng Ủy ban nhân dân {province.name}",
            role=GroupRole.MEMBER,
        )
    )
    for group in commune_groups:
        members += [
            GroupMember(
                group=group,
                name=_name(rng),
                position=position.format(c=group.unit.name),
                role=role,
                phone=_phone(rng),
            )
            for role, position in COMMUNE_MEMBERS
        ]
    for group in village_groups:
        place = f"{group.village}, {group.unit.name}"
        members += [
            GroupMember(
                group=group,
                name=_name(rng),
                position=position.format(v=place),
                role=role,
                phone=_phone(rng),
            )
            for role, position in VILLAGE_MEMBERS
        ]
    _bulk(GroupMember, members, stats, "group_members")
    return top, commune_groups


def _task_status(rng: random.Random, title: str, deadline: dt.date, today: dt.date) -> str:
    if title.startswith("Chờ hướng dẫn"):
        return TaskStatus.WAITING
    if deadline < today:
        if rng.random() < 0.8:
            return TaskStatus.DONE
        return rng.choice((TaskStatus.IN_PROGRESS, TaskStatus.NOT_STARTED))
    roll = rng.random()
    if roll < 0.3:
        return TaskStatus.DONE
    return TaskStatus.IN_PROGRESS if roll < 0.8 else TaskStatus.NOT_STARTED


def seed_groups_and_tasks(
    rng: random.Random,
    clock: _Clock,
    *,
    province: AdministrativeUnit,
    communes: Sequence[AdministrativeUnit],
    by_prefix: dict[str, Agency],
    agencies: Agencies,
    secretary: User,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    stats: SeedStats,
) -> None:
    made_at = clock.at(start, 9)
    top, commune_groups = _seed_groups(
        rng, province=province, communes=communes, secretary=secretary, made_at=made_at, stats=stats
    )
    # Tasks: the provincial list, then commune tasks for a few communes up to ~55.
    year = end.year
    specs: list[tuple[str, str, Agency, str, AdministrativeUnit, WorkingGroup]] = [
        (
            title.format(y=year),
            source.format(y=year),
            by_prefix[prefix],
            TaskLevel.PROVINCE,
            province,
            top,
        )
        for title, source, prefix in PROVINCE_TASKS
    ]
    groups_by_unit = {g.unit_id: g for g in commune_groups}
    chosen = sorted(rng.sample(list(communes), min(len(communes), 5)), key=lambda u: u.code)
    for unit in chosen:
        for title, source, prefix in COMMUNE_TASKS:
            if len(specs) >= TASKS_PER_PROVINCE:
                break
            kind = {p: k for p, k, _n in COMMUNE_AGENCIES}[prefix]
            specs.append(
                (
                    f"{title} ({unit.name})",
                    source.format(y=year),
                    agencies.commune[(unit.pk, str(kind))],
                    TaskLevel.COMMUNE,
                    unit,
                    groups_by_unit[unit.pk],
                )
            )
    today = timezone.localtime(now).date()
    span = (end - start).days + 90
    tasks: list[ProgrammeTask] = []
    notes_for: list[list[tuple[dt.datetime, str, str, int]]] = []
    for index, (title, source, owner, level, unit, group) in enumerate(specs, start=1):
        deadline = start + dt.timedelta(days=30 + rng.randrange(span))
        created = made_at + dt.timedelta(days=rng.randrange(0, 20))
        if index == len(PROVINCE_TASKS) - 1 and level == TaskLevel.PROVINCE:
            status: str = TaskStatus.CANCELLED
        else:
            status = _task_status(rng, title, deadline, today)
        fixed: dict[str, int] = {
            TaskStatus.DONE: 100,
            TaskStatus.NOT_STARTED: 0,
            TaskStatus.CANCELLED: 0,
        }
        progress = fixed.get(status, rng.randrange(10, 95, 5))
        history: list[tuple[dt.datetime, str, str, int]] = []
        last = min(now - dt.timedelta(hours=1), clock.at(deadline, 15))
        first = created + dt.timedelta(days=7)
        if status != TaskStatus.NOT_STARTED and first < last:
            middle = first + (last - first) / 2
            if status in (TaskStatus.DONE, TaskStatus.IN_PROGRESS):
                history.append(
                    (
                        first,
                        NOTES[TaskStatus.IN_PROGRESS].format(p=max(10, progress // 3)),
                        TaskStatus.IN_PROGRESS,
                        max(10, progress // 3),
                    )
                )
            history.append(
                (
                    middle if status != TaskStatus.DONE else last,
                    NOTES[status].format(p=progress),
                    status,
                    progress,
                )
            )
        elif status == TaskStatus.NOT_STARTED and deadline < today:
            history.append((clock.at(deadline, 10), NOTES[status], status, 0))
        completed = history[-1][0] if status == TaskStatus.DONE and history else None
        if status == TaskStatus.DONE and completed is None:
            completed = created
        tasks.append(
            ProgrammeTask(
                code=f"DA06-{province.code}-{year}-{index:03d}",
                title=title,
                legal_source=source,
                owner_agency=owner,
                level=level,
                unit=unit,
                group=group,
                deadline=deadline,
                status=status,
                progress=progress,
                completed_at=completed,
                created_at=created,
                updated_at=history[-1][0] if history else created,
            )
        )
        notes_for.append(history)
    _bulk(ProgrammeTask, tasks, stats, "tasks")
    notes = [
        TaskNote(task=task, author=secretary, at=at, text=text, status=status, progress=progress)
        for task, history in zip(tasks, notes_for, strict=True)
        for at, text, status, progress in history
    ]
    _bulk(TaskNote, notes, stats, "task_notes")


# --- the run --------------------------------------------------------------------------------


def _refresh(start: dt.date, end: dt.date) -> bool:
    """The daily facts of the window, so the dashboards have figures at once."""
    from congdan.monitoring import facts  # noqa: PLC0415 -- heavy module, needed at the end only

    refresh: Callable[[dt.date, dt.date], Any] | None = getattr(facts, "refresh_range", None)
    if refresh is None:
        return False
    refresh(start, end)
    return True


def already_seeded(province: AdministrativeUnit) -> bool:
    return ChangeRecord.objects.filter(
        action=SEED_ACTION, object_type="geo.administrativeunit", object_id=province.pk
    ).exists()


def seed_monitoring(
    *,
    province_code: str,
    seed: int = 1,
    days: int = 365,
    refresh: bool = True,
    now: dt.datetime | None = None,
) -> SeedStats:
    """Generate ``days`` days (ending yesterday) of monitoring data for a province whose
    population is seeded. Idempotent: a second run returns ``skipped``. ``now`` (default:
    the present) fixes "today" so that tests get the same data whatever the date."""
    started = time.perf_counter()
    stats = SeedStats(province_code=province_code)
    if days < 30 or days > 3 * 366:
        raise SeedError(f"--days must be between 30 and 1098 (got {days})")
    province = AdministrativeUnit.objects.filter(
        scheme=Scheme.CURRENT, level=Level.PROVINCE, code=province_code
    ).first()
    if province is None:
        raise SeedError(f"unknown current province code {province_code!r}")
    now = now or timezone.now()
    end = timezone.localtime(now).date() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    stats.start, stats.end = start, end
    if already_seeded(province):
        stats.skipped = True
        return stats
    residents = _residents(province)
    if not residents:
        raise SeedError("no persons in this province: run `congdan seed` first")
    # One random stream per part, so changing one part leaves the others as they were.
    base = f"{seed}:{province.code}"

    def rng(part: str) -> random.Random:
        return random.Random(f"{base}:{part}")  # noqa: S311 -- synthetic demo data, not security

    clock = _Clock()
    populated = {r.commune_id for r in residents}
    communes = list(
        AdministrativeUnit.objects.filter(pk__in=populated, level=Level.COMMUNE).order_by("code")
    )
    with transaction.atomic():
        profiles = {p.unit.pk: p for p in _profiles(rng("profiles"), communes)}
        agencies, by_prefix = ensure_agencies(province, communes, stats)
        secretary, counters = ensure_officers(
            rng("officers"),
            province,
            communes=communes,
            agencies=agencies,
            by_prefix=by_prefix,
            stats=stats,
        )
        pools = seed_accounts(
            rng("eid"),
            clock,
            province=province,
            residents=residents,
            profiles=profiles,
            start=start,
            end=end,
            stats=stats,
        )
        seed_dossiers(
            rng("dossiers"),
            clock,
            province=province,
            residents=residents,
            profiles=profiles,
            pools=pools,
            agencies=agencies,
            counters=counters,
            start=start,
            end=end,
            now=now,
            stats=stats,
        )
        seed_lookups(rng("lookups"), clock, residents=residents, start=start, end=end, stats=stats)
        seed_groups_and_tasks(
            rng("tasks"),
            clock,
            province=province,
            communes=communes,
            by_prefix=by_prefix,
            agencies=agencies,
            secretary=secretary,
            start=start,
            end=end,
            now=now,
            stats=stats,
        )
        record_change(
            None,
            action=SEED_ACTION,
            obj=province,
            changes={
                "created": [None, dict(sorted(stats.created.items()))],
                "window": [None, [start.isoformat(), end.isoformat()]],
                "seed": [None, seed],
            },
            reason="seed_monitoring",
        )
    stats.generate_seconds = time.perf_counter() - started
    if refresh:
        stats.facts_refreshed = _refresh(start, end)
    stats.seconds = time.perf_counter() - started
    return stats


def profiles_for(province_code: str, seed: int = 1) -> dict[str, CommuneProfile]:
    """The commune profiles a run with this seed uses (commune code → profile)."""
    province = AdministrativeUnit.objects.get(
        scheme=Scheme.CURRENT, level=Level.PROVINCE, code=province_code
    )
    populated = set(
        Person.objects.filter(
            residence_province=province,
            residence_commune__isnull=False,
            vital_status=VitalStatus.ALIVE,
            status=RecordStatus.ACTIVE,
        ).values_list("residence_commune_id", flat=True)
    )
    communes = list(
        AdministrativeUnit.objects.filter(pk__in=populated, level=Level.COMMUNE).order_by("code")
    )
    rng = random.Random(f"{seed}:{province.code}:profiles")  # noqa: S311 -- synthetic demo data
    return {p.unit.code: p for p in _profiles(rng, communes)}
