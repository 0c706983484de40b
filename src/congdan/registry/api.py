"""Registry endpoints of the REST API (mounted at ``/api/v1/registry/``).

Handlers parse, call a selector, and shape the result (DESIGN rule 1): scoping by the
caller's jurisdiction, permission checks and the access log live in
``registry.selectors``. A person outside the caller's jurisdiction is a 404 with the same
body as a number nobody holds.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TYPE_CHECKING, Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Header, Path, Query, Router
from ninja.errors import HttpError

from congdan.audit.models import Channel
from congdan.core.errors import ValidationFailed
from congdan.registry import selectors
from congdan.registry.idnumbers import decode_century_sex
from congdan.registry.models import CardStatus
from congdan.registry.schemas import (
    ErrorOut,
    HouseholdOut,
    PersonAsOfOut,
    PersonOut,
    PersonSearchPageOut,
    PersonSearchParams,
    ResidenceHistoryOut,
    household_out,
    person_out,
    person_summary_out,
    residence_out,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

    from congdan.core.models import User

router = Router()

MAX_PURPOSE_LENGTH = 200
# The fields the person endpoint returns, as written to the access log.
API_PERSON_FIELDS = (
    "id_number",
    "full_name",
    "other_names",
    "birth_date",
    "sex",
    "ethnicity",
    "religion",
    "nationality",
    "vital_status",
    "death_date",
    "birth_registration_province",
    "home_town",
    "residence",
    "parents",
    "spouse",
    "identity_card",
)
ERRORS: dict[int, Any] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

ID_NUMBER_PATH = Path(
    ...,
    description="Personal ID number: 12 digits.",
    examples=["048090000123"],
)
PURPOSE_HEADER = Header(
    None,
    alias="X-Purpose",
    description=(
        "Why the data is read, recorded in the access log the citizen can see "
        "(printable ASCII, at most 200 characters). Default `official_duty`."
    ),
    examples=["official_duty"],
)


# --- parameter checks the selectors leave to the caller -------------------------------


def purpose_of(raw: str | None) -> str:
    """The declared purpose of the read (``X-Purpose``), or the default."""
    purpose = (raw or "").strip()
    if not purpose:
        return selectors.DEFAULT_PURPOSE
    if len(purpose) > MAX_PURPOSE_LENGTH or not (purpose.isascii() and purpose.isprintable()):
        raise ValidationFailed(
            _(
                "Tiêu đề X-Purpose phải gồm ký tự ASCII in được, tối đa %(max)d ký tự "
                "(ví dụ: official_duty)."
            )
            % {"max": MAX_PURPOSE_LENGTH},
            code="invalid_purpose",
            field="X-Purpose",
        )
    return purpose


def checked_id_number(raw: str) -> str:
    """A well-formed personal ID number, or ``ValidationFailed`` (422 invalid_id_number).

    On top of ``selectors.check_id_number_format``: only ASCII digits (``str.isdigit``
    accepts other scripts' digits and superscripts), and digits 4-6 must not encode a
    birth year in the future (a wrong century digit).
    """
    number = raw.strip()
    if not number:
        raise ValidationFailed(
            _("Nhập số định danh cá nhân (12 chữ số)."), code="invalid_id_number", field="id_number"
        )
    if not number.isascii():
        raise ValidationFailed(
            _("Số định danh chỉ gồm các chữ số 0–9."), code="invalid_id_number", field="id_number"
        )
    number = selectors.check_id_number_format(number)
    digit, yy = int(number[3]), int(number[4:6])
    century, _sex = decode_century_sex(digit)
    year = century + yy
    if year > timezone.localdate().year:
        raise ValidationFailed(
            _(
                "Số định danh không hợp lệ: chữ số thứ 4 (%(digit)d) và 5–6 (%(yy)02d) "
                "cho năm sinh %(year)d, ở tương lai."
            )
            % {"digit": digit, "yy": yy, "year": year},
            code="invalid_id_number",
            field="id_number",
        )
    return number


def _check_text(value: str, field: str) -> str:
    if any(unicodedata.category(ch) == "Cc" and not ch.isspace() for ch in value):
        raise ValidationFailed(
            _("Tham số %(field)s chứa ký tự điều khiển không hợp lệ.") % {"field": field},
            code="invalid_request",
            field=field,
        )
    return value.strip()


def actor_of(request: HttpRequest) -> User:
    """The token's user, set by ``core.api_auth.ApiTokenAuth``."""
    return request.auth  # type: ignore[attr-defined]  # attribute set by ninja


def _page_url(request: HttpRequest, page: int) -> str:
    params = request.GET.copy()
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")


# --- endpoints ------------------------------------------------------------------------


@router.get(
    "persons",
    response={200: PersonSearchPageOut, **ERRORS},
    url_name="registry_person_search",
    summary="Search persons",
    description=(
        "Search persons in the caller's jurisdiction by ID number (exact) or name "
        "(case- and diacritics-insensitive), optionally narrowed by year or date of birth "
        "and commune. Paginated without a total count. Each person returned is written "
        "to the access log (view `person_search`)."
    ),
)
def search_persons(
    request: HttpRequest,
    params: Query[PersonSearchParams],
    x_purpose: str | None = PURPOSE_HEADER,
) -> PersonSearchPageOut:
    purpose = purpose_of(x_purpose)
    q = _check_text(params.q, "q")
    commune = _check_text(params.commune, "commune")
    if q.isdigit():
        q = checked_id_number(q)
    result = selectors.search_persons(
        actor_of(request),
        q=q,
        birth_year=params.birth_year,
        birth_date=params.birth_date,
        commune_code=commune,
        page=params.page,
        page_size=params.page_size,
        channel=Channel.API,
        purpose=purpose,
    )
    return PersonSearchPageOut(
        items=[person_summary_out(p) for p in result.results],
        page=result.page,
        page_size=result.page_size,
        has_next=result.has_next,
        next=_page_url(request, result.page + 1) if result.has_next else None,
        previous=_page_url(request, result.page - 1) if result.has_previous else None,
    )


@router.get(
    "persons/{id_number}",
    response={200: PersonOut, **ERRORS},
    url_name="registry_person",
    summary="Read a person",
    description=(
        "The person's identity data, residence, family links and current identity card. "
        "404 `person_not_found` when the number is unknown or the person is outside the "
        "caller's jurisdiction. Written to the access log (view `api_person`)."
    ),
)
def get_person(
    request: HttpRequest,
    id_number: str = ID_NUMBER_PATH,
    x_purpose: str | None = PURPOSE_HEADER,
) -> PersonOut:
    purpose = purpose_of(x_purpose)
    person = selectors.get_person(
        actor_of(request),
        id_number=checked_id_number(id_number),
        channel=Channel.API,
        view="api_person",
        fields=API_PERSON_FIELDS,
        purpose=purpose,
    )
    card = person.cards.filter(status=CardStatus.VALID).order_by("-issue_date", "-id").first()
    return person_out(person, card)


@router.get(
    "persons/{id_number}/household",
    response={200: HouseholdOut, **ERRORS},
    url_name="registry_person_household",
    summary="Read a person's household",
    description=(
        "The person's current household and its current members. 404 "
        "`household_not_found` when the number is unknown, the person is outside the "
        "caller's jurisdiction or belongs to no household. Each member's read is written "
        "to the access log (view `household`)."
    ),
)
def get_household(
    request: HttpRequest,
    id_number: str = ID_NUMBER_PATH,
    x_purpose: str | None = PURPOSE_HEADER,
) -> HouseholdOut:
    purpose = purpose_of(x_purpose)
    household, members = selectors.household_of(
        actor_of(request),
        id_number=checked_id_number(id_number),
        channel=Channel.API,
        purpose=purpose,
    )
    return household_out(household, members)


@router.get(
    "persons/{id_number}/residences",
    response={200: ResidenceHistoryOut, **ERRORS},
    url_name="registry_person_residences",
    summary="Read a person's residence history",
    description=(
        "Permanent and temporary residences and temporary absences, newest first. 404 "
        "`person_not_found` as for the person. Written to the access log (view "
        "`residence_history`)."
    ),
)
def get_residences(
    request: HttpRequest,
    id_number: str = ID_NUMBER_PATH,
    x_purpose: str | None = PURPOSE_HEADER,
) -> ResidenceHistoryOut:
    purpose = purpose_of(x_purpose)
    person, residences = selectors.residence_history(
        actor_of(request),
        id_number=checked_id_number(id_number),
        channel=Channel.API,
        purpose=purpose,
    )
    today = timezone.localdate()
    return ResidenceHistoryOut(
        id_number=person.id_number,
        full_name=person.full_name,
        residences=[residence_out(r, today) for r in residences],
    )


@router.get(
    "persons/{id_number}/as-of",
    response={200: PersonAsOfOut, **ERRORS},
    url_name="registry_person_as_of",
    summary="Read a person as recorded at a past moment",
    description=(
        "The person's identity fields as they were recorded at `at` (ISO 8601; a naive "
        "time is Asia/Ho_Chi_Minh), rebuilt by rewinding later changes, and the "
        "residences registered by then. 404 `not_recorded_yet` when the person was not "
        "yet in the registry. Written to the access log (view `person_as_of`)."
    ),
)
def get_person_as_of(
    request: HttpRequest,
    id_number: str = ID_NUMBER_PATH,
    at: dt.datetime = Query(..., description="The moment, ISO 8601."),  # noqa: B008 -- ninja's parameter declaration
    x_purpose: str | None = PURPOSE_HEADER,
) -> PersonAsOfOut:
    purpose = purpose_of(x_purpose)
    if timezone.is_naive(at):
        at = timezone.make_aware(at)
    number = checked_id_number(id_number)
    snapshot = selectors.person_as_of(
        actor_of(request), id_number=number, at=at, channel=Channel.API, purpose=purpose
    )
    residences = snapshot.pop("residences")
    today = timezone.localdate()
    return PersonAsOfOut(
        id_number=number,
        at=at,
        values=snapshot,
        residences=[residence_out(r, today) for r in residences],
    )


# --- other methods: a JSON 405 rather than ninja's plain-text one ---------------------

_OTHER_METHODS = ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]


def _read_only(request: HttpRequest) -> None:
    raise HttpError(405, "read-only")


def _read_only_person(request: HttpRequest, id_number: str) -> None:
    raise HttpError(405, "read-only")


router.api_operation(_OTHER_METHODS, "persons", auth=None, include_in_schema=False)(_read_only)
for _path in (
    "persons/{id_number}",
    "persons/{id_number}/household",
    "persons/{id_number}/residences",
    "persons/{id_number}/as-of",
):
    router.api_operation(_OTHER_METHODS, _path, auth=None, include_in_schema=False)(
        _read_only_person
    )
