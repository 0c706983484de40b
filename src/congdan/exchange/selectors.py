"""Reads of the registry for member organisations: a person's record shaped per service
and narrowed to the granted fields, and attribute verification (match / no_match).

Every read here appends to the access log through ``policy.log``; callers (the API, the
GovStack facade, batch jobs) authorize first with ``policy.authorize``.
"""

from __future__ import annotations

import datetime as dt
import functools
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Channel, Outcome
from congdan.audit.services import read_and_log_sql
from congdan.core.errors import NotFound, ValidationFailed
from congdan.exchange import catalogue, policy
from congdan.exchange.policy import Authorization
from congdan.geo.selectors import cached_unit
from congdan.registry.models import (
    CardStatus,
    Ethnicity,
    HouseholdMembership,
    IdentityCard,
    Person,
    Religion,
    Residence,
    ResidenceKind,
)
from congdan.registry.selectors import check_id_number_format

MATCH = "match"
NO_MATCH = "no_match"

_PERSON = Person.objects.select_related("ethnicity", "religion")


def find_person(id_number: str) -> Person | None:
    """The person holding ``id_number`` (well-formed, else ``invalid_id_number``)."""
    number = check_id_number_format(id_number)
    return _PERSON.filter(id_number=number).first()


def find_persons(id_numbers: Iterable[str]) -> dict[str, Person]:
    """Persons by ID number, for a batch (numbers must already be well-formed)."""
    numbers = list(dict.fromkeys(id_numbers))
    found: dict[str, Person] = {}
    for start in range(0, len(numbers), 2000):
        chunk = numbers[start : start + 2000]
        for person in Person.objects.filter(id_number__in=chunk).only(
            "id", "id_number", "full_name", "birth_date", "sex", "residence_commune_id"
        ):
            found[person.id_number] = person
    return found


# --- shaping a record -----------------------------------------------------------------


def _unit(unit_id: int | None) -> dict[str, str] | None:
    unit = cached_unit(unit_id)
    return {"code": unit.code, "name": unit.name} if unit is not None else None


def _current(residences: list[Residence], kind: str, today: dt.date) -> Residence | None:
    for residence in residences:
        ended = residence.ended_on is not None and residence.ended_on <= today
        expired = residence.end_date is not None and residence.end_date < today
        if residence.kind == kind and residence.start_date <= today and not (ended or expired):
            return residence
    return None


@functools.lru_cache(maxsize=512)
def _reference_name(model: type[Ethnicity | Religion], pk: int | None) -> str | None:
    """Names of ethnic groups and religions, per process (reference data)."""
    if pk is None:
        return None
    return model.objects.filter(pk=pk).values_list("name", flat=True).first()


def _basic(person: Person) -> dict[str, Any]:
    return {
        "id_number": person.id_number,
        "full_name": person.full_name,
        "other_names": person.other_names,
        "birth_date": person.birth_date.isoformat(),
        "sex": person.sex,
        "nationality": person.nationality,
        "ethnicity": _reference_name(Ethnicity, person.ethnicity_id),
        "religion": _reference_name(Religion, person.religion_id),
        "home_town": _unit(person.home_town_id),
        "vital_status": person.vital_status,
        "death_date": person.death_date.isoformat() if person.death_date else None,
    }


def _residence(person: Person) -> dict[str, Any]:
    today = timezone.localdate()
    residences = list(
        Residence.objects.filter(person=person)
        .select_related("address")
        .order_by("-start_date", "-id")
    )
    permanent = _current(residences, ResidenceKind.PERMANENT, today)
    temporary = _current(residences, ResidenceKind.TEMPORARY, today)
    commune = cached_unit(permanent.commune_id) if permanent else None
    return {
        "permanent_address": permanent.address.text if permanent else None,
        "permanent_commune": _unit(permanent.commune_id) if permanent else None,
        "permanent_province": _unit(commune.parent_id) if commune is not None else None,
        "permanent_since": permanent.start_date.isoformat() if permanent else None,
        "temporary_address": temporary.address.text if temporary else None,
        "temporary_until": (
            temporary.end_date.isoformat() if temporary and temporary.end_date else None
        ),
    }


def _household(person: Person) -> dict[str, Any]:
    membership = (
        HouseholdMembership.objects.filter(person=person, until__isnull=True)
        .select_related("household")
        .first()
    )
    if membership is None:
        return dict.fromkeys(catalogue.HOUSEHOLD_FIELDS)
    members = list(
        membership.household.memberships.filter(until__isnull=True)
        .select_related("person")
        .order_by("person__birth_date")
    )
    head = next((m for m in members if m.relationship == "head"), None)
    return {
        "household_number": membership.household.code,
        "head_name": head.person.full_name if head else None,
        "relation_to_head": membership.relationship,
        "members": [
            {
                "id_number": m.person.id_number,
                "full_name": m.person.full_name,
                "relationship": m.relationship,
            }
            for m in members
        ],
    }


def _card(person: Person) -> dict[str, Any]:
    card = (
        IdentityCard.objects.filter(person=person)
        .order_by("-issue_date", "-id")
        .only("number", "status", "issue_date", "expiry_date")
        .first()
    )
    if card is None:
        return dict.fromkeys(catalogue.CARD_STATUS_FIELDS)
    status = card.status
    if status == CardStatus.VALID and card.expiry_date and card.expiry_date < timezone.localdate():
        status = CardStatus.EXPIRED
    return {
        "card_number": card.number,
        "card_status": status,
        "card_issue_date": card.issue_date.isoformat(),
        "card_expiry_date": card.expiry_date.isoformat() if card.expiry_date else None,
    }


_SHAPERS: dict[str, Callable[[Person], dict[str, Any]]] = {
    "person-basic": _basic,
    "person-residence": _residence,
    "household": _household,
    "card-status": _card,
}


def record(service_code: str, person: Person, fields: Iterable[str]) -> dict[str, Any]:
    """The person's data for a lookup service, only ``fields``."""
    shaper = _SHAPERS.get(service_code)
    if shaper is None:
        raise ValidationFailed(
            _("Dịch vụ %(service)s không phải dịch vụ tra cứu.") % {"service": service_code},
            code="wrong_service_kind",
        )
    full = shaper(person)
    return {name: full.get(name) for name in fields}


_PERSON_COLUMNS = list(Person._meta.concrete_fields)
# Fixed identifiers from the model; the ID number is a parameter.
_PERSON_SELECT = "SELECT {columns} FROM {table} WHERE id_number = %s".format(  # noqa: S608 -- see above
    columns=", ".join(f'"{f.column}"' for f in _PERSON_COLUMNS),
    table=Person._meta.db_table,
)


def _read_and_log(auth: Authorization, number: str, outcome: str, fields: Any) -> Person | None:
    """PostgreSQL: the person and the access-log entry in one round trip
    (``audit.services.read_and_log_sql``); the person's reference names come from the
    per-process caches."""
    caller = auth.caller
    sql, params = read_and_log_sql(
        _PERSON_SELECT,
        [number],
        person_column="id",
        channel=Channel.EXCHANGE,
        view=auth.service.code,
        fields=fields,
        purpose=auth.purpose.code,
        on_behalf_of=(caller.identifier, caller.member.code),
        subsystem=caller.identifier,
        outcome=outcome,
        hidden_until=auth.hidden_until,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    return Person.from_db(connection.alias, [f.attname for f in _PERSON_COLUMNS], row)


def _one_round_trip(auth: Authorization) -> bool:
    return connection.vendor == "postgresql" and not auth.purpose.requires_consent


def lookup(auth: Authorization, id_number: str) -> dict[str, Any]:
    """Look up one person for a lookup service: consent if the purpose needs it, the
    granted fields only, one access-log entry. A number nobody holds is ``NotFound``."""
    number = check_id_number_format(id_number)
    if _one_round_trip(auth):
        person = _read_and_log(auth, number, Outcome.OK, auth.fields)
    else:
        person = _PERSON.filter(id_number=number).first()
        policy.require_consent(auth, person)
        if person is not None:
            policy.log(auth, [person.pk], outcome=Outcome.OK)
    if person is None:
        raise NotFound(_("Không tìm thấy công dân có số định danh này."), code="person_not_found")
    return record(auth.service.code, person, auth.fields)


# --- verification ------------------------------------------------------------------------


def _norm_text(value: Any) -> str:
    return " ".join(unicodedata.normalize("NFC", str(value)).casefold().split())


def _card_number(person: Person) -> str | None:
    return (
        IdentityCard.objects.filter(person=person, status=CardStatus.VALID)
        .order_by("-issue_date")
        .values_list("number", flat=True)
        .first()
    )


def _commune_code(person: Person) -> str | None:
    unit = cached_unit(person.residence_commune_id)
    return unit.code if unit is not None else None


def compare(person: Person | None, attributes: Mapping[str, Any]) -> dict[str, str]:
    """``match`` / ``no_match`` per submitted attribute; nothing else is disclosed.

    Names compare exactly after Unicode normalisation, case and spacing (diacritics
    count: "Nguyen" does not match "Nguyễn"); dates as ISO ``YYYY-MM-DD``; sex ``M``/``F``;
    the commune by its code; the card number as given. A person nobody holds: every
    attribute ``no_match``.
    """
    results: dict[str, str] = {}
    for name, given in attributes.items():
        if person is None:
            results[name] = NO_MATCH
            continue
        if name == "full_name":
            ok = _norm_text(given) == _norm_text(person.full_name)
        elif name == "birth_date":
            ok = str(given).strip() == person.birth_date.isoformat()
        elif name == "sex":
            ok = str(given).strip().upper() == person.sex
        elif name == "permanent_commune":
            ok = str(given).strip() == (_commune_code(person) or "")
        elif name == "card_number":
            ok = str(given).strip() == (_card_number(person) or "")
        else:  # checked by the caller against the grant
            ok = False
        results[name] = MATCH if ok else NO_MATCH
    return results


def check_attributes(attributes: Mapping[str, Any]) -> None:
    if not attributes:
        raise ValidationFailed(
            _("Cần ít nhất một thông tin để xác thực (ví dụ full_name, birth_date)."),
            code="no_attributes",
            field="attributes",
        )
    unknown = [name for name in attributes if name not in catalogue.VERIFY_FIELDS]
    if unknown:
        raise ValidationFailed(
            _("Không xác thực được các thông tin: %(names)s. Được phép: %(allowed)s.")
            % {
                "names": ", ".join(str(u)[:40] for u in unknown[:10]),
                "allowed": ", ".join(catalogue.VERIFY_FIELDS),
            },
            code="unknown_attribute",
            field="attributes",
        )
    for name, value in attributes.items():
        if not isinstance(value, str) or len(value) > 200:
            raise ValidationFailed(
                _("Giá trị của %(name)s phải là chuỗi, tối đa 200 ký tự.") % {"name": name},
                code="invalid_attribute",
                field=name,
            )


def verify(auth: Authorization, id_number: str, attributes: Mapping[str, Any]) -> dict[str, Any]:
    """Verify submitted attributes of one person. Logs one entry (outcome ``verified``,
    the compared attribute names) when the number belongs to someone."""
    check_attributes(attributes)
    number = check_id_number_format(id_number)
    if _one_round_trip(auth):
        person = _read_and_log(auth, number, Outcome.VERIFIED, tuple(attributes))
    else:
        person = _PERSON.filter(id_number=number).first()
        policy.require_consent(auth, person)
        if person is not None:
            policy.log(auth, [person.pk], outcome=Outcome.VERIFIED, fields=tuple(attributes))
    results = compare(person, attributes)
    return {
        "id_number": id_number.strip(),
        "results": results,
        "all_match": all(value == MATCH for value in results.values()),
    }
