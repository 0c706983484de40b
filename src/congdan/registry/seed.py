"""Synthetic population for demos, tests and benchmarks (``congdan seed``).

For one current (2025) province this generates persons, households, addresses, household
memberships, residences, identity cards and civil events that agree with each other, and
loads them fast: PostgreSQL ``COPY`` (psycopg 3) or SQLite ``executemany``, all in one
transaction, with primary keys assigned here (no model instance per row, no ``save()``).

Determinism: ``random.Random(seed)`` drives every choice, in a fixed order, over units
sorted by code. The same seed, province, reference date and people count give the same
persons, names, ID numbers and households on a fresh database. (On a database that
already holds persons, ID serials that are taken are skipped, so numbers then differ.)

How a population is built (docs/seed.md has the sources):

1. Ages and sexes are drawn, in blocks of ``BLOCK`` persons, from the 2019 census
   pyramid (``AGE_GROUPS``) into a pool of (sex, age) counts.
2. Households are carved out of the pool: a size (``HOUSEHOLD_SIZES``), a kind
   (single, couple, parent(s) with children, three generations up or down), then the
   members, child first, each parent 18-42 years older than the children, spouses of
   similar age. Whatever a block cannot place is carried into the next block; what the
   last block cannot place (minors without parents of a fitting age) joins a household
   as a grandchild or relative. So the population follows the pyramid exactly and every
   person belongs to a household.
3. Each household gets a commune (seed-weighted, urban wards heavier), an address,
   an ethnicity and religion, and each member names, dates, ID number, residence,
   card and events.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import queue
import random
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Generic, TypeVar

from django.db import connection, transaction
from django.utils import timezone
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from congdan.core.text import fold
from congdan.geo.models import Address, AdministrativeUnit, Level, Scheme
from congdan.registry import cards, idnumbers
from congdan.registry.models import (
    CardStatus,
    CardType,
    CivilEvent,
    CivilEventKind,
    DatePrecision,
    Ethnicity,
    Household,
    HouseholdMembership,
    IdentityCard,
    Person,
    RecordStatus,
    Relationship,
    Religion,
    Residence,
    ResidenceKind,
    VitalStatus,
)

DATA_DIR = Path(__file__).resolve().parent / "data"
T = TypeVar("T")

# --- Distributions -----------------------------------------------------------------------
# 2019 Population and Housing Census (GSO), five-year age groups: (first age, last age,
# percent of the population, share of males in the group). Rounded; they reproduce the
# published totals 0-14: 24.3 %, 15-64: 68.0 %, 65+: 7.7 % and 99.1 males per 100
# females. The last group spreads 80-100 with a geometric decline (x0.8 a year).
AGE_GROUPS: tuple[tuple[int, int, float, float], ...] = (
    (0, 4, 8.2, 0.527),
    (5, 9, 8.6, 0.524),
    (10, 14, 7.5, 0.521),
    (15, 19, 6.5, 0.515),
    (20, 24, 7.0, 0.508),
    (25, 29, 8.1, 0.503),
    (30, 34, 8.5, 0.503),
    (35, 39, 7.9, 0.503),
    (40, 44, 7.2, 0.500),
    (45, 49, 6.7, 0.496),
    (50, 54, 6.1, 0.488),
    (55, 59, 5.5, 0.478),
    (60, 64, 4.5, 0.466),
    (65, 69, 3.1, 0.452),
    (70, 74, 1.9, 0.430),
    (75, 79, 1.2, 0.400),
    (80, 100, 1.5, 0.340),
)
MAX_AGE = 100
# Persons per generation block: fixed, so output does not depend on --batch-size.
BLOCK = 10_000
# Loads of at least this many persons drop and recreate constraints and indexes.
BULK_MIN_PEOPLE = 20_000

# Household size 1..8, percent: approximates the 2019 census (average 3.5 persons;
# about one household in nine has one person).
HOUSEHOLD_SIZES: tuple[tuple[int, float], ...] = (
    (1, 7.0),
    (2, 17.0),
    (3, 21.0),
    (4, 28.0),
    (5, 15.0),
    (6, 7.5),
    (7, 3.0),
    (8, 1.5),
)

SINGLE, COUPLE, FAMILY, SINGLE_PARENT, THREE_GEN_UP, THREE_GEN_DOWN = range(6)
# Household kind by size (relative weights): nuclear families dominate; larger
# households are mostly three generations (grandparents with married child and
# grandchildren, or a couple living with the head's parents).
HOUSEHOLD_KINDS: dict[int, tuple[tuple[int, float], ...]] = {
    2: ((COUPLE, 60), (SINGLE_PARENT, 40)),
    3: ((FAMILY, 72), (SINGLE_PARENT, 10), (THREE_GEN_UP, 8), (THREE_GEN_DOWN, 10)),
    4: ((FAMILY, 62), (THREE_GEN_UP, 16), (THREE_GEN_DOWN, 14), (SINGLE_PARENT, 8)),
    5: ((FAMILY, 40), (THREE_GEN_UP, 25), (THREE_GEN_DOWN, 30), (SINGLE_PARENT, 5)),
}
LARGE_HOUSEHOLD_KINDS = ((FAMILY, 20), (THREE_GEN_UP, 35), (THREE_GEN_DOWN, 45))

# Probability that a person of this age lives in a household as a child of the head
# (drives the age of the first child drawn for a family); assumption, not a statistic.
CHILD_AT_HOME: tuple[tuple[int, int, float], ...] = (
    (0, 17, 1.0),
    (18, 19, 0.9),
    (20, 22, 0.7),
    (23, 25, 0.5),
    (26, 29, 0.3),
    (30, 34, 0.15),
    (35, 40, 0.05),
)

# 2019 census: 13.7 % of the population follow a religion (Catholic 6.1 %, Buddhist
# 4.8 %, Protestant 1.0 %, Hoa Hao 1.0 %, Cao Dai 0.6 %, others smaller). Codes as in
# registry/data/religions.json; percent of the population.
RELIGION_SHARES: tuple[tuple[str, float], ...] = (
    ("00", 86.3),
    ("02", 6.1),
    ("01", 4.8),
    ("03", 1.0),
    ("05", 1.0),
    ("04", 0.6),
    ("06", 0.08),
    ("08", 0.05),
    ("10", 0.05),
    ("16", 0.01),
    ("07", 0.01),
)

MIGRANT_SHARE_ADULTS = 0.18  # adults born elsewhere; about 10 % of everyone
# Of living persons aged 15 or more (about 2 % and 0.5 % of everyone).
TEMPORARY_RESIDENCE_SHARE = 0.026
TEMPORARY_ABSENCE_SHARE = 0.0065
_OTHER_RESIDENCE_SHARE = TEMPORARY_RESIDENCE_SHARE + TEMPORARY_ABSENCE_SHARE
YEAR_ONLY_BIRTH_DATE_SHARE_65_PLUS = 0.13  # ~1 % of all persons
CHILD_CARD_SHARE = 0.10  # cards for under-14s, on request, since 1 July 2024
CARD_RENEWED_SHARE = 0.85  # of cards that expired: renewed since
DEATH_LOOKBACK_DAYS = 5 * 365
# Share of persons recorded as deceased, by age: about 0.5 % overall.
DECEASED_BY_AGE: tuple[tuple[int, float], ...] = ((60, 0.004), (80, 0.04), (MAX_AGE + 1, 0.13))

CHIP_CARD_START = date(2021, 1, 1)
CAN_CUOC_START = date(2024, 7, 1)  # Law on Identity 2023 in force
# When adults got their current chip card: the 2021-2022 campaign, then a trickle.
CARD_PERIODS: tuple[tuple[date, date | None, float], ...] = (
    (date(2021, 1, 1), date(2021, 12, 31), 50.0),
    (date(2022, 1, 1), date(2022, 12, 31), 20.0),
    (date(2023, 1, 1), date(2023, 12, 31), 10.0),
    (date(2024, 1, 1), date(2024, 6, 30), 7.0),
    (CAN_CUOC_START, None, 13.0),  # None: up to the reference date
)
_CHIP_START_ORD = CHIP_CARD_START.toordinal()
_CAN_CUOC_START_ORD = CAN_CUOC_START.toordinal()
ISSUING_AUTHORITY = "Cục Cảnh sát quản lý hành chính về trật tự xã hội"
CIVIL_STATUS_LAW = "Luật Hộ tịch 2014"
EVENT_DETAILS = json.dumps({"source": "seed"})

M, F = 0, 1
SEXES = ("M", "F")
HEAD = Relationship.HEAD.value
SPOUSE = Relationship.SPOUSE.value
CHILD = Relationship.CHILD.value
PARENT = Relationship.PARENT.value
GRANDCHILD = Relationship.GRANDCHILD.value
CHILD_IN_LAW = Relationship.CHILD_IN_LAW.value
RELATIVE = Relationship.OTHER_RELATIVE.value
_MAY_BE_MIGRANT = frozenset({HEAD, SPOUSE, PARENT, CHILD_IN_LAW})
# Plain strings for the row tuples (enum member access is slow in a hot loop, and
# psycopg would dump an Enum by name).
_DAY, _YEAR = DatePrecision.DAY.value, DatePrecision.YEAR.value
_ALIVE, _DECEASED = VitalStatus.ALIVE.value, VitalStatus.DECEASED.value
_ACTIVE = RecordStatus.ACTIVE.value
_PERMANENT = ResidenceKind.PERMANENT.value
_TEMPORARY = ResidenceKind.TEMPORARY.value
_ABSENCE = ResidenceKind.ABSENCE.value
_BIRTH, _DEATH = CivilEventKind.BIRTH.value, CivilEventKind.DEATH.value
_CHIP, _CAN_CUOC = CardType.CCCD_CHIP.value, CardType.CAN_CUOC.value
_VALID, _EXPIRED = CardStatus.VALID.value, CardStatus.EXPIRED.value
_REPLACED, _REVOKED = CardStatus.REPLACED.value, CardStatus.REVOKED.value
_DIED = "Chết"

# --- Columns, in the order rows are generated ------------------------------------------
ADDRESS_COLUMNS = (
    "id",
    "text",
    "street",
    "commune_id",
    "district_id",
    "province_id",
    "current_commune_id",
)
HOUSEHOLD_COLUMNS = ("id", "code", "address_id", "commune_id", "created_at", "dissolved_at")
PERSON_COLUMNS = (
    "id",
    "id_number",
    "full_name",
    "name_search",
    "other_names",
    "birth_date",
    "birth_date_precision",
    "sex",
    "ethnicity_id",
    "religion_id",
    "nationality",
    "birth_registration_province_id",
    "birth_registration_place_id",
    "home_town_id",
    "father_id",
    "mother_id",
    "spouse_id",
    "vital_status",
    "death_date",
    "status",
    "residence_commune_id",
    "residence_province_id",
    "created_at",
    "updated_at",
)
MEMBERSHIP_COLUMNS = ("id", "household_id", "person_id", "relationship", "since", "until")
RESIDENCE_COLUMNS = (
    "id",
    "person_id",
    "kind",
    "address_id",
    "commune_id",
    "household_id",
    "start_date",
    "end_date",
    "ended_on",
    "reason",
    "registered_by_id",
    "created_at",
)
CARD_COLUMNS = (
    "id",
    "person_id",
    "number",
    "card_type",
    "issue_date",
    "expiry_date",
    "issuing_authority",
    "status",
)
EVENT_COLUMNS = (
    "id",
    "person_id",
    "kind",
    "event_date",
    "legal_basis",
    "source_agency_id",
    "document_ref",
    "related_person_id",
    "details",
    "recorded_by_id",
    "recorded_at",
)

# (model, columns); the order is also the load order (referenced tables first).
TABLES: tuple[tuple[type[Any], tuple[str, ...]], ...] = (
    (Address, ADDRESS_COLUMNS),
    (Household, HOUSEHOLD_COLUMNS),
    (Person, PERSON_COLUMNS),
    (HouseholdMembership, MEMBERSHIP_COLUMNS),
    (Residence, RESIDENCE_COLUMNS),
    (IdentityCard, CARD_COLUMNS),
    (CivilEvent, EVENT_COLUMNS),
)


class SeedError(ValueError):
    """Bad input for the seed (unknown province, bad ethnicity mix, missing data)."""


# --- Small helpers -------------------------------------------------------------------------
class Weighted(Generic[T]):
    """Weighted choice with one ``random()`` call and a bisect."""

    __slots__ = ("cum", "total", "values")

    def __init__(self, pairs: Iterable[tuple[T, float]]) -> None:
        self.values: list[T] = []
        self.cum: list[float] = []
        total = 0.0
        for value, weight in pairs:
            if weight < 0:
                raise SeedError(f"negative weight for {value!r}")
            if weight == 0:
                continue
            total += weight
            self.values.append(value)
            self.cum.append(total)
        if not self.values:
            raise SeedError("a weighted choice needs at least one positive weight")
        self.total = total
        # A copy of the last value past the end: a draw that rounds up to the total
        # still lands on a value, without a bounds check on every pick.
        self.values.append(self.values[-1])

    def pick(self, rnd: Callable[[], float]) -> T:
        return self.values[bisect_right(self.cum, rnd() * self.total)]


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


@dataclass(frozen=True, slots=True)
class UnitRef:
    id: int
    code: str
    name: str
    division_type: str = ""
    id_code: str = ""


def unit_label(unit: UnitRef) -> str:
    """The unit as written in an address: ``Phường Hải Châu``, ``Thành phố Đà Nẵng``."""
    kind = unit.division_type.strip()
    if not kind or fold(unit.name).startswith(fold(kind)):
        return unit.name
    return f"{kind[0].upper()}{kind[1:]} {unit.name}"


def _is_urban(unit: UnitRef) -> bool:
    """A ward (phường); communes (xã) and special zones (đặc khu) are not."""
    return fold(unit.division_type or unit.name).startswith("phuong")


def _address_words(province_code: str) -> tuple[str, str]:
    """(alley, village) as addresses say them in the province's region.

    GSO province codes run from north to south: ngõ in the north, kiệt around Huế and
    Đà Nẵng (44-48), hẻm further south; thôn for villages, ấp in the south (75 and up).
    """
    number = int(province_code) if province_code.isdigit() else 0
    alley = "Ngõ" if number < 44 else "Kiệt" if number <= 48 else "Hẻm"
    village = "Ấp" if number >= 75 else "Thôn"
    return alley, village


@dataclass(frozen=True)
class GeoContext:
    """The geography one seed needs, read once (``load_geo_context``) or built in tests."""

    province: UnitRef
    communes: Sequence[UnitRef]  # current communes of the province, by code
    local_legacy: Sequence[UnitRef]  # legacy provinces whose successor is the province
    other_legacy: Sequence[UnitRef]  # every other legacy province with an id_code
    # current commune id -> legacy province id it mostly came from (when known)
    commune_origin: Mapping[int, int] = field(default_factory=dict)
    # legacy province id -> ids of its legacy communes (when the legacy tree is loaded)
    legacy_communes: Mapping[int, Sequence[int]] = field(default_factory=dict)
    # legacy province id -> ids of the current communes of its successor province
    successor_communes: Mapping[int, Sequence[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class ReferenceData:
    ethnicity_ids: Mapping[str, int]
    religion_ids: Mapping[str, int]


@dataclass
class StartIds:
    """First primary key per table, and the next household sequence number."""

    address: int = 1
    household: int = 1
    person: int = 1
    membership: int = 1
    residence: int = 1
    card: int = 1
    event: int = 1
    household_seq: int = 1


@dataclass(frozen=True)
class NameData:
    family: Weighted[tuple[str, str]]
    middle: Mapping[tuple[int, bool], Weighted[tuple[str, str]]]  # (sex, born before 1990)
    given: Mapping[int, Weighted[tuple[str, str]]]
    streets: Sequence[str]


def load_names(path: Path | None = None) -> NameData:
    doc = json.loads((path or DATA_DIR / "names.json").read_text(encoding="utf-8"))

    def weighted(items: list[dict[str, Any]]) -> Weighted[tuple[str, str]]:
        return Weighted(((it["name"], fold(it["name"])), float(it["weight"])) for it in items)

    sex_index = {"M": M, "F": F}
    return NameData(
        family=weighted(doc["family_names"]),
        middle={
            (sex_index[sex], gen == "older"): weighted(items)
            for sex, by_gen in doc["middle_names"].items()
            for gen, items in by_gen.items()
        },
        given={sex_index[sex]: weighted(items) for sex, items in doc["given_names"].items()},
        streets=list(doc["streets"]),
    )


def default_ethnicity_mix() -> dict[str, float]:
    """Shares of the 54 groups in the 2019 census (registry/data/ethnicities.json)."""
    doc = json.loads((DATA_DIR / "ethnicities.json").read_text(encoding="utf-8"))
    return {it["code"]: float(it.get("share_percent_2019") or 0) for it in doc["items"]}


def parse_ethnicity_mix(text: str) -> dict[str, float]:
    """Parse ``"01=0.9,02=0.05"`` (weights, normalised later)."""
    mix: dict[str, float] = {}
    for raw in text.split(","):
        part = raw.strip()
        if not part:
            continue
        code, sep, value = part.partition("=")
        code = code.strip()
        if not sep or not code:
            raise SeedError(f"ethnicity mix: expected CODE=WEIGHT, got {part!r}")
        try:
            weight = float(value)
        except ValueError:
            raise SeedError(f"ethnicity mix: weight of {code} is not a number: {value!r}") from None
        if not math.isfinite(weight) or weight < 0:
            raise SeedError(f"ethnicity mix: weight of {code} must be >= 0, got {value!r}")
        if code.isdigit() and len(code) == 1:
            code = "0" + code
        if code in mix:
            raise SeedError(f"ethnicity mix: code {code} given twice")
        mix[code] = weight
    if not mix or sum(mix.values()) <= 0:
        raise SeedError("ethnicity mix: give at least one code with a positive weight")
    return mix


# --- The population pool ----------------------------------------------------------------
class _Pool:
    """Counts of not-yet-placed persons by sex and age."""

    __slots__ = ("counts", "total")

    def __init__(self) -> None:
        self.counts = ([0] * (MAX_AGE + 1), [0] * (MAX_AGE + 1))
        self.total = 0

    def put(self, sex: int, age: int) -> None:
        self.counts[sex][age] += 1
        self.total += 1

    def take(self, sex: int, lo: int, hi: int, target: int) -> int:
        """Remove a person of ``sex`` aged in [lo, hi], nearest to ``target``; -1 if none."""
        lo = max(lo, 0)
        hi = min(hi, MAX_AGE)
        if lo > hi:
            return -1
        target = min(max(target, lo), hi)
        counts = self.counts[sex]
        age = target
        if not counts[age]:
            step = 1
            while True:
                below, above = target - step, target + step
                if below < lo and above > hi:
                    return -1
                if above <= hi and counts[above]:
                    age = above
                    break
                if below >= lo and counts[below]:
                    age = below
                    break
                step += 1
        counts[age] -= 1
        self.total -= 1
        return age


class _Member:
    """One household member while a household is built and turned into rows."""

    __slots__ = (
        "age",
        "birth",
        "child_family",
        "death",
        "ethnicity",
        "family",
        "father",
        "home",
        "id",
        "latest_child",
        "mother",
        "rel",
        "sex",
        "since",
        "spouse",
    )

    def __init__(self, age: int, sex: int, rel: str) -> None:
        self.age = age
        self.sex = sex
        self.rel = rel
        # Indices of the father, mother and spouse among the household's members.
        self.father = -1
        self.mother = -1
        self.spouse = -1
        # Filled when the household is turned into rows (dates are ordinals).
        self.id = 0
        self.birth = 0
        self.since = 0
        self.death = 0
        self.latest_child = 0
        self.ethnicity = 0
        self.home = 0
        self.family: tuple[str, str] = ("", "")
        # Family name for children whose father is not in the household.
        self.child_family: tuple[str, str] | None = None


def _couple(members: list[_Member], a: int, b: int) -> None:
    members[a].spouse = b
    members[b].spouse = a


def _by_age_desc(m: _Member) -> int:
    return -m.age


def _set_parent(members: list[_Member], child: int, parent: int) -> None:
    if members[parent].sex == M:
        members[child].father = parent
    else:
        members[child].mother = parent


# --- Row batches ----------------------------------------------------------------------------
@dataclass
class RowBatch:
    addresses: list[tuple[Any, ...]] = field(default_factory=list)
    households: list[tuple[Any, ...]] = field(default_factory=list)
    persons: list[tuple[Any, ...]] = field(default_factory=list)
    memberships: list[tuple[Any, ...]] = field(default_factory=list)
    residences: list[tuple[Any, ...]] = field(default_factory=list)
    cards: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)

    def tables(self) -> tuple[list[tuple[Any, ...]], ...]:
        """Row lists in ``TABLES`` order."""
        return (
            self.addresses,
            self.households,
            self.persons,
            self.memberships,
            self.residences,
            self.cards,
            self.events,
        )

    def extend(self, other: RowBatch) -> None:
        for mine, theirs in zip(self.tables(), other.tables(), strict=True):
            mine.extend(theirs)

    def __len__(self) -> int:
        return len(self.persons)


def _pyramid() -> list[tuple[tuple[int, int], float]]:
    """((sex, age), weight) for every sex and single year of age (``AGE_GROUPS``)."""
    ages: list[tuple[tuple[int, int], float]] = []
    for first, last, share, male in AGE_GROUPS:
        if first == 80:
            spread = [0.8 ** (a - first) for a in range(first, last + 1)]
        else:
            spread = [1.0] * (last - first + 1)
        norm = sum(spread)
        for a, w in zip(range(first, last + 1), spread, strict=True):
            ages.append(((M, a), share * w / norm * male))
            ages.append(((F, a), share * w / norm * (1 - male)))
    return ages


def _ethnicity_weights(refs: ReferenceData, mix: Mapping[str, float] | None) -> Weighted[int]:
    mix = dict(mix) if mix is not None else default_ethnicity_mix()
    unknown = sorted(set(mix) - set(refs.ethnicity_ids))
    if unknown:
        raise SeedError(
            f"unknown ethnicity code(s) {', '.join(unknown)}; valid codes: "
            f"{', '.join(sorted(refs.ethnicity_ids))}"
        )
    return Weighted((refs.ethnicity_ids[c], w) for c, w in sorted(mix.items()))


# --- The generator --------------------------------------------------------------------------
class PopulationGenerator:
    """Pure generator: geography and reference ids in, row tuples out.

    ``existing_serials(prefix)`` returns the serials (digits 7-12) already used in the
    database for a 6-digit ID-number prefix; the generator never reuses them.
    ``timestamp`` is the value written to created_at/recorded_at columns.
    """

    def __init__(
        self,
        *,
        geo: GeoContext,
        refs: ReferenceData,
        seed: int,
        today: date,
        ethnicity_mix: Mapping[str, float] | None = None,
        start: StartIds | None = None,
        existing_serials: Callable[[str], set[int]] | None = None,
        timestamp: Any = None,
        names: NameData | None = None,
    ) -> None:
        if not geo.communes:
            raise SeedError(f"province {geo.province.code} has no communes")
        if not geo.local_legacy and not geo.other_legacy:
            raise SeedError("no legacy provinces with an id_code are loaded")
        self.geo = geo
        self.rng = random.Random(seed)
        self.rnd = self.rng.random
        self.today = today
        self.today_ord = today.toordinal()
        self.start = start or StartIds()
        self.existing_serials = existing_serials
        self.timestamp = timestamp if timestamp is not None else f"{today.isoformat()} 00:00:00"
        self.names = names or load_names()
        self._iso_cache: dict[int, str] = {}
        self._serials: dict[str, set[int]] = {}
        self._prefixes: dict[tuple[str, int, int], str] = {}

        self.ethnicity = _ethnicity_weights(refs, ethnicity_mix)
        self.religion = Weighted(
            (refs.religion_ids[c], w) for c, w in RELIGION_SHARES if c in refs.religion_ids
        )
        ages = _pyramid()
        self.pyramid = Weighted(ages)
        density = dict.fromkeys(range(MAX_AGE + 1), 0.0)
        for (_sex, a), w in ages:
            density[a] += w
        self.child_target = Weighted(
            (a, density[a] * p) for first, last, p in CHILD_AT_HOME for a in range(first, last + 1)
        )
        self.death_rate = [
            next(rate for upto, rate in DECEASED_BY_AGE if age < upto) for age in range(MAX_AGE + 1)
        ]
        self.sizes = Weighted(HOUSEHOLD_SIZES)
        self.kinds = {n: Weighted(k) for n, k in HOUSEHOLD_KINDS.items()}
        self.large_kinds = Weighted(LARGE_HOUSEHOLD_KINDS)

        # Communes: a seed-determined size for each, urban wards three times heavier.
        self.commune_pick = Weighted(
            (c, self.rng.lognormvariate(0.0, 0.8) * (3.0 if _is_urban(c) else 1.0))
            for c in geo.communes
        )
        legacy_by_id = {u.id: u for u in (*geo.local_legacy, *geo.other_legacy)}
        # Born locally: one of the legacy provinces merged into this one (weighted by how
        # many legacy communes each had, when known); without any, another province.
        self.local_legacy = Weighted(
            (u, float(len(geo.legacy_communes.get(u.id, ())) or 1))
            for u in (geo.local_legacy or geo.other_legacy)
        )
        self.has_other = bool(geo.other_legacy)
        self.other_legacy = Weighted((u, 1.0) for u in (geo.other_legacy or geo.local_legacy))
        local_ids = {u.id for u in geo.local_legacy}
        self.commune_origin = {
            cid: legacy_by_id[lid] for cid, lid in geo.commune_origin.items() if lid in local_ids
        }
        self.commune_info = {c.id: (unit_label(c), _is_urban(c)) for c in geo.communes}
        self.province_label = unit_label(geo.province)
        self.household_prefix = geo.province.code
        self.alley_word, self.village_word = _address_words(geo.province.code)
        self.province_communes = [c.id for c in geo.communes]
        self.streets = list(self.names.streets)
        self._age_windows = [self._age_window(a) for a in range(MAX_AGE + 2)]
        self.card_periods = Weighted(
            ((a.toordinal(), min(b or today, today).toordinal()), w)
            for a, b, w in CARD_PERIODS
            if a <= today
        )
        self.next = StartIds(**vars(self.start))
        self.pool = _Pool()
        self.generate_seconds = 0.0

    # -- dates ----------------------------------------------------------------------------
    def _age_window(self, age: int) -> tuple[int, int]:
        last = _years_before(self.today, age).toordinal()
        first = _years_before(self.today, age + 1).toordinal() + 1
        return first, last

    def iso(self, ordinal: int) -> str:
        text = self._iso_cache.get(ordinal)
        if text is None:
            text = self._iso_cache[ordinal] = date.fromordinal(ordinal).isoformat()
        return text

    # -- the pool ----------------------------------------------------------------------------
    def _fill_pool(self, n: int) -> None:
        pick, rnd, counts = self.pyramid.pick, self.rnd, self.pool.counts
        for _ in range(n):
            sex, age = pick(rnd)
            counts[sex][age] += 1
        self.pool.total += n

    def _take_child(self, lo: int, hi: int, target: int) -> tuple[int, int] | None:
        sex = M if self.rnd() < 0.51 else F
        age = self.pool.take(sex, lo, hi, target)
        if age < 0:
            sex = 1 - sex
            age = self.pool.take(sex, lo, hi, target)
            if age < 0:
                return None
        return sex, age

    def _more_children(
        self, members: list[_Member], parents: Sequence[int], count: int, rel: str
    ) -> None:
        """Up to ``count`` more children of ``parents`` (indices), each 18-42 years younger."""
        lo, hi = 0, MAX_AGE
        for p in parents:
            pa = members[p].age
            lo = max(lo, pa - (42 if members[p].sex == F else 55))
            hi = min(hi, pa - 18)
        for _ in range(count):
            if lo > hi:
                return
            child = self._take_child(lo, hi, lo + int(self.rnd() * (hi - lo + 1)))
            if child is None:
                return
            i = len(members)
            members.append(_Member(child[1], child[0], rel))
            for p in parents:
                _set_parent(members, i, p)

    # -- household kinds ------------------------------------------------------------------
    def _single(self) -> list[_Member] | None:
        rnd = self.rnd
        sex = F if rnd() < 0.55 else M
        target = 20 + int(rnd() * 16) if rnd() < 0.45 else 55 + int(rnd() * 36)
        age = self.pool.take(sex, 18, MAX_AGE, target)
        if age < 0:
            age = self.pool.take(1 - sex, 18, MAX_AGE, target)
            if age < 0:
                return None
            sex = 1 - sex
        return [_Member(age, sex, HEAD)]

    def _couple(self) -> list[_Member] | None:
        rnd, pool = self.rnd, self.pool
        target = 22 + int(rnd() * 14) if rnd() < 0.35 else 45 + int(rnd() * 41)
        husband = pool.take(M, 20, MAX_AGE, target)
        if husband < 0:
            return None
        wife = pool.take(F, max(18, husband - 12), husband + 5, husband - int(rnd() * 7))
        if wife < 0:
            return [_Member(husband, M, HEAD)]
        head_is_wife = rnd() < 0.2
        members = [
            _Member(husband, M, SPOUSE if head_is_wife else HEAD),
            _Member(wife, F, HEAD if head_is_wife else SPOUSE),
        ]
        _couple(members, 0, 1)
        return members

    def _family(self, size: int, *, couple: bool) -> list[_Member] | None:
        """Parent(s) and children, the first child drawn first."""
        rnd, pool = self.rnd, self.pool
        first = self._take_child(0, 40, self.child_target.pick(rnd))
        if first is None:
            return None
        c_sex, c_age = first
        mother = father = -1
        if couple or rnd() < 0.75:
            mother = pool.take(F, c_age + 18, c_age + 42, c_age + 21 + int(rnd() * 11))
        if couple and mother >= 0:
            father = pool.take(M, max(c_age + 18, mother - 5), mother + 15, mother + int(rnd() * 7))
        elif mother < 0:
            father = pool.take(M, c_age + 18, c_age + 50, c_age + 23 + int(rnd() * 12))
        if mother < 0 and father < 0:
            pool.put(c_sex, c_age)
            return None
        members: list[_Member] = []
        parents: list[int] = []
        if father >= 0:
            members.append(_Member(father, M, HEAD))
            parents.append(0)
        if mother >= 0:
            members.append(_Member(mother, F, SPOUSE if father >= 0 else HEAD))
            parents.append(len(members) - 1)
        if len(members) == 2:
            _couple(members, 0, 1)
            if rnd() < 0.15:
                members[0].rel, members[1].rel = SPOUSE, HEAD
        members.append(_Member(c_age, c_sex, CHILD))
        for p in parents:
            _set_parent(members, 2 if len(parents) == 2 else 1, p)
        self._more_children(members, parents, size - len(members), CHILD)
        return members

    def _three_gen_up(self, size: int) -> list[_Member] | None:
        """A couple with children, living with one or both parents of the head."""
        rnd, pool = self.rnd, self.pool
        elders = 2 if size >= 5 and rnd() < 0.4 else 1
        members = self._family(size - elders, couple=True)
        if members is None:
            return None
        head = next(i for i, m in enumerate(members) if m.rel == HEAD)
        h_age = members[head].age
        lo, hi, target = h_age + 18, h_age + 45, h_age + 22 + int(rnd() * 11)
        first_sex = F if elders == 2 or rnd() < 0.7 else M
        age = pool.take(first_sex, lo, hi, target)
        if age < 0:
            return members
        members.append(_Member(age, first_sex, PARENT))
        _set_parent(members, head, len(members) - 1)
        if elders == 2:
            other = pool.take(M, max(lo, age - 5), age + 15, age + int(rnd() * 7))
            if other >= 0:
                members.append(_Member(other, M, PARENT))
                _set_parent(members, head, len(members) - 1)
                _couple(members, len(members) - 2, len(members) - 1)
        return members

    def _three_gen_down(self, size: int) -> list[_Member] | None:
        """Grandparent head (and spouse), a married child (and in-law), grandchildren."""
        rnd, pool = self.rnd, self.pool
        first = self._take_child(0, 25, min(25, self.child_target.pick(rnd)))
        if first is None:
            return None
        g_sex, g_age = first
        taken: list[tuple[int, int]] = [(g_sex, g_age)]

        def give_back() -> None:
            for sex, age in taken:
                pool.put(sex, age)

        spouses = size - 3  # 0, 1 or 2 spouses (head's, child's) beyond head + child + grandchild
        mid_sex = M if rnd() < 0.75 else F
        mid = pool.take(mid_sex, g_age + 18, g_age + 42, g_age + 21 + int(rnd() * 11))
        if mid < 0:
            give_back()
            return None
        taken.append((mid_sex, mid))
        head_sex = M if rnd() < 0.65 else F
        head = pool.take(head_sex, mid + 18, mid + 42, mid + 22 + int(rnd() * 11))
        if head < 0:
            give_back()
            return None
        members = [_Member(head, head_sex, HEAD)]
        with_head_spouse = spouses >= 2 or (spouses == 1 and rnd() < 0.5)
        with_mid_spouse = spouses >= 2 or (spouses == 1 and not with_head_spouse)
        if with_head_spouse:
            s_sex = 1 - head_sex
            if s_sex == F:
                s = pool.take(F, max(mid + 18, head - 12), head + 5, head - int(rnd() * 7))
            else:
                s = pool.take(M, max(mid + 18, head - 5), head + 12, head + int(rnd() * 7))
            if s >= 0:
                members.append(_Member(s, s_sex, SPOUSE))
                _couple(members, 0, 1)
        parents_of_mid = list(range(len(members)))
        members.append(_Member(mid, mid_sex, CHILD))
        mid_i = len(members) - 1
        for p in parents_of_mid:
            _set_parent(members, mid_i, p)
        grand_parents = [mid_i]
        if with_mid_spouse:
            cl_sex = 1 - mid_sex
            lo, hi = max(18, g_age + 18, mid - 10), min(mid + 10, head - 18 + 10)
            target = mid - int(rnd() * 5) if cl_sex == F else mid + int(rnd() * 5)
            cl = pool.take(cl_sex, lo, hi, target)
            if cl >= 0:
                members.append(_Member(cl, cl_sex, CHILD_IN_LAW))
                _couple(members, mid_i, len(members) - 1)
                grand_parents.append(len(members) - 1)
        members.append(_Member(g_age, g_sex, GRANDCHILD))
        for p in grand_parents:
            _set_parent(members, len(members) - 1, p)
        self._more_children(members, grand_parents, size - len(members), GRANDCHILD)
        return members

    def _household(self, size: int) -> list[_Member] | None:
        if size == 1:
            return self._single()
        kind = (self.kinds.get(size) or self.large_kinds).pick(self.rnd)
        if kind == COUPLE:
            found = self._couple()
        elif kind == FAMILY:
            found = self._family(size, couple=True)
        elif kind == SINGLE_PARENT:
            found = self._family(size, couple=False)
        elif kind == THREE_GEN_UP:
            found = self._three_gen_up(size)
        else:
            found = self._three_gen_down(size)
        return found or self._couple() or self._single()

    def _build_households(self, *, final: bool) -> list[list[_Member]]:
        households: list[list[_Member]] = []
        pool = self.pool
        keep = 0 if final else BLOCK // 40  # leave a remainder to mix into the next block
        while pool.total > keep:
            size = min(self.sizes.pick(self.rnd), pool.total)
            members = self._household(size)
            if members is None:
                break  # only minors are left
            households.append(members)
        if final and pool.total:
            self._place_leftovers(households)
        return households

    def _place_leftovers(self, households: list[list[_Member]]) -> None:
        """Minors nobody could parent: grandchild or relative of a fitting head."""
        counts = self.pool.counts
        for sex in (M, F):
            for age in range(MAX_AGE + 1):
                for _ in range(counts[sex][age]):
                    host = self._host_for(households, age)
                    if host is None:
                        households.append([_Member(age, sex, HEAD)])
                        continue
                    head_age = next(m.age for m in host if m.rel == HEAD)
                    rel = GRANDCHILD if head_age >= age + 36 else RELATIVE
                    host.append(_Member(age, sex, rel))
                counts[sex][age] = 0
        self.pool.total = 0

    def _host_for(self, households: list[list[_Member]], age: int) -> list[_Member] | None:
        if not households:
            return None
        start = int(self.rnd() * len(households))
        fallback = None
        for k in range(len(households)):
            hh = households[(start + k) % len(households)]
            head_age = next(m.age for m in hh if m.rel == HEAD)
            if head_age >= age + 18:
                if head_age >= age + 36:
                    return hh
                fallback = fallback or hh
        return fallback or households[start]

    # -- turning households into rows -------------------------------------------------------
    def blocks(self, people: int) -> Iterator[RowBatch]:
        """Yield rows for ``people`` persons, one batch per generation block."""
        if people < 1:
            raise SeedError("people must be at least 1")
        remaining = people
        while remaining > 0:
            t0 = time.perf_counter()
            n = min(BLOCK, remaining)
            remaining -= n
            self._fill_pool(n)
            batch = RowBatch()
            for members in self._build_households(final=remaining == 0):
                self._materialize(members, batch)
            self.generate_seconds += time.perf_counter() - t0
            yield batch

    def _id_number(self, id_code: str, sex: int, year: int) -> str:
        """A new personal ID number, unique in this run and in the database."""
        key = (id_code, sex, year)
        prefix = self._prefixes.get(key)
        if prefix is None:
            # Digits 1-6 by registry.idnumbers.compose; the serial (7-12) is added below.
            prefix = idnumbers.compose(id_code, SEXES[sex], year, 0)[:6]
            self._prefixes[key] = prefix
            found = self.existing_serials(prefix) if self.existing_serials else ()
            self._serials[prefix] = set(found)
        used = self._serials[prefix]
        if len(used) >= 1_000_000:
            raise SeedError(f"no free ID-number serial left for prefix {prefix}")
        rnd = self.rnd
        serial = int(rnd() * 1_000_000)
        while serial in used:
            serial = int(rnd() * 1_000_000)
        used.add(serial)
        return f"{prefix}{serial:06d}"

    def _home_town(self, birth_province: UnitRef, local: bool) -> int:
        rnd = self.rnd
        if local and rnd() < 0.5:
            return self.province_communes[int(rnd() * len(self.province_communes))]
        options = self.geo.legacy_communes.get(
            birth_province.id
        ) or self.geo.successor_communes.get(birth_province.id)
        if not options:
            options = self.province_communes
        return options[int(rnd() * len(options))]

    def _address(self, commune: UnitRef, batch: RowBatch) -> int:
        rnd = self.rnd
        label, urban = self.commune_info[commune.id]
        draw = rnd()
        if urban and draw < 0.85:
            number = 1 + int(rnd() * 250)
            street_name = self.streets[int(rnd() * len(self.streets))]
            if draw < 0.25:
                lane = f"{number}/{1 + int(rnd() * 40)}"
                street = f"{self.alley_word} {lane}, đường {street_name}"
            else:
                street = f"Số {number}, đường {street_name}"
        elif urban:
            street = f"Tổ dân phố {1 + int(rnd() * 30)}"
        else:
            street = f"{self.village_word} {1 + int(rnd() * 12)}"
        aid = self.next.address
        self.next.address += 1
        batch.addresses.append(
            (
                aid,
                f"{street}, {label}, {self.province_label}",
                street,
                commune.id,
                None,
                self.geo.province.id,
                commune.id,
            )
        )
        return aid

    def _materialize(self, members: list[_Member], batch: RowBatch) -> None:  # noqa: PLR0912, PLR0915 -- one pass per household keeps generation fast
        rnd = self.rnd
        nxt = self.next
        today_ord = self.today_ord
        names = self.names
        iso = self.iso
        stamp = self.timestamp
        province_id = self.geo.province.id
        persons = batch.persons
        memberships = batch.memberships
        residences = batch.residences
        events = batch.events

        commune = self.commune_pick.pick(rnd)
        origin = self.commune_origin.get(commune.id) or self.local_legacy.pick(rnd)
        address_id = self._address(commune, batch)
        hh_id = nxt.household
        nxt.household += 1
        batch.households.append(
            (
                hh_id,
                f"{self.household_prefix}{nxt.household_seq:08d}",
                address_id,
                commune.id,
                stamp,
                None,
            )
        )
        nxt.household_seq += 1
        hh_ethnicity = self.ethnicity.pick(rnd)
        hh_religion = self.religion.pick(rnd)

        # Oldest first (parents are named before their children), ids in that order.
        ordered = sorted(members, key=_by_age_desc)
        # Ids and birth dates first: links and parents' dates need them.
        windows = self._age_windows
        for m in ordered:
            m.id = nxt.person
            nxt.person += 1
            first, last = windows[m.age]
            m.birth = first + int(rnd() * (last - first + 1))
        for m in members:
            for p in (m.father, m.mother):
                if p >= 0 and members[p].latest_child < m.birth:
                    members[p].latest_child = m.birth
        head = next(m for m in members if m.rel == HEAD)
        established = head.birth + int((20 + rnd() * 10) * 365.25)
        established = max(head.birth, min(established, today_ord - 30))
        first_grandchild = min((m.birth for m in members if m.rel == GRANDCHILD), default=0)

        iso_cache = self._iso_cache
        death_rate = self.death_rate
        for m in ordered:
            sex = m.sex
            rel = m.rel
            age = m.age
            migrant = rel in _MAY_BE_MIGRANT and rnd() < MIGRANT_SHARE_ADULTS and self.has_other
            birth_province = self.other_legacy.pick(rnd) if migrant else origin
            father = members[m.father] if m.father >= 0 else None
            mother = members[m.mother] if m.mother >= 0 else None
            if father is not None:
                family = father.family
                m.ethnicity = (
                    father.ethnicity if mother is None or rnd() < 0.75 else mother.ethnicity
                )
                m.home = father.home
            elif mother is not None:
                if mother.child_family is None:
                    mother.child_family = names.family.pick(rnd)
                family = mother.child_family
                m.ethnicity = mother.ethnicity
                m.home = mother.home
            else:
                family = names.family.pick(rnd)
                m.ethnicity = hh_ethnicity if rnd() >= 0.08 else self.ethnicity.pick(rnd)
                m.home = self._home_town(birth_province, not migrant)
            m.family = family
            year_only = age >= 65 and rnd() < YEAR_ONLY_BIRTH_DATE_SHARE_65_PLUS
            birth = date.fromordinal(m.birth)
            if year_only:
                birth = date(birth.year, 1, 1)
                m.birth = birth.toordinal()
            born = m.birth
            middle = names.middle[sex, birth.year < 1990].pick(rnd)
            given = names.given[sex].pick(rnd)
            id_number = self._id_number(birth_province.id_code, sex, birth.year)
            religion = hh_religion if rnd() >= 0.1 else self.religion.pick(rnd)

            if rel == PARENT:
                since = min(today_ord - 1, established + int(rnd() * 15 * 365))
            elif rel == CHILD_IN_LAW:
                since = max(established, born + int((20 + rnd() * 8) * 365.25))
                if first_grandchild:
                    since = min(since, first_grandchild)
                since = min(since, today_ord - 1)
            else:
                since = established
            since = m.since = max(since, born)

            # Deceased: never the head, so every household keeps its head.
            death = 0
            if rel != HEAD and rnd() < death_rate[age]:
                lo = max(born + 1, m.latest_child, since, today_ord - DEATH_LOOKBACK_DAYS)
                if lo < today_ord:
                    death = lo + int(rnd() * (today_ord - lo))
            m.death = death
            death_iso = (iso_cache.get(death) or iso(death)) if death else None
            birth_iso = iso_cache.get(born) or iso(born)
            since_iso = iso_cache.get(since) or iso(since)
            pid = m.id

            persons.append(
                (
                    pid,
                    id_number,
                    f"{family[0]} {middle[0]} {given[0]}",
                    f"{family[1]} {middle[1]} {given[1]}",
                    "",
                    birth_iso,
                    _YEAR if year_only else _DAY,
                    SEXES[sex],
                    m.ethnicity,
                    religion,
                    "VN",
                    birth_province.id,
                    None,
                    m.home,
                    father.id if father is not None else None,
                    mother.id if mother is not None else None,
                    members[m.spouse].id if m.spouse >= 0 else None,
                    _DECEASED if death else _ALIVE,
                    death_iso,
                    _ACTIVE,
                    commune.id,
                    province_id,
                    stamp,
                    stamp,
                )
            )
            memberships.append((nxt.membership, hh_id, pid, rel, since_iso, death_iso))
            nxt.membership += 1
            residences.append(
                (
                    nxt.residence,
                    pid,
                    _PERMANENT,
                    address_id,
                    commune.id,
                    hh_id,
                    since_iso,
                    None,
                    death_iso,
                    _DIED if death else "",
                    None,
                    stamp,
                )
            )
            nxt.residence += 1
            if not death and age >= 15:
                draw = rnd()
                if draw < _OTHER_RESIDENCE_SHARE:
                    self._other_residences(m, draw, commune, address_id, hh_id, batch)
            self._cards(m, birth, id_number, batch)
            events.append(
                (
                    nxt.event,
                    pid,
                    _BIRTH,
                    birth_iso,
                    CIVIL_STATUS_LAW,
                    None,
                    "",
                    None,
                    EVENT_DETAILS,
                    None,
                    stamp,
                )
            )
            nxt.event += 1
            if death:
                events.append(
                    (
                        nxt.event,
                        pid,
                        _DEATH,
                        death_iso,
                        CIVIL_STATUS_LAW,
                        None,
                        "",
                        None,
                        EVENT_DETAILS,
                        None,
                        stamp,
                    )
                )
                nxt.event += 1

    def _other_residences(  # noqa: PLR0917 -- internal, called from the hot loop
        self,
        m: _Member,
        draw: float,
        commune: UnitRef,
        address_id: int,
        hh_id: int,
        batch: RowBatch,
    ) -> None:
        """A temporary residence elsewhere in the province, or a temporary absence."""
        rnd = self.rnd
        nxt = self.next
        today_ord = self.today_ord
        if draw < TEMPORARY_RESIDENCE_SHARE and len(self.geo.communes) > 1:
            other = commune
            while other.id == commune.id:
                other = self.commune_pick.pick(rnd)
            start = max(m.since, today_ord - 30 - int(rnd() * 700))
            end = max(start + 180 + int(rnd() * 550), today_ord + 30 + int(rnd() * 335))
            temp_address = self._address(other, batch)
            batch.residences.append(
                (
                    nxt.residence,
                    m.id,
                    _TEMPORARY,
                    temp_address,
                    other.id,
                    None,
                    self.iso(start),
                    self.iso(end),
                    None,
                    "Học tập" if m.age < 23 else "Làm việc",
                    None,
                    self.timestamp,
                )
            )
            nxt.residence += 1
        elif draw < TEMPORARY_RESIDENCE_SHARE + TEMPORARY_ABSENCE_SHARE:
            start = max(m.since, today_ord - 10 - int(rnd() * 360))
            end = max(start + 90 + int(rnd() * 630), today_ord + 30)
            batch.residences.append(
                (
                    nxt.residence,
                    m.id,
                    _ABSENCE,
                    address_id,
                    commune.id,
                    hh_id,
                    self.iso(start),
                    self.iso(end),
                    None,
                    "Đi làm ăn xa" if rnd() < 0.7 else "Đi học",
                    None,
                    self.timestamp,
                )
            )
            nxt.residence += 1

    def _cards(self, m: _Member, birth: date, id_number: str, batch: RowBatch) -> None:
        """The current card (and the one it replaced, if renewed since the chip rollout)."""
        rnd = self.rnd
        today_ord = self.today_ord
        end = m.death or today_ord + 1  # cards are issued before this day
        if m.age >= 14:
            # 14 years are at most 5,114 days: the first card comes after the 14th birthday.
            earliest = max(m.birth + 5114 + int(rnd() * 120), _CHIP_START_ORD)
            lo, hi = self.card_periods.pick(rnd)
            issue = max(lo + int(rnd() * (hi - lo + 1)), earliest)
        elif rnd() < CHILD_CARD_SHARE:
            issue = max(_CAN_CUOC_START_ORD, m.birth + 30)
            issue += int(rnd() * max(1, today_ord - issue + 1))
        else:
            return
        if issue >= end:
            return
        expiry = cards.expiry_date(birth, date.fromordinal(issue))
        expiry_ord = expiry.toordinal() if expiry is not None else 0
        if expiry is not None and expiry_ord < today_ord:
            renewal = expiry_ord + int(rnd() * 120)
            if renewal < end and rnd() < CARD_RENEWED_SHARE:
                self._card_row(m.id, id_number, issue, expiry, _REPLACED, batch)
                issue = renewal
                expiry = cards.expiry_date(birth, date.fromordinal(issue))
                expiry_ord = expiry.toordinal() if expiry is not None else 0
        if m.death:
            status = _REVOKED
        elif expiry is not None and expiry_ord < today_ord:
            status = _EXPIRED
        else:
            status = _VALID
        self._card_row(m.id, id_number, issue, expiry, status, batch)

    def _card_row(  # noqa: PLR0917 -- internal, called per card in the hot loop
        self,
        person_id: int,
        number: str,
        issue: int,
        expiry: date | None,
        status: str,
        batch: RowBatch,
    ) -> None:
        iso = self._iso_cache.get(issue) or self.iso(issue)
        batch.cards.append(
            (
                self.next.card,
                person_id,
                number,
                _CHIP if issue < _CAN_CUOC_START_ORD else _CAN_CUOC,
                iso,
                expiry.isoformat() if expiry is not None else None,
                ISSUING_AUTHORITY,
                status,
            )
        )
        self.next.card += 1


# --- Reading what the generator needs from the database -------------------------------
def load_geo_context(province_code: str) -> GeoContext:
    units = AdministrativeUnit.objects
    current = Scheme.CURRENT.value
    province = units.filter(scheme=current, level=Level.PROVINCE, code=province_code).first()
    if province is None:
        valid = list(
            units.filter(scheme=current, level=Level.PROVINCE)
            .order_by("code")
            .values_list("code", "name")
        )
        if not valid:
            raise SeedError(
                "no provinces of the 2025 scheme are loaded; run `congdan migrate` first"
            )
        listing = ", ".join(f"{code} {name}" for code, name in valid)
        raise SeedError(f"unknown province code {province_code!r}. Valid codes: {listing}")
    fields = ("id", "code", "name", "division_type", "id_code")
    communes = [
        UnitRef(*row)
        for row in units.filter(scheme=current, level=Level.COMMUNE, parent=province)
        .order_by("code", "id")
        .values_list(*fields)
    ]
    legacy = list(
        units.filter(scheme=Scheme.LEGACY, level=Level.PROVINCE)
        .exclude(id_code="")
        .order_by("id_code", "id")
        .values_list(*fields, "successor_id")
    )
    local = [UnitRef(*row[:5]) for row in legacy if row[5] == province.id]
    other = [UnitRef(*row[:5]) for row in legacy if row[5] != province.id]
    legacy_ids = {row[0] for row in legacy}

    # Legacy communes, by legacy province (their parent is a district or the province).
    legacy_communes: dict[int, list[int]] = {}
    origin_votes: dict[int, dict[int, int]] = {}
    for cid, parent_id, grandparent_id, successor_id in (
        units.filter(scheme=Scheme.LEGACY, level=Level.COMMUNE)
        .order_by("code", "id")
        .values_list("id", "parent_id", "parent__parent_id", "successor_id")
    ):
        prov = parent_id if parent_id in legacy_ids else grandparent_id
        if prov is None or prov not in legacy_ids:
            continue
        legacy_communes.setdefault(prov, []).append(cid)
        if successor_id is not None:
            votes = origin_votes.setdefault(successor_id, {})
            votes[prov] = votes.get(prov, 0) + 1
    commune_ids = {c.id for c in communes}
    commune_origin = {
        cid: max(sorted(votes.items()), key=lambda kv: kv[1])[0]
        for cid, votes in origin_votes.items()
        if cid in commune_ids
    }
    by_current_province: dict[int, list[int]] = {}
    for cid, parent_id in (
        units.filter(scheme=current, level=Level.COMMUNE)
        .order_by("code", "id")
        .values_list("id", "parent_id")
    ):
        by_current_province.setdefault(parent_id, []).append(cid)
    successor_communes = {
        row[0]: by_current_province.get(row[5], []) for row in legacy if row[5] is not None
    }
    return GeoContext(
        province=UnitRef(
            province.id, province.code, province.name, province.division_type, province.id_code
        ),
        communes=communes,
        local_legacy=local,
        other_legacy=other,
        commune_origin=commune_origin,
        legacy_communes=legacy_communes,
        successor_communes=successor_communes,
    )


def load_reference_data() -> ReferenceData:
    ethnicities = dict(Ethnicity.objects.values_list("code", "id"))
    religions = dict(Religion.objects.values_list("code", "id"))
    if not ethnicities:
        raise SeedError("no ethnic groups are loaded; run `congdan migrate` first")
    return ReferenceData(ethnicity_ids=ethnicities, religion_ids=religions)


# --- Loading ------------------------------------------------------------------------------
@dataclass(frozen=True)
class SeedStats:
    province_code: str
    seed: int
    vendor: str
    persons: int
    households: int
    addresses: int
    memberships: int
    residences: int
    identity_cards: int
    civil_events: int
    seconds: float
    # Time spent generating rows (overlaps loading when run in the background), time
    # until the last row was written, and time to rebuild indexes and constraints.
    generate_seconds: float = 0.0
    load_seconds: float = 0.0
    finish_seconds: float = 0.0

    @property
    def rows(self) -> int:
        return (
            self.persons
            + self.households
            + self.addresses
            + self.memberships
            + self.residences
            + self.identity_cards
            + self.civil_events
        )

    @property
    def persons_per_second(self) -> float:
        return self.persons / self.seconds if self.seconds > 0 else float("inf")


def _table(model: type[Any]) -> str:
    return str(model._meta.db_table)


def _start_ids(cursor: Any, vendor: str, province_code: str) -> StartIds:
    start = StartIds()
    for attr, model in (
        ("address", Address),
        ("household", Household),
        ("person", Person),
        ("membership", HouseholdMembership),
        ("residence", Residence),
        ("card", IdentityCard),
        ("event", CivilEvent),
    ):
        table = _table(model)
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608 -- table name from model metadata
        high = int(cursor.fetchone()[0])
        if vendor == "postgresql":
            cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            sequence = cursor.fetchone()[0]
            if sequence:
                cursor.execute(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 -- sequence name from the catalogue
                last_value, is_called = cursor.fetchone()
                high = max(high, int(last_value) if is_called else int(last_value) - 1)
        elif vendor == "sqlite":
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            found = cursor.fetchone()
            if found:
                high = max(high, int(found[0]))
        setattr(start, attr, high + 1)
    low, high_code = f"{province_code}{0:08d}", f"{province_code}{99_999_999:08d}"
    cursor.execute(
        f"SELECT MAX(code) FROM {_table(Household)} WHERE code >= %s AND code <= %s",  # noqa: S608 -- table name from model metadata
        [low, high_code],
    )
    found_code = cursor.fetchone()[0]
    if found_code and len(found_code) == len(low) and found_code.isdigit():
        start.household_seq = int(found_code[len(province_code) :]) + 1
    return start


def _existing_serials_lookup(cursor: Any) -> Callable[[str], set[int]] | None:
    """Serials already used per 6-digit prefix; None when the person table is empty."""
    table = _table(Person)
    cursor.execute(f"SELECT 1 FROM {table} LIMIT 1")  # noqa: S608 -- table name from model metadata
    if cursor.fetchone() is None:
        return None

    def lookup(prefix: str) -> set[int]:
        cursor.execute(
            f"SELECT id_number FROM {table} WHERE id_number >= %s AND id_number <= %s",  # noqa: S608 -- table name from model metadata
            [prefix + "000000", prefix + "999999"],
        )
        return {int(row[0][6:]) for row in cursor.fetchall() if row[0][6:].isdigit()}

    return lookup


class _SqliteWriter:
    def __init__(self) -> None:
        self.raw = connection.connection
        self.statements = {
            _table(model): (
                f"INSERT INTO {_table(model)} ({', '.join(columns)}) "  # noqa: S608 -- names from model metadata
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            for model, columns in TABLES
        }

    def write(self, model: type[Any], rows: list[tuple[Any, ...]]) -> None:
        if rows:
            self.raw.executemany(self.statements[_table(model)], rows)

    def finish(self, start: StartIds, end: StartIds) -> None:
        """SQLite's AUTOINCREMENT table follows explicit ids by itself."""


class _PostgresWriter:
    def __init__(self) -> None:
        self.raw = connection.connection
        self.cursor = self.raw.cursor()
        self.statements = {
            _table(model): f"COPY {_table(model)} ({', '.join(columns)}) FROM STDIN"
            for model, columns in TABLES
        }

    def write(self, model: type[Any], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        with self.cursor.copy(self.statements[_table(model)]) as copy:
            write_row = copy.write_row
            for row in rows:
                write_row(row)

    def finish(self, start: StartIds, end: StartIds) -> None:
        """Move each id sequence past the ids used here."""
        for attr, model in (
            ("address", Address),
            ("household", Household),
            ("person", Person),
            ("membership", HouseholdMembership),
            ("residence", Residence),
            ("card", IdentityCard),
            ("event", CivilEvent),
        ):
            last = getattr(end, attr) - 1
            if last >= getattr(start, attr):
                self.cursor.execute(
                    "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s)", [_table(model), last]
                )


def _lock_tables(cursor: Any, vendor: str, *, bulk: bool) -> None:
    if vendor == "postgresql":
        names = ", ".join(_table(model) for model, _columns in TABLES)
        # Writers wait until the seed commits, so the ids chosen here stay free. Bulk mode
        # alters the tables, which needs ACCESS EXCLUSIVE anyway: take it up front.
        mode = "ACCESS EXCLUSIVE" if bulk else "EXCLUSIVE"
        cursor.execute(f"LOCK TABLE {names} IN {mode} MODE")


# Session settings for the rebuild (restored afterwards): sorts for index builds in memory.
RESTORE_SETTINGS = (("maintenance_work_mem", "512MB"),)


class _BulkMode:
    """PostgreSQL: drop the foreign keys and secondary indexes of the loaded tables, and
    recreate them after the load.

    Deferred foreign-key checks fire once per row and key (about 30 per person) and cost
    more than the load itself; re-adding a constraint checks all rows in one join, and
    an index built once is cheaper than one maintained row by row. Definitions are read
    from the catalogue and restored verbatim (names included) in the same transaction,
    so a failure rolls everything back. Unique and primary-key indexes stay. (Keeping
    the indexes whose keys arrive in increasing order was measured too: slower.)

    (Not for SQLite: with deferred violations outstanding - spouses point at each other
    - SQLite looks up child rows through the foreign-key indexes on every parent insert.)
    """

    def __init__(self, cursor: Any, *, nested: bool) -> None:
        self.cursor = cursor
        self.nested = nested
        self.tables = [_table(model) for model, _columns in TABLES]
        self.constraints: list[tuple[str, str, str]] = []
        self.indexes: list[str] = []

    def drop(self) -> None:
        cur = self.cursor
        quote = connection.ops.quote_name
        if self.nested:
            # ALTER TABLE refuses a table with pending deferred checks: run them now.
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) "
            "FROM pg_constraint c WHERE c.contype = 'f' "
            "AND c.conrelid = ANY(%s::regclass[]) ORDER BY 1, 2",
            [self.tables],
        )
        self.constraints = list(cur.fetchall())
        cur.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) "
            "FROM pg_index i WHERE i.indrelid = ANY(%s::regclass[]) "
            "AND NOT i.indisunique AND NOT i.indisprimary AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) ORDER BY 1",
            [self.tables],
        )
        indexes = cur.fetchall()
        for table, name, _definition in self.constraints:
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {quote(name)}")
        for name, definition in indexes:
            cur.execute(f"DROP INDEX {name}")
            self.indexes.append(definition)

    def restore(self) -> None:
        cur = self.cursor
        quote = connection.ops.quote_name
        previous: dict[str, str] = {}
        for setting, value in RESTORE_SETTINGS:
            cur.execute("SELECT current_setting(%s)", [setting])
            previous[setting] = cur.fetchone()[0]
            cur.execute("SELECT set_config(%s, %s, true)", [setting, value])
        for definition in self.indexes:
            cur.execute(definition)
        # Fresh statistics: the constraint checks below and the first queries after the
        # seed plan with them (cheaper than waiting for autovacuum).
        for table in self.tables:
            cur.execute(f"ANALYZE {table}")
        for table, name, definition in self.constraints:
            cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {quote(name)} {definition}")
        for setting, value in previous.items():
            cur.execute("SELECT set_config(%s, %s, true)", [setting, value])
        if self.nested:
            cur.execute("SET CONSTRAINTS ALL DEFERRED")  # Django's default for its FKs


def _should_bulk(cursor: Any, people: int) -> bool:
    """Bulk mode pays off when the load is big next to what the tables already hold."""
    if people < BULK_MIN_PEOPLE:
        return False
    cursor.execute(
        f"SELECT COUNT(*) FROM (SELECT 1 FROM {_table(Person)} LIMIT %s) AS t",  # noqa: S608 -- table name from model metadata
        [people + 1],
    )
    return int(cursor.fetchone()[0]) <= people


def timestamp_value(vendor: str) -> Any:
    """One preformatted value for every created_at/recorded_at column.

    Dumping a datetime per row costs psycopg more than the rest of the row.
    """
    now = timezone.now()
    if vendor == "postgresql":
        return now.isoformat(sep=" ")
    return connection.ops.adapt_datetimefield_value(now)


def _progress_bar(*, enabled: bool) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        disable=not enabled,
    )


_DONE = object()


def _in_background(blocks: Iterator[RowBatch], depth: int = 3) -> Iterator[RowBatch]:
    """Run a block generator in a thread, ``depth`` blocks ahead of the consumer.

    Generation is pure Python; the consumer mostly waits on the database (psycopg waits
    on the socket and sqlite3 runs its statements with the GIL released), so the two
    overlap. Order is preserved: the output is the same as running inline.
    """
    handoff: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                handoff.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def run() -> None:
        try:
            for block in blocks:
                if not put(block):
                    return
            put(_DONE)
        except BaseException as exc:  # handed to the consumer, re-raised there
            put(exc)
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()  # a child process behind ``blocks`` is stopped here

    worker = threading.Thread(target=run, name="seed-generator", daemon=True)
    worker.start()
    try:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]  # only RowBatch, _DONE or exceptions are queued
    finally:
        stop.set()
        worker.join()


def _in_child_process(generator: PopulationGenerator, people: int) -> Iterator[RowBatch] | None:
    """Run the generator in a forked process; rows come back pickled through a pipe.

    The parent then only unpickles and feeds COPY/INSERT, the child generates the next
    block meanwhile, and the database gets the second core: on two cores this beats a
    thread (which shares one core with the COPY formatting under the GIL). Same output
    as running inline. None where fork is not available.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)

    def run() -> None:  # in the child: no database access, generation only
        receive.close()
        try:
            for block in generator.blocks(people):
                send.send(block.tables())
            send.send(("done", generator.next, generator.generate_seconds))
        except BaseException as exc:  # reported to the parent, re-raised there
            send.send(("error", f"{type(exc).__name__}: {exc}"))
        finally:
            send.close()

    child = context.Process(target=run, name="seed-generator", daemon=True)
    child.start()
    send.close()

    def blocks() -> Iterator[RowBatch]:
        try:
            while True:
                try:
                    item = receive.recv()
                except EOFError:
                    raise SeedError(
                        f"the generator process ended unexpectedly (exit code {child.exitcode})"
                    ) from None
                if item[0] == "done":
                    generator.next, generator.generate_seconds = item[1], item[2]
                    return
                if item[0] == "error":
                    raise SeedError(f"generating rows failed: {item[1]}")
                yield RowBatch(*item)
        finally:
            receive.close()
            if child.is_alive():
                child.kill()
            child.join()

    return blocks()


PARALLEL_MODES = ("auto", "thread", "off")


def _row_source(
    generator: PopulationGenerator, people: int, batch_size: int, parallel: str
) -> Iterator[RowBatch]:
    """Where the row blocks come from: a forked child process, a thread, or inline.

    Generation needs the database only to look up serials already taken; on an empty
    person table it runs alongside the load: in a child process ("auto", where fork is
    available) or a thread. The rows are the same either way.
    """
    if parallel == "off" or generator.existing_serials is not None:
        return generator.blocks(people)
    child = _in_child_process(generator, people) if parallel == "auto" else None
    if child is None:
        return _in_background(generator.blocks(people))
    # A reader thread drains the pipe, so the child keeps generating during a flush.
    return _in_background(child, depth=2 * max(1, batch_size // BLOCK) + 2)


def seed_population(
    *,
    province_code: str,
    people: int,
    seed: int = 1,
    ethnicity_mix: dict[str, float] | None = None,
    progress: bool = False,
    batch_size: int = 50_000,
    today: date | None = None,
    bulk: bool | None = None,
    parallel: str = "auto",
) -> SeedStats:
    """Generate ``people`` persons for the province and load them in one transaction.

    ``bulk`` (PostgreSQL; default: automatic, for big loads into small tables) drops
    foreign keys and secondary indexes of the loaded tables during the load and
    recreates them afterwards (``_BulkMode``). ``parallel`` ("auto", "thread", "off")
    chooses how generation runs alongside the load (``_row_source``).
    """
    if people < 1:
        raise SeedError("--people must be at least 1")
    if batch_size < 1:
        raise SeedError("--batch-size must be at least 1")
    if parallel not in PARALLEL_MODES:
        raise SeedError(f"parallel must be one of {', '.join(PARALLEL_MODES)}")
    vendor = connection.vendor
    if vendor not in ("postgresql", "sqlite"):
        raise SeedError(f"unsupported database {vendor}")
    today = today or timezone.localdate()
    started = time.perf_counter()
    geo = load_geo_context(province_code)
    refs = load_reference_data()
    counts = dict.fromkeys((model for model, _c in TABLES), 0)
    nested = connection.in_atomic_block

    with transaction.atomic(), ExitStack() as stack:
        cursor = connection.cursor()
        if vendor != "postgresql":
            bulk = False
        elif bulk is None:
            bulk = _should_bulk(cursor, people)
        _lock_tables(cursor, vendor, bulk=bulk)
        start = _start_ids(cursor, vendor, geo.province.code)
        generator = PopulationGenerator(
            geo=geo,
            refs=refs,
            seed=seed,
            today=today,
            ethnicity_mix=ethnicity_mix,
            start=start,
            existing_serials=_existing_serials_lookup(cursor),
            timestamp=timestamp_value(vendor),
        )
        writer: _SqliteWriter | _PostgresWriter = (
            _PostgresWriter() if vendor == "postgresql" else _SqliteWriter()
        )
        bulk_mode = _BulkMode(cursor, nested=nested) if bulk else None
        if bulk_mode is not None:
            bulk_mode.drop()
        # The generator may fork: start it before the progress bar starts its thread.
        blocks = _row_source(generator, people, batch_size, parallel)
        stack.callback(getattr(blocks, "close", lambda: None))
        bar = stack.enter_context(_progress_bar(enabled=progress))
        task = bar.add_task(f"Seeding {geo.province.name}", total=people)
        pending = RowBatch()

        def flush() -> None:
            written = len(pending)
            for (model, _columns), rows in zip(TABLES, pending.tables(), strict=True):
                writer.write(model, rows)
                counts[model] += len(rows)
                rows.clear()
            bar.advance(task, written)

        for block in blocks:
            pending.extend(block)
            if len(pending) >= batch_size:
                flush()
        flush()
        load_seconds = time.perf_counter() - started
        if bulk_mode is not None:
            bar.update(task, description="Rebuilding indexes and constraints")
            bulk_mode.restore()
        writer.finish(start, generator.next)
    seconds = time.perf_counter() - started
    return SeedStats(
        province_code=province_code,
        seed=seed,
        vendor=vendor,
        persons=counts[Person],
        households=counts[Household],
        addresses=counts[Address],
        memberships=counts[HouseholdMembership],
        residences=counts[Residence],
        identity_cards=counts[IdentityCard],
        civil_events=counts[CivilEvent],
        seconds=seconds,
        generate_seconds=generator.generate_seconds,
        load_seconds=load_seconds,
        finish_seconds=seconds - load_seconds,
    )


__all__ = [
    "GeoContext",
    "PopulationGenerator",
    "ReferenceData",
    "SeedError",
    "SeedStats",
    "StartIds",
    "UnitRef",
    "load_geo_context",
    "parse_ethnicity_mix",
    "seed_population",
]
