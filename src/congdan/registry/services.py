"""State changes of the population registry (DESIGN rule 1).

Each public function takes the acting user first, checks the permission declaratively,
runs in one transaction, locks what it changes, validates, writes, records the change
(who, old → new, reason, legal basis) and sends registry events on commit.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from congdan.audit.services import diff, record_change
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.jurisdiction import jurisdiction_of
from congdan.core.models import User
from congdan.core.permissions import Perm, requires
from congdan.geo.models import AdministrativeUnit
from congdan.geo.selectors import commune_by_code, id_code_of_province, province_by_id_code
from congdan.geo.services import build_address
from congdan.registry import idnumbers, signals
from congdan.registry.models import (
    CivilEvent,
    CivilEventKind,
    DatePrecision,
    Ethnicity,
    Household,
    HouseholdMembership,
    Person,
    RecordStatus,
    Relationship,
    Religion,
    Residence,
    ResidenceKind,
    Sex,
    VitalStatus,
)
from congdan.registry.scoping import households_for, persons_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Actor = User | AnonymousUser

MAX_TEMPORARY_RESIDENCE = dt.timedelta(days=2 * 366)  # Law on Residence 2020, Art. 27(3)
MIN_TEMPORARY_RESIDENCE = dt.timedelta(days=30)  # Art. 27(1): stays of 30 days or more
MAX_ADVANCE_REGISTRATION = dt.timedelta(days=30)
ID_ALLOCATION_ATTEMPTS = 20

# Birth registration (Luật Hộ tịch 2014, Điều 16). A child born within 300 days after a
# marriage ends (also by death) is the husband's (Luật Hôn nhân và gia đình 2014, Điều
# 88(1)), so a father may have died up to that long before the birth. A parent younger
# than MIN_PARENT_AGE_YEARS at the birth is refused as an implausible link (a data-entry
# check, not a legal age).
FATHER_DEATH_BEFORE_BIRTH = dt.timedelta(days=300)
MIN_PARENT_AGE_YEARS = 12

# Temporary absence (Luật Cư trú 2020, Điều 31). Art. 31(1) says who must declare:
# leaving the commune for 1 day or more (suspects and defendants on bail, persons
# serving non-custodial sentences or administrative measures), for 3 consecutive months
# or more (persons of military-service age and others with duties to the State), or,
# for everyone else, the district (since 1 July 2025: the commune) of permanent residence
# for 12 consecutive months or more. Which case applies is not recorded here, so no
# minimum beyond one day is enforced; anyone may declare. The law sets no maximum that
# we could verify; two years (as for a temporary residence, Art. 27(3)) is a limit of
# this platform: a longer absence is declared again when it runs out.
MIN_TEMPORARY_ABSENCE = dt.timedelta(days=1)
MAX_TEMPORARY_ABSENCE = dt.timedelta(days=2 * 366)
MAX_TEXT = 300  # Residence.reason; destinations are kept as short


# --- helpers (no transactions of their own) -------------------------------------------


def _agency(actor: Actor) -> Any:
    return getattr(actor, "agency", None)


def _lock_person(actor: Actor, person_id: int) -> Person:
    """Lock a person row the actor may change; 404 when missing or outside jurisdiction."""
    person = persons_for(actor).select_for_update().filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("Không tìm thấy công dân."), code="person_not_found")
    return person


def _lock_person_for(actor: Actor, person_id: int, dossier_ref: str) -> Person:
    """The person to change. Without a dossier the actor needs jurisdiction over them;
    with an approved dossier (the person or their parent applied to the commune where
    the change happens) the destination's jurisdiction, checked by the caller, decides."""
    if not dossier_ref:
        return _lock_person(actor, person_id)
    person = Person.objects.select_for_update().filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("Không tìm thấy công dân."), code="person_not_found")
    return person


def _require_alive(person: Person) -> None:
    if person.vital_status == VitalStatus.DECEASED:
        raise Conflict(
            _("Công dân đã được ghi nhận là đã chết; không thể thực hiện thay đổi này."),
            code="person_deceased",
        )


def _current_commune(code: str) -> AdministrativeUnit:
    """A commune in force today (2025 scheme); unknown or abolished codes are refused."""
    return commune_by_code(code)


def _require_within(actor: Actor, unit: AdministrativeUnit, field: str = "commune") -> None:
    if not jurisdiction_of(actor).covers(unit):
        raise PermissionDenied(
            _("%(unit)s nằm ngoài địa bàn quản lý của bạn.") % {"unit": unit.name},
            code="outside_jurisdiction",
            field=field,
        )


def _check_date(
    value: dt.date, *, field: str, not_before: dt.date | None = None, label: str | Promise = ""
) -> None:
    today = timezone.localdate()
    if value > today:
        raise ValidationFailed(
            _("%(label)s không được ở tương lai.") % {"label": label or _("Ngày")},
            code="date_in_future",
            field=field,
        )
    if not_before is not None and value < not_before:
        raise ValidationFailed(
            _("%(label)s không được trước ngày sinh.") % {"label": label or _("Ngày")},
            code="date_before_birth",
            field=field,
        )


def _earliest_birth(person: Person) -> dt.date:
    """The earliest day the recorded date of birth can stand for (given its precision)."""
    b = person.birth_date
    if person.birth_date_precision == DatePrecision.YEAR:
        return dt.date(b.year, 1, 1)
    if person.birth_date_precision == DatePrecision.MONTH:
        return dt.date(b.year, b.month, 1)
    return b


def _person_values(person: Person) -> dict[str, Any]:
    return {
        name: getattr(person, name)
        for name in (
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
    }


def _save_person_change(
    actor: Actor,
    person: Person,
    before: dict[str, Any],
    *,
    action: str,
    reason: str,
    legal_basis: str,
) -> None:
    changes = diff(before, _person_values(person))
    if not changes:
        return
    person.updated_at = timezone.now()
    person.save()
    record_change(
        actor,
        action=action,
        obj=person,
        person_id=person.pk,
        changes=changes,
        reason=reason,
        legal_basis=legal_basis,
    )


def _event(
    actor: Actor,
    person: Person,
    kind: CivilEventKind,
    when: dt.date,
    *,
    legal_basis: str,
    document_ref: str = "",
    details: dict[str, Any] | None = None,
    related: Person | None = None,
) -> CivilEvent:
    return CivilEvent.objects.create(
        person=person,
        kind=kind,
        event_date=when,
        legal_basis=legal_basis,
        source_agency=_agency(actor),
        document_ref=document_ref,
        details=details or {},
        related_person=related,
        recorded_by=actor if isinstance(actor, User) else None,
    )


def _end_residence(actor: Actor, residence: Residence, on: dt.date, reason: str) -> None:
    before = {"ended_on": residence.ended_on}
    residence.ended_on = on
    residence.save(update_fields=["ended_on"])
    record_change(
        actor,
        action="end_residence",
        obj=residence,
        person_id=residence.person_id,
        changes=diff(before, {"ended_on": on}),
        reason=reason,
    )


def _new_residence(
    actor: Actor,
    person: Person,
    *,
    kind: ResidenceKind,
    address: Any,
    commune: AdministrativeUnit,
    start: dt.date,
    end: dt.date | None = None,
    household: Household | None = None,
    reason: str = "",
    legal_basis: str = "",
) -> Residence:
    residence = Residence.objects.create(
        person=person,
        kind=kind,
        address=address,
        commune=commune,
        household=household,
        start_date=start,
        end_date=end,
        reason=reason,
        registered_by=_agency(actor),
    )
    record_change(
        actor,
        action=f"register_{kind}",
        obj=residence,
        person_id=person.pk,
        changes={
            "kind": [None, kind],
            "address": [None, address.text],
            "commune": [None, commune.code],
            "start_date": [None, start.isoformat()],
            "end_date": [None, end.isoformat() if end else None],
        },
        reason=reason,
        legal_basis=legal_basis,
    )
    return residence


def _on_commit(signal: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: signal.send(sender=Person, **kwargs))


def _move_permanent_residence(
    actor: Actor,
    person: Person,
    household: Household,
    *,
    address: Any,
    on: dt.date,
    action: str,
    end_reason: str,
    reason: str,
    legal_basis: str,
) -> Residence:
    """End the person's permanent residence and open one at the household's address on
    ``on``; keep the person's residence commune in step; event and signal on commit."""
    commune = household.commune
    for current in person.residences.filter(
        kind=ResidenceKind.PERMANENT, ended_on__isnull=True
    ).select_for_update():
        _end_residence(actor, current, on, reason=end_reason)
    residence = _new_residence(
        actor,
        person,
        kind=ResidenceKind.PERMANENT,
        address=address,
        commune=commune,
        start=on,
        household=household,
        reason=reason,
        legal_basis=legal_basis,
    )
    before = _person_values(person)
    person.residence_commune = commune
    person.residence_province_id = commune.parent_id
    _save_person_change(
        actor, person, before, action=action, reason=reason, legal_basis=legal_basis
    )
    _event(
        actor,
        person,
        CivilEventKind.RESIDENCE_CHANGE,
        on,
        legal_basis=legal_basis,
        details={"household": household.code, "address": address.text},
    )
    _on_commit(signals.residence_changed, person=person, residence=residence, actor=actor)
    return residence


# --- persons --------------------------------------------------------------------------


@dataclass(frozen=True)
class NewPerson:
    full_name: str
    birth_date: dt.date
    sex: str
    ethnicity_code: str
    birth_registration_province_code: str  # legacy 3-digit ID code, e.g. "048"
    birth_date_precision: str = DatePrecision.DAY
    religion_code: str = "00"
    nationality: str = "VN"
    other_names: str = ""
    father: Person | None = None
    mother: Person | None = None


def _validate_new_person(data: NewPerson) -> tuple[Ethnicity, Religion | None, Any]:
    if not data.full_name.strip():
        raise ValidationFailed(_("Họ tên không được để trống."), code="required", field="full_name")
    if data.sex not in Sex.values:
        raise ValidationFailed(_("Giới tính không hợp lệ."), code="invalid_sex", field="sex")
    if data.birth_date_precision not in DatePrecision.values:
        raise ValidationFailed(
            _("Độ chính xác ngày sinh không hợp lệ."),
            code="invalid_precision",
            field="birth_date_precision",
        )
    _check_birth_date(data.birth_date)
    ethnicity, religion = _reference_data(data.ethnicity_code, data.religion_code)
    province = province_by_id_code(data.birth_registration_province_code)
    return ethnicity, religion, province


def _check_birth_date(birth_date: dt.date) -> None:
    _check_date(birth_date, field="birth_date", label=_("Ngày sinh"))
    if birth_date.year < idnumbers.FIRST_CENTURY:
        raise ValidationFailed(
            _("Năm sinh phải từ 1900 trở đi."), code="invalid_birth_year", field="birth_date"
        )


def _reference_data(ethnicity_code: str, religion_code: str) -> tuple[Ethnicity, Religion]:
    ethnicity = Ethnicity.objects.filter(code=ethnicity_code).first()
    if ethnicity is None:
        raise ValidationFailed(
            _("Mã dân tộc %(code)s không có trong danh mục 54 dân tộc.") % {"code": ethnicity_code},
            code="unknown_ethnicity",
            field="ethnicity",
        )
    religion = Religion.objects.filter(code=religion_code).first()
    if religion is None:
        raise ValidationFailed(
            _("Mã tôn giáo không hợp lệ."), code="unknown_religion", field="religion"
        )
    return ethnicity, religion


def allocate_and_save(
    person: Person,
    province_id_code: str,
    *,
    rng: idnumbers.RandomSource = idnumbers.SYSTEM_RANDOM,
    attempts: int = ID_ALLOCATION_ATTEMPTS,
) -> Person:
    """Give ``person`` a fresh personal ID number and insert it.

    Collision-safe under concurrency: the unique constraint on ``id_number`` decides;
    a collision rolls back only the savepoint and draws again. Must run inside the
    caller's transaction.
    """
    for _attempt in range(attempts):
        person.id_number = idnumbers.random_number(
            province_id_code, person.sex, person.birth_date.year, rng
        )
        try:
            with transaction.atomic(savepoint=True):
                person.save(force_insert=True)
        except IntegrityError:
            person.pk = None
            person._state.adding = True
            if Person.objects.filter(id_number=person.id_number).exists():
                continue  # drew a number already issued: draw again
            raise
        return person
    raise Conflict(
        _("Không cấp được số định danh mới sau nhiều lần thử; vui lòng thử lại."),
        code="id_allocation_exhausted",
    )


@requires(Perm.PERSON_CREATE)
def register_person(
    actor: Actor,
    data: NewPerson,
    *,
    legal_basis: str = "",
    rng: idnumbers.RandomSource = idnumbers.SYSTEM_RANDOM,
) -> Person:
    """Create a person with a newly allocated personal ID number and a birth event."""
    ethnicity, religion, province = _validate_new_person(data)
    with transaction.atomic():
        person = Person(
            full_name=" ".join(data.full_name.split()),
            other_names=data.other_names.strip(),
            birth_date=data.birth_date,
            birth_date_precision=data.birth_date_precision,
            sex=data.sex,
            ethnicity=ethnicity,
            religion=religion,
            nationality=data.nationality,
            birth_registration_province=province,
            father=data.father,
            mother=data.mother,
        )
        allocate_and_save(person, province.id_code, rng=rng)
        record_change(
            actor,
            action="register_person",
            obj=person,
            person_id=person.pk,
            changes=diff({}, {"id_number": person.id_number, **_person_values(person)}),
            legal_basis=legal_basis,
        )
        _event(actor, person, CivilEventKind.BIRTH, data.birth_date, legal_basis=legal_basis)
    return person


CORRECTABLE_FIELDS = frozenset(
    {"full_name", "other_names", "ethnicity_id", "religion_id", "home_town_id", "nationality"}
)


@requires(Perm.PERSON_CORRECT)
def correct_person(
    actor: Actor,
    *,
    person_id: int,
    changes: dict[str, Any],
    reason: str,
    legal_basis: str,
    document_ref: str = "",
) -> Person:
    """A steward's correction of identity data, with its reason and legal basis."""
    unknown = set(changes) - CORRECTABLE_FIELDS
    if unknown:
        raise ValidationFailed(
            _("Không thể sửa trực tiếp các trường: %(f)s") % {"f": ", ".join(sorted(unknown))},
            code="field_not_correctable",
        )
    if not changes:
        raise ValidationFailed(_("Không có thông tin nào cần cải chính."), code="no_changes")
    if not reason.strip():
        raise ValidationFailed(_("Cần ghi rõ lý do cải chính."), code="required", field="reason")
    if "nationality" in changes and not re.fullmatch(r"[A-Z]{2}", str(changes["nationality"])):
        raise ValidationFailed(
            _("Quốc tịch phải là mã quốc gia 2 chữ cái (ISO 3166), ví dụ VN."),
            code="invalid_nationality",
            field="nationality",
        )
    if (
        changes.get("home_town_id") is not None
        and not AdministrativeUnit.objects.filter(
            pk=changes["home_town_id"], level__in=("province", "commune")
        ).exists()
    ):
        raise ValidationFailed(
            _("Quê quán phải là một tỉnh hoặc xã/phường."),
            code="invalid_home_town",
            field="home_town",
        )
    with transaction.atomic():
        person = _lock_person(actor, person_id)
        before = _person_values(person)
        for name, value in changes.items():
            setattr(person, name, " ".join(value.split()) if isinstance(value, str) else value)
        if not person.full_name:
            raise ValidationFailed(
                _("Họ tên không được để trống."), code="required", field="full_name"
            )
        kind = (
            CivilEventKind.NAME_CHANGE
            if person.full_name != before["full_name"]
            else CivilEventKind.CORRECTION
        )
        _save_person_change(
            actor, person, before, action="correct_person", reason=reason, legal_basis=legal_basis
        )
        _event(
            actor,
            person,
            kind,
            timezone.localdate(),
            legal_basis=legal_basis,
            document_ref=document_ref,
            details={"fields": sorted(changes), "reason": reason},
        )
    return person


# --- residence ------------------------------------------------------------------------


@requires(Perm.RESIDENCE_WRITE)
def register_temporary_residence(
    actor: Actor,
    *,
    person_id: int,
    commune_code: str,
    street: str,
    start_date: dt.date,
    end_date: dt.date,
    reason: str = "",
    legal_basis: str = "Luật Cư trú 2020, Điều 27–28",
    dossier_ref: str = "",
) -> Residence:
    """Register a temporary residence (tạm trú) in the officer's jurisdiction.

    A person holds one temporary residence at a time: a current one ends the day before
    the new one starts. With ``dossier_ref`` (an approved application by the person) the
    person may live anywhere: the police of the commune of stay decide.
    """
    if not street.strip():
        raise ValidationFailed(
            _("Nhập số nhà, đường hoặc thôn, tổ nơi tạm trú."), code="required", field="street"
        )
    if end_date <= start_date:
        raise ValidationFailed(
            _("Ngày kết thúc tạm trú phải sau ngày bắt đầu."),
            code="invalid_period",
            field="end_date",
        )
    if start_date > timezone.localdate() + MAX_ADVANCE_REGISTRATION:
        raise ValidationFailed(
            _("Chỉ đăng ký trước tối đa 30 ngày so với ngày bắt đầu tạm trú."),
            code="start_too_far_ahead",
            field="start_date",
        )
    if end_date - start_date < MIN_TEMPORARY_RESIDENCE:
        raise ValidationFailed(
            _("Chỉ đăng ký tạm trú cho thời gian từ 30 ngày trở lên."),
            code="period_too_short",
            field="end_date",
        )
    if end_date - start_date > MAX_TEMPORARY_RESIDENCE:
        raise ValidationFailed(
            _("Thời hạn tạm trú tối đa là 02 năm (có thể gia hạn)."),
            code="period_too_long",
            field="end_date",
        )
    commune = _current_commune(commune_code)
    _require_within(actor, commune)
    with transaction.atomic():
        person = _lock_person_for(actor, person_id, dossier_ref)
        _require_alive(person)
        if start_date < _earliest_birth(person):
            raise ValidationFailed(
                _("Ngày bắt đầu tạm trú không được trước ngày sinh."),
                code="date_before_birth",
                field="start_date",
            )
        for current in person.residences.filter(
            kind=ResidenceKind.TEMPORARY, ended_on__isnull=True
        ).select_for_update():
            _end_residence(
                actor,
                current,
                max(current.start_date, start_date - dt.timedelta(days=1)),
                reason=gettext_noop("Thay bằng nơi tạm trú mới"),
            )
        address = build_address(
            text=f"{street.strip()}, {commune.name}, {commune.parent}",
            commune=commune,
            street=street.strip(),
        )
        residence = _new_residence(
            actor,
            person,
            kind=ResidenceKind.TEMPORARY,
            address=address,
            commune=commune,
            start=start_date,
            end=end_date,
            reason=reason,
            legal_basis=legal_basis,
        )
        _event(
            actor,
            person,
            CivilEventKind.TEMPORARY_RESIDENCE,
            start_date,
            legal_basis=legal_basis,
            details={"address": address.text, "until": end_date.isoformat()},
        )
        _on_commit(signals.residence_changed, person=person, residence=residence, actor=actor)
    return residence


@dataclass
class MoveResult:
    household: Household
    residences: list[Residence]


@requires(Perm.HOUSEHOLD_MOVE)
def move_household(
    actor: Actor,
    *,
    household_code: str,
    commune_code: str,
    street: str,
    move_date: dt.date,
    reason: str = "",
    legal_basis: str = "Luật Cư trú 2020, Điều 20–22",
) -> MoveResult:
    """Move a household's permanent residence: every current member moves with it."""
    if not street.strip():
        raise ValidationFailed(
            _("Nhập số nhà, đường hoặc thôn, tổ nơi thường trú mới."),
            code="required",
            field="street",
        )
    _check_date(move_date, field="move_date", label=_("Ngày chuyển"))
    commune = _current_commune(commune_code)
    _require_within(actor, commune)
    with transaction.atomic():
        household = households_for(actor).select_for_update().filter(code=household_code).first()
        if household is None:
            raise NotFound(_("Không tìm thấy hộ gia đình."), code="household_not_found")
        members = list(
            household.memberships.filter(until__isnull=True)
            .select_related("person")
            .select_for_update()
        )
        if not members:
            raise Conflict(_("Hộ gia đình không còn thành viên."), code="household_empty")
        new_text = f"{street.strip()}, {commune.name}, {commune.parent}"
        if household.commune_id == commune.pk and household.address.text == new_text:
            raise ValidationFailed(
                _("Địa chỉ mới trùng với địa chỉ hiện tại của hộ."),
                code="same_address",
                field="street",
            )
        address = build_address(text=new_text, commune=commune, street=street.strip())
        before = {"address": household.address.text, "commune": household.commune.code}
        household.address = address
        household.commune = commune
        household.save(update_fields=["address", "commune"])
        record_change(
            actor,
            action="move_household",
            obj=household,
            changes=diff(before, {"address": address.text, "commune": commune.code}),
            reason=reason,
            legal_basis=legal_basis,
        )
        residences = []
        for membership in members:
            # Members follow their household: the household's scope decides, not theirs.
            person = Person.objects.select_for_update().get(pk=membership.person_id)
            if move_date < _earliest_birth(person):
                raise ValidationFailed(
                    _("Ngày chuyển không được trước ngày sinh của %(name)s.")
                    % {"name": person.full_name},
                    code="date_before_birth",
                    field="move_date",
                )
            residences.append(
                _move_permanent_residence(
                    actor,
                    person,
                    household,
                    address=address,
                    on=move_date,
                    action="move_household",
                    end_reason=gettext_noop("Chuyển hộ khẩu"),
                    reason=reason,
                    legal_basis=legal_basis,
                )
            )
    return MoveResult(household=household, residences=residences)


@requires(Perm.HOUSEHOLD_MOVE)
def add_household_member(
    actor: Actor,
    *,
    household_code: str,
    person_id: int,
    relationship: str,
    since: dt.date,
    reason: str = "",
    legal_basis: str = "Luật Cư trú 2020, Điều 20",
    dossier_ref: str = "",
) -> HouseholdMembership:
    """Move a person into a household (and its permanent address).

    The officer must have jurisdiction over both the person and the household's commune;
    a household keeps at most one head. When an approved dossier asks for the move
    (``dossier_ref``: the person, or their parent, applied to this commune's police),
    the household's commune decides: the person may come from anywhere, or have no
    residence yet (a newborn).
    """
    if relationship not in Relationship.values:
        raise ValidationFailed(
            _("Quan hệ với chủ hộ không hợp lệ."),
            code="invalid_relationship",
            field="relationship",
        )
    _check_date(since, field="since", label=_("Ngày nhập hộ"))
    with transaction.atomic():
        person = _lock_person_for(actor, person_id, dossier_ref)
        _require_alive(person)
        household = (
            Household.objects.select_for_update()
            .select_related("address", "commune")
            .filter(code=household_code)
            .first()
        )
        if household is None:
            raise NotFound(_("Không tìm thấy hộ gia đình."), code="household_not_found")
        _require_within(actor, household.commune, field="household")
        if (
            relationship == Relationship.HEAD
            and household.memberships.filter(
                until__isnull=True, relationship=Relationship.HEAD
            ).exists()
        ):
            raise Conflict(
                _("Hộ %(code)s đã có chủ hộ; mỗi hộ chỉ có một chủ hộ.") % {"code": household.code},
                code="household_has_head",
                field="relationship",
            )
        current = (
            HouseholdMembership.objects.select_for_update()
            .filter(person=person, until__isnull=True)
            .first()
        )
        if current is not None:
            if current.household_id == household.pk:
                raise Conflict(_("Công dân đã là thành viên của hộ này."), code="already_member")
            current.until = since
            current.save(update_fields=["until"])
        membership = HouseholdMembership.objects.create(
            household=household, person=person, relationship=relationship, since=since
        )
        record_change(
            actor,
            action="add_household_member",
            obj=membership,
            person_id=person.pk,
            changes={
                "household": [current.household.code if current else None, household.code],
                "relationship": [current.relationship if current else None, relationship],
            },
            reason=reason,
            legal_basis=legal_basis,
        )
        _move_permanent_residence(
            actor,
            person,
            household,
            address=household.address,
            on=since,
            action="add_household_member",
            end_reason=gettext_noop("Nhập hộ khác"),
            reason=reason,
            legal_basis=legal_basis,
        )
    return membership


# --- death ----------------------------------------------------------------------------


@requires(Perm.DEATH_RECORD)
def record_death(
    actor: Actor,
    *,
    person_id: int,
    death_date: dt.date,
    document_ref: str,
    reason: str = "",
    legal_basis: str = "Luật Hộ tịch 2014, Điều 33",
) -> Person:
    """Mark a person deceased; end their residences and household membership.

    Sends ``person_died`` on commit (the identity app deactivates the e-ID on it).
    """
    if not document_ref.strip():
        raise ValidationFailed(
            _("Nhập số trích lục khai tử hoặc giấy báo tử."),
            code="required",
            field="document_ref",
        )
    _check_date(death_date, field="death_date", label=_("Ngày chết"))
    with transaction.atomic():
        person = _lock_person(actor, person_id)
        _require_alive(person)
        if death_date < _earliest_birth(person):
            raise ValidationFailed(
                _("Ngày chết không được trước ngày sinh (%(birth)s).")
                % {"birth": person.birth_date.strftime("%d/%m/%Y")},
                code="death_before_birth",
                field="death_date",
            )
        before = _person_values(person)
        person.vital_status = VitalStatus.DECEASED
        person.death_date = max(death_date, person.birth_date)
        _save_person_change(
            actor, person, before, action="record_death", reason=reason, legal_basis=legal_basis
        )
        for residence in person.residences.filter(ended_on__isnull=True).select_for_update():
            _end_residence(
                actor,
                residence,
                max(death_date, residence.start_date),
                reason=gettext_noop("Công dân chết"),
            )
        membership = (
            HouseholdMembership.objects.select_for_update()
            .filter(person=person, until__isnull=True)
            .first()
        )
        if membership is not None:
            membership.until = max(death_date, membership.since)
            membership.save(update_fields=["until"])
        _event(
            actor,
            person,
            CivilEventKind.DEATH,
            death_date,
            legal_basis=legal_basis,
            document_ref=document_ref.strip(),
            details={"was_head": bool(membership and membership.relationship == "head")},
        )
        _on_commit(signals.person_died, person=person, death_date=death_date, actor=actor)
    return person


# --- birth registration ---------------------------------------------------------------


@dataclass(frozen=True)
class NewBirth:
    """The child of a birth registration; the parents are persons already registered."""

    full_name: str
    birth_date: dt.date
    sex: str
    ethnicity_code: str
    religion_code: str = "00"
    nationality: str = "VN"
    birth_place_text: str = ""


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February, in a year without one
        return day.replace(year=day.year + years, day=28)


def _validate_birth(child: NewBirth) -> tuple[Ethnicity, Religion]:
    if not child.full_name.strip():
        raise ValidationFailed(_("Họ tên không được để trống."), code="required", field="full_name")
    if child.sex not in Sex.values:
        raise ValidationFailed(_("Giới tính không hợp lệ."), code="invalid_sex", field="sex")
    _check_birth_date(child.birth_date)
    if not re.fullmatch(r"[A-Z]{2}", child.nationality):
        raise ValidationFailed(
            _("Quốc tịch phải là mã quốc gia 2 chữ cái (ISO 3166), ví dụ VN."),
            code="invalid_nationality",
            field="nationality",
        )
    return _reference_data(child.ethnicity_code, child.religion_code)


def _check_parent(parent: Person | None, *, field: str, sex: str, birth_date: dt.date) -> Person:
    """A parent the actor may see, of the right sex, born well before and alive at the birth
    (a father may have died up to ``FATHER_DEATH_BEFORE_BIRTH`` before it)."""
    if parent is None:
        raise NotFound(
            _("Không tìm thấy người cha trong địa bàn quản lý.")
            if field == "father"
            else _("Không tìm thấy người mẹ trong địa bàn quản lý."),
            code="parent_not_found",
            field=field,
        )
    if parent.status == RecordStatus.RETIRED:
        raise Conflict(
            _("Bản ghi của %(name)s đã bị hủy do hợp nhất; hãy chọn bản ghi đang sử dụng.")
            % {"name": parent.full_name},
            code="parent_record_retired",
            field=field,
        )
    if parent.sex != sex:
        raise ValidationFailed(
            _("Người cha phải có giới tính nam.")
            if field == "father"
            else _("Người mẹ phải có giới tính nữ."),
            code="parent_sex",
            field=field,
        )
    parent_born = _earliest_birth(parent)
    if birth_date < parent_born:
        raise ValidationFailed(
            _("Ngày sinh của trẻ không được trước ngày sinh của %(name)s.")
            % {"name": parent.full_name},
            code="date_before_birth",
            field="birth_date",
        )
    if birth_date < _add_years(parent_born, MIN_PARENT_AGE_YEARS):
        raise ValidationFailed(
            _("%(name)s phải lớn hơn trẻ ít nhất %(years)d tuổi.")
            % {"name": parent.full_name, "years": MIN_PARENT_AGE_YEARS},
            code="parent_too_young",
            field=field,
        )
    if parent.is_deceased and parent.death_date is not None:
        last_day = parent.death_date + (
            FATHER_DEATH_BEFORE_BIRTH if field == "father" else dt.timedelta(0)
        )
        if birth_date > last_day:
            raise ValidationFailed(
                _("%(name)s đã chết ngày %(date)s, trước khi trẻ được sinh ra.")
                % {"name": parent.full_name, "date": parent.death_date.strftime("%d/%m/%Y")},
                code="parent_deceased",
                field=field,
            )
    return parent


@requires(Perm.BIRTH_REGISTER)
def register_birth(
    actor: Actor,
    *,
    child: NewBirth,
    commune_code: str,
    father_id: int | None,
    mother_id: int | None,
    document_ref: str,
    legal_basis: str = "Luật Hộ tịch 2014, Điều 16",
    rng: idnumbers.RandomSource = idnumbers.SYSTEM_RANDOM,
) -> Person:
    """Register a birth (khai sinh) in a commune of the actor's jurisdiction.

    The child gets a new personal ID number whose digits 1–3 are the ID code of the
    province where the birth is registered (``geo.selectors.id_code_of_province``), the
    commune as place of birth registration and the links to the parents (at least one,
    each visible to the actor). The child has no residence yet: the permanent residence
    registration that follows in the bundle gives it one. Joins the caller's transaction
    and raises every error (the approval of a dossier calls it).
    """
    ethnicity, religion = _validate_birth(child)
    if not document_ref.strip():
        raise ValidationFailed(
            _("Nhập số giấy khai sinh hoặc số hồ sơ."), code="required", field="document_ref"
        )
    if father_id is None and mother_id is None:
        raise ValidationFailed(
            _("Cần có thông tin ít nhất một người cha hoặc mẹ."),
            code="parent_required",
            field="mother",
        )
    if father_id is not None and father_id == mother_id:
        raise ValidationFailed(
            _("Cha và mẹ không thể là cùng một người."), code="same_parent", field="father"
        )
    commune = _current_commune(commune_code)
    _require_within(actor, commune)
    if commune.parent is None:  # a current commune always has its province: bad data
        raise ValidationFailed(
            _("Xã/phường %(name)s không thuộc tỉnh nào.") % {"name": commune.name},
            code="unknown_province",
            field="commune",
        )
    id_code = id_code_of_province(commune.parent)
    province = province_by_id_code(id_code)
    with transaction.atomic():
        # Lock the parents (one query, so concurrent registrations lock in one order):
        # a death recorded meanwhile must not slip between the check and the insert.
        wanted = [pk for pk in (father_id, mother_id) if pk is not None]
        parents = {p.pk: p for p in persons_for(actor).select_for_update().filter(pk__in=wanted)}
        father = (
            _check_parent(
                parents.get(father_id), field="father", sex=Sex.MALE, birth_date=child.birth_date
            )
            if father_id is not None
            else None
        )
        mother = (
            _check_parent(
                parents.get(mother_id), field="mother", sex=Sex.FEMALE, birth_date=child.birth_date
            )
            if mother_id is not None
            else None
        )
        person = Person(
            full_name=" ".join(child.full_name.split()),
            birth_date=child.birth_date,
            birth_date_precision=DatePrecision.DAY,
            sex=child.sex,
            ethnicity=ethnicity,
            religion=religion,
            nationality=child.nationality,
            birth_registration_province=province,
            birth_registration_place=commune,
            father=father,
            mother=mother,
        )
        allocate_and_save(person, id_code, rng=rng)
        record_change(
            actor,
            action="register_birth",
            obj=person,
            person_id=person.pk,
            changes=diff(
                {},
                {
                    "id_number": person.id_number,
                    **_person_values(person),
                    "birth_registration_place": commune.code,
                    "birth_registration_province": province.id_code,
                },
            ),
            legal_basis=legal_basis,
        )
        _event(
            actor,
            person,
            CivilEventKind.BIRTH,
            child.birth_date,
            legal_basis=legal_basis,
            document_ref=document_ref.strip(),
            details={
                "commune": commune.code,
                "birth_place": child.birth_place_text.strip(),
                "father": father.id_number if father else None,
                "mother": mother.id_number if mother else None,
            },
        )
    return person


# --- temporary absence, removal of permanent residence -------------------------------


@requires(Perm.RESIDENCE_WRITE)
def declare_temporary_absence(
    actor: Actor,
    *,
    person_id: int,
    destination: str,
    start_date: dt.date,
    end_date: dt.date | None,
    reason: str,
    legal_basis: str = "Luật Cư trú 2020, Điều 31",
) -> Residence:
    """Record a temporary absence (tạm vắng) from the person's permanent residence.

    Declared where the person lives: the absence is a residence of kind ``absence`` at the
    permanent address, and the actor's jurisdiction must cover that commune. A current
    absence overlapping the new one ends the day before it starts.
    """
    destination = " ".join(destination.split())
    reason = " ".join(reason.split())
    if not destination:
        raise ValidationFailed(
            _("Nhập nơi đến trong thời gian tạm vắng."), code="required", field="destination"
        )
    if len(destination) > MAX_TEXT:
        raise ValidationFailed(
            _("Nơi đến quá dài (tối đa %(n)d ký tự).") % {"n": MAX_TEXT},
            code="too_long",
            field="destination",
        )
    if not reason:
        raise ValidationFailed(_("Nhập lý do tạm vắng."), code="required", field="reason")
    if len(reason) > MAX_TEXT:
        raise ValidationFailed(
            _("Lý do quá dài (tối đa %(n)d ký tự).") % {"n": MAX_TEXT},
            code="too_long",
            field="reason",
        )
    if end_date is None:
        raise ValidationFailed(_("Nhập ngày kết thúc tạm vắng."), code="required", field="end_date")
    if end_date - start_date < MIN_TEMPORARY_ABSENCE:
        raise ValidationFailed(
            _("Ngày kết thúc tạm vắng phải sau ngày bắt đầu."),
            code="invalid_period",
            field="end_date",
        )
    if end_date - start_date > MAX_TEMPORARY_ABSENCE:
        raise ValidationFailed(
            _("Thời hạn tạm vắng khai báo một lần tối đa là 02 năm."),
            code="period_too_long",
            field="end_date",
        )
    if start_date > timezone.localdate() + MAX_ADVANCE_REGISTRATION:
        raise ValidationFailed(
            _("Chỉ khai báo trước tối đa 30 ngày so với ngày bắt đầu tạm vắng."),
            code="start_too_far_ahead",
            field="start_date",
        )
    with transaction.atomic():
        person = _lock_person(actor, person_id)
        _require_alive(person)
        home = (
            person.residences.filter(kind=ResidenceKind.PERMANENT, ended_on__isnull=True)
            .select_related("address", "commune")
            .select_for_update(of=("self",))
            .first()
        )
        if home is None:
            raise Conflict(
                _("Công dân chưa đăng ký thường trú; không thể khai báo tạm vắng."),
                code="no_permanent_residence",
            )
        _require_within(actor, home.commune)
        if start_date < _earliest_birth(person):
            raise ValidationFailed(
                _("Ngày bắt đầu tạm vắng không được trước ngày sinh."),
                code="date_before_birth",
                field="start_date",
            )
        for current in person.residences.filter(
            Q(end_date__isnull=True) | Q(end_date__gte=start_date),
            kind=ResidenceKind.ABSENCE,
            ended_on__isnull=True,
        ).select_for_update():
            _end_residence(
                actor,
                current,
                max(current.start_date, start_date - dt.timedelta(days=1)),
                reason=gettext_noop("Thay bằng khai báo tạm vắng mới"),
            )
        residence = _new_residence(
            actor,
            person,
            kind=ResidenceKind.ABSENCE,
            address=home.address,
            commune=home.commune,
            start=start_date,
            end=end_date,
            reason=reason,
            legal_basis=legal_basis,
        )
        _event(
            actor,
            person,
            CivilEventKind.TEMPORARY_ABSENCE,
            start_date,
            legal_basis=legal_basis,
            details={
                "destination": destination,
                "until": end_date.isoformat(),
                "address": home.address.text,
                "reason": reason,
            },
        )
        _on_commit(signals.residence_changed, person=person, residence=residence, actor=actor)
    return residence


def _lock_person_where_last_lived(actor: Actor, person_id: int) -> Person:
    """Lock a person the actor may see, or whose last permanent residence lies in the
    actor's jurisdiction.

    ``record_death`` keeps ``residence_commune`` (the commune where the person last
    lived), so ``persons_for`` still finds a deceased person there; the second lookup
    covers records whose denormalised commune was cleared or never set (imports).
    """
    person = persons_for(actor).select_for_update().filter(pk=person_id).first()
    if person is None:
        last = (
            Residence.objects.filter(person_id=person_id, kind=ResidenceKind.PERMANENT)
            .select_related("commune")
            .order_by("-start_date", "-id")
            .first()
        )
        if last is not None and jurisdiction_of(actor).covers(last.commune):
            person = Person.objects.select_for_update().filter(pk=person_id).first()
    if person is None:
        raise NotFound(_("Không tìm thấy công dân."), code="person_not_found")
    return person


@requires(Perm.RESIDENCE_WRITE)
def remove_permanent_residence(
    actor: Actor,
    *,
    person_id: int,
    on: dt.date,
    reason: str,
    document_ref: str = "",
    legal_basis: str = "Luật Cư trú 2020, Điều 24",
) -> CivilEvent:
    """Remove a person's permanent residence registration (xóa đăng ký thường trú).

    Ends the open permanent residence and household membership. For a person already
    recorded deceased (whose residences ``record_death`` ended) it only records the
    removal. The police of the commune where the person last lived permanently act;
    ``residence_commune`` keeps pointing there, as after a death. A second removal of the
    same residence is refused.
    """
    reason = " ".join(reason.split())
    if not reason:
        raise ValidationFailed(
            _("Nhập lý do xóa đăng ký thường trú."), code="required", field="reason"
        )
    _check_date(on, field="on", label=_("Ngày xóa đăng ký thường trú"))
    with transaction.atomic():
        person = _lock_person_where_last_lived(actor, person_id)
        permanent = person.residences.filter(kind=ResidenceKind.PERMANENT).select_related(
            "address", "commune", "household"
        )
        last = (
            permanent.filter(ended_on__isnull=True).select_for_update(of=("self",)).first()
            or permanent.order_by("-start_date", "-id").first()
        )
        if last is None:
            raise Conflict(_("Công dân chưa đăng ký thường trú."), code="no_permanent_residence")
        _require_within(actor, last.commune)
        if CivilEvent.objects.filter(
            person=person,
            kind=CivilEventKind.RESIDENCE_CHANGE,
            details__removed=True,
            details__residence_id=last.pk,
        ).exists():
            raise Conflict(
                _("Đăng ký thường trú của công dân đã được xóa."), code="already_removed"
            )
        if last.ended_on is None:
            if on < last.start_date:
                raise ValidationFailed(
                    _("Ngày xóa không được trước ngày đăng ký thường trú (%(date)s).")
                    % {"date": last.start_date.strftime("%d/%m/%Y")},
                    code="date_before_start",
                    field="on",
                )
            _end_residence(actor, last, on, reason=gettext_noop("Xóa đăng ký thường trú"))
            membership = (
                HouseholdMembership.objects.select_for_update()
                .filter(person=person, until__isnull=True)
                .first()
            )
            if membership is not None:
                membership.until = max(on, membership.since)
                membership.save(update_fields=["until"])
        elif not person.is_deceased:
            # Ended by a move: the registration lives on elsewhere, nothing to remove here.
            raise Conflict(
                _("Công dân không còn đăng ký thường trú để xóa."),
                code="no_permanent_residence",
            )
        record_change(
            actor,
            action="remove_permanent_residence",
            obj=last,
            person_id=person.pk,
            changes={"removed": [False, True]},
            reason=reason,
            legal_basis=legal_basis,
        )
        event = _event(
            actor,
            person,
            CivilEventKind.RESIDENCE_CHANGE,
            on,
            legal_basis=legal_basis,
            document_ref=document_ref.strip(),
            details={
                "removed": True,
                "residence_id": last.pk,
                "address": last.address.text,
                "commune": last.commune.code,
                "household": last.household.code if last.household else None,
                "deceased": person.is_deceased,
                "reason": reason,
            },
        )
        _on_commit(signals.residence_changed, person=person, residence=last, actor=actor)
    return event


# NewBirth is public too (import it by name); it is left out of __all__ only because
# tests/registry/test_services.py requires every other name here to declare a permission.
__all__ = [
    "MoveResult",
    "NewPerson",
    "add_household_member",
    "allocate_and_save",
    "correct_person",
    "declare_temporary_absence",
    "move_household",
    "record_death",
    "register_birth",
    "register_person",
    "register_temporary_residence",
    "remove_permanent_residence",
]
