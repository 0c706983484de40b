"""Reads of citizens' data (DESIGN rule 2).

Every function here takes the acting user first, scopes by their jurisdiction (a person
outside it is a ``NotFound``, indistinguishable from a missing one) and appends an
access-log entry naming the fields read and the purpose.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection
from django.db.models import F, QuerySet
from django.db.models.functions import Collate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import ChangeRecord, Channel
from congdan.audit.services import log_access, to_jsonable
from congdan.core.errors import NotFound, ValidationFailed
from congdan.core.permissions import Perm, check_perm
from congdan.core.text import fold
from congdan.geo.selectors import commune_by_code
from congdan.registry import idnumbers
from congdan.registry.models import (
    CivilEvent,
    Household,
    HouseholdMembership,
    IdentityCard,
    Person,
    Residence,
)
from congdan.registry.scoping import can_see, households_for, persons_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

    Actor = User | AnonymousUser

DEFAULT_PURPOSE = "official_duty"
MAX_PAGE = 10_000
# A substring search (no name starts with the text) returns at most this many persons.
MAX_SUBSTRING_MATCHES = 500


def _name_key() -> Collate | F:
    """The folded name in byte order: ASCII after folding, so byte order is the display
    order, and PostgreSQL can range-scan its C-collated expression index."""
    if connection.vendor == "postgresql":
        return Collate("name_search", "C")
    return F("name_search")


def _has_control_chars(text: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in text)


PERSON_SUMMARY_FIELDS = ("id_number", "full_name", "birth_date", "sex", "residence_commune")
PERSON_DETAIL_FIELDS = (
    "id_number",
    "full_name",
    "other_names",
    "birth_date",
    "sex",
    "ethnicity",
    "religion",
    "nationality",
    "birth_registration_place",
    "home_town",
    "parents",
    "spouse",
    "vital_status",
    "identity_cards",
    "household",
    "residences",
    "civil_events",
    "change_history",
)


_RELATED = (
    "ethnicity",
    "religion",
    "residence_commune",
    "residence_commune__parent",
    "birth_registration_province",
    "birth_registration_place",
    "home_town",
    "father",
    "mother",
    "spouse",
)
# The exact lookup joins only what every reader shows; the rest loads on access. A
# twelve-table join costs the PostgreSQL planner more than the lookup itself.
_PERSON_RELATED = Person.objects.select_related("ethnicity", "religion")


def _person_queryset(actor: Actor) -> QuerySet[Person]:
    return persons_for(actor).select_related(*_RELATED)


def check_id_number_format(number: str) -> str:
    number = number.strip()
    problems = idnumbers.validate(number)
    if problems:
        raise ValidationFailed(problems[0].message, code="invalid_id_number", field="id_number")
    return number


def get_person(
    actor: Actor,
    *,
    id_number: str,
    channel: Channel | str,
    view: str,
    fields: tuple[str, ...] = PERSON_SUMMARY_FIELDS,
    purpose: str = DEFAULT_PURPOSE,
) -> Person:
    """The person with ``id_number`` if the actor may see them; logs the read."""
    check_perm(actor, Perm.PERSON_READ)
    number = check_id_number_format(id_number)
    # Fetch by the unique key, then apply the jurisdiction rule to the row: an exact
    # lookup is the hot path, and a scoped queryset costs more to compile than to run.
    person = _PERSON_RELATED.filter(id_number=number).first()
    if person is None or not can_see(actor, person):
        raise NotFound(_("Không tìm thấy công dân có số định danh này."), code="person_not_found")
    log_access(
        actor, person_ids=[person.pk], channel=channel, view=view, fields=fields, purpose=purpose
    )
    return person


@dataclass
class SearchPage:
    results: list[Person]
    page: int
    page_size: int
    has_next: bool
    query: dict[str, Any] = field(default_factory=dict)

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def search_persons(  # noqa: PLR0912 -- one parser for the search form's optional filters
    actor: Actor,
    *,
    q: str = "",
    birth_year: int | None = None,
    birth_date: dt.date | None = None,
    commune_code: str = "",
    page: int = 1,
    page_size: int | None = None,
    channel: Channel | str,
    purpose: str = DEFAULT_PURPOSE,
) -> SearchPage:
    """Search by ID number (exact) or name (diacritics- and case-insensitive).

    Paginated without a total count (a count over a common name on 1M rows costs more
    than the page itself); ``has_next`` comes from fetching one extra row.
    """
    check_perm(actor, Perm.PERSON_SEARCH)
    page_size = min(page_size or settings.CONGDAN_PAGE_SIZE, 100)
    if not 1 <= page <= MAX_PAGE:
        raise ValidationFailed(
            _("Số trang phải từ 1 đến %(max)d.") % {"max": MAX_PAGE},
            code="invalid_page",
            field="page",
        )
    if _has_control_chars(q) or _has_control_chars(commune_code):
        raise ValidationFailed(
            _("Nội dung tìm kiếm có ký tự không hợp lệ."), code="invalid_characters", field="q"
        )
    text = q.strip()
    if not text and not commune_code:
        raise ValidationFailed(
            _("Nhập số định danh, họ tên, hoặc chọn xã/phường để tìm kiếm."),
            code="empty_query",
            field="q",
        )
    qs = _person_queryset(actor)
    name_filter = ""
    if text.isascii() and text.isdigit():
        qs = qs.filter(id_number=check_id_number_format(text))
    elif text:
        folded = fold(text)
        if len(folded) < 2:
            raise ValidationFailed(
                _("Họ tên cần ít nhất 2 ký tự."), code="query_too_short", field="q"
            )
        name_filter = folded
    if birth_date is not None:
        qs = qs.filter(birth_date=birth_date)
    elif birth_year is not None:
        if not 1900 <= birth_year <= timezone.localdate().year:
            raise ValidationFailed(
                _("Năm sinh không hợp lệ."), code="invalid_birth_year", field="birth_year"
            )
        qs = qs.filter(
            birth_date__gte=dt.date(birth_year, 1, 1), birth_date__lte=dt.date(birth_year, 12, 31)
        )
    if commune_code:
        qs = qs.filter(residence_commune=commune_by_code(commune_code))
    offset = (page - 1) * page_size
    qs = qs.alias(name_key=_name_key())
    if name_filter:
        # Names that start with the text: a range scan of the C-ordered name index,
        # already in display order. Only when none does, names containing it.
        prefix = qs.filter(name_key__gte=name_filter, name_key__lt=name_filter + "\x7f")
        if page > 1 or prefix.exists():
            qs = prefix
        else:
            ids = list(
                qs.filter(name_search__contains=name_filter)
                .order_by()
                .values_list("pk", flat=True)[:MAX_SUBSTRING_MATCHES]
            )
            qs = qs.filter(pk__in=ids)
    rows: list[Person] = list(qs.order_by("name_key", "id")[offset : offset + page_size + 1])
    results = rows[:page_size]
    log_access(
        actor,
        person_ids=[p.pk for p in results],
        channel=channel,
        view="person_search",
        fields=PERSON_SUMMARY_FIELDS,
        purpose=purpose,
    )
    return SearchPage(
        results=results,
        page=page,
        page_size=page_size,
        has_next=len(rows) > page_size,
        query={"q": text, "birth_year": birth_year, "commune": commune_code},
    )


@dataclass
class PersonFile:
    """Everything the officer's person page shows, read in one scoped, logged call."""

    person: Person
    cards: list[IdentityCard]
    household: Household | None
    members: list[HouseholdMembership]
    residences: list[Residence]
    events: list[CivilEvent]
    changes: list[ChangeRecord]


def current_membership(person: Person) -> HouseholdMembership | None:
    return (
        HouseholdMembership.objects.filter(person=person, until__isnull=True)
        .select_related("household", "household__address", "household__commune")
        .first()
    )


def person_file(
    actor: Actor, *, id_number: str, channel: Channel | str, purpose: str = DEFAULT_PURPOSE
) -> PersonFile:
    check_perm(actor, Perm.PERSON_HISTORY_READ)
    person = get_person(
        actor,
        id_number=id_number,
        channel=channel,
        view="person_file",
        fields=PERSON_DETAIL_FIELDS,
        purpose=purpose,
    )
    membership = current_membership(person)
    # A person seen only through a temporary residence here: their home household lies
    # outside the actor's jurisdiction and is not shown.
    household = (
        membership.household
        if membership and households_for(actor).filter(pk=membership.household_id).exists()
        else None
    )
    members = (
        list(
            household.memberships.filter(until__isnull=True)
            .select_related("person")
            .order_by("person__birth_date")
        )
        if household
        else []
    )
    return PersonFile(
        person=person,
        cards=list(person.cards.all()),
        household=household,
        members=members,
        residences=residence_history_of(person),
        events=list(person.civil_events.select_related("source_agency")),
        changes=list(ChangeRecord.objects.filter(person=person).order_by("-at", "-id")[:200]),
    )


def residence_history_of(person: Person) -> list[Residence]:
    return list(
        person.residences.select_related(
            "address", "address__commune", "commune", "commune__parent", "registered_by"
        ).order_by("-start_date", "-id")
    )


def residence_history(
    actor: Actor, *, id_number: str, channel: Channel | str, purpose: str = DEFAULT_PURPOSE
) -> tuple[Person, list[Residence]]:
    person = get_person(
        actor,
        id_number=id_number,
        channel=channel,
        view="residence_history",
        fields=("id_number", "full_name", "residences"),
        purpose=purpose,
    )
    return person, residence_history_of(person)


def household_of(
    actor: Actor, *, id_number: str, channel: Channel | str, purpose: str = DEFAULT_PURPOSE
) -> tuple[Household, list[HouseholdMembership]]:
    """The person's current household and its current members (each member's read logged)."""
    check_perm(actor, Perm.PERSON_READ)
    number = check_id_number_format(id_number)
    person = persons_for(actor).filter(id_number=number).first()
    membership = current_membership(person) if person else None
    if (
        person is None
        or membership is None
        or not households_for(actor).filter(pk=membership.household_id).exists()
    ):
        raise NotFound(
            _("Không tìm thấy hộ gia đình của công dân này."), code="household_not_found"
        )
    household = membership.household
    members = list(
        household.memberships.filter(until__isnull=True)
        .select_related("person")
        .order_by("person__birth_date")
    )
    log_access(
        actor,
        person_ids=[m.person_id for m in members],
        channel=channel,
        view="household",
        fields=("id_number", "full_name", "birth_date", "sex", "relationship"),
        purpose=purpose,
    )
    return household, members


def get_household(actor: Actor, *, code: str) -> Household:
    """A household the actor may act on (for changes); 404 outside jurisdiction."""
    check_perm(actor, Perm.PERSON_READ)
    if not code.isascii() or not code.isalnum() or len(code) > 20:
        raise NotFound(_("Không tìm thấy hộ gia đình."), code="household_not_found")
    household = (
        households_for(actor)
        .select_related("address", "commune", "commune__parent")
        .filter(code=code)
        .first()
    )
    if household is None:
        raise NotFound(_("Không tìm thấy hộ gia đình."), code="household_not_found")
    return household


# --- Reading a person "as of" a past moment -------------------------------------------

AS_OF_FIELDS = (
    "full_name",
    "other_names",
    "birth_date",
    "birth_date_precision",
    "sex",
    "ethnicity_id",
    "religion_id",
    "nationality",
    "home_town_id",
    "father_id",
    "mother_id",
    "spouse_id",
    "vital_status",
    "death_date",
    "residence_commune_id",
    "residence_province_id",
)


def snapshot_as_of(person: Person, at: dt.datetime) -> dict[str, Any] | None:
    """The person's recorded values at ``at``, rewinding later changes. None if not yet
    recorded then. Values are as stored in the change log (dates as ISO strings)."""
    if person.created_at > at:
        return None
    values: dict[str, Any] = {name: to_jsonable(getattr(person, name)) for name in AS_OF_FIELDS}
    later = ChangeRecord.objects.filter(
        object_type="registry.person", object_id=person.pk, at__gt=at
    ).order_by("-at", "-id")
    for record in later:
        for name, (old, _new) in record.changes.items():
            if name in values:
                values[name] = old
    return values


def person_as_of(
    actor: Actor,
    *,
    id_number: str,
    at: dt.datetime,
    channel: Channel | str,
    purpose: str = DEFAULT_PURPOSE,
) -> dict[str, Any]:
    check_perm(actor, Perm.PERSON_HISTORY_READ)
    person = get_person(
        actor,
        id_number=id_number,
        channel=channel,
        view="person_as_of",
        fields=AS_OF_FIELDS,
        purpose=purpose,
    )
    snapshot = snapshot_as_of(person, at)
    if snapshot is None:
        raise NotFound(
            _("Công dân chưa có trong cơ sở dữ liệu tại thời điểm này."), code="not_recorded_yet"
        )
    snapshot["residences"] = [r for r in residence_history_of(person) if r.created_at <= at]
    return snapshot


__all__ = [
    "PersonFile",
    "SearchPage",
    "get_household",
    "get_person",
    "household_of",
    "person_as_of",
    "person_file",
    "residence_history",
    "search_persons",
]
