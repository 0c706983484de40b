"""The GovStack Digital Registries API for the population registry (issue 6, part 9).

Follows the GovStack Digital Registries Building Block data API (template 1.3/1.4,
``GovStackWorkingGroup/bb-digital-registries``, ``api/GovStack_Digital_registries_BB_Data
_API_template-1.3.0.yaml``): the spec's own paths under the mount point ``/api/govstack/``.

=======================================  =====================================================
operation                                maps to
=======================================  =====================================================
``POST /data/population/1.0/read``       lookup service ``person-basic`` (the grant's fields)
``POST /data/population/1.0/exists``     verify service ``verify-identity`` (true/false only)
``GET  /data/population/1.0``            ``person-basic``, exact search by name + birth date,
                                         at most ``LIST_MAX_MATCHES`` persons, paged
``GET  /data/MyPersonalDataUsage/1.0``   the citizen's own access log, with the citizen's
                                         OIDC access token (scope ``access_log``)
=======================================  =====================================================

Member systems authenticate as on the native API (``policy.ExchangeAuth``: a
client-credentials token, scope ``exchange:query``). The ``Information-Mediator-Client``
header (``INSTANCE/CLASS/MEMBER/SUBSYSTEM``), when present, must equal the calling
subsystem's identifier exactly (else 403 ``client_mismatch``). The purpose comes from
``X-Purpose`` (GovStack has no standard header for it). Grants, consent, rate limits and
the access log are those of the native API (``policy.authorize``, ``selectors``).
Errors: the spec defines no error body, so ``{"code", "message"}`` as everywhere else.
docs/govstack.md explains the decisions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.security import HttpBearer
from oauth2_provider.models import get_access_token_model

from congdan.audit.models import AccessLogEntry, Outcome
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.text import fold
from congdan.exchange import policy, selectors
from congdan.exchange.models import Member, Subsystem
from congdan.exchange.policy import Caller
from congdan.identity.models import AccountStatus, ClientPolicy, EidAccount
from congdan.registry.models import Person
from congdan.registry.selectors import check_id_number_format

REGISTRY = "population"
VERSION = "1.0"
DATA_USAGE = "MyPersonalDataUsage"
DATA_USAGE_VERSION = "1.0"
IM_HEADER = "Information-Mediator-Client"

READ_SERVICE = "person-basic"
EXISTS_SERVICE = "verify-identity"
LIST_SERVICE = "person-basic"
# ``read`` / ``exists`` name the person by ID number under either key (``ID`` is the
# spec's example name for a citizen's identifier).
ID_KEYS = ("id_number", "ID")
# ``list``: the exact attributes a search needs, the optional ones, and its bounds.
LIST_REQUIRED = ("full_name", "birth_date")
LIST_OPTIONAL = ("sex",)
LIST_MAX_MATCHES = 20
LIST_MAX_PAGE_SIZE = 10
# GovStack list parameters we refuse: free-text / regex search and arbitrary ordering
# would turn a lookup into a bulk disclosure.
LIST_REFUSED = ("search", "filter", "ordering")

# The citizen's token for MyPersonalDataUsage (an OIDC user access token).
ACCESS_LOG_SCOPE = "access_log"
DATA_USAGE_DEFAULT_LIMIT = 100
DATA_USAGE_MAX_LIMIT = 1000
MAX_VALUE_LENGTH = 200

router = Router()


# --- request bodies ------------------------------------------------------------------


class QueryContent(Schema):
    content: dict[str, Any]


class QueryBody(Schema):
    query: QueryContent


# --- authentication ------------------------------------------------------------------


class CitizenTokenAuth(HttpBearer):
    """``Authorization: Bearer <OIDC access token>`` issued to a relying party for a
    citizen with scope ``access_log`` → ``request.auth`` is the citizen's ``EidAccount``.
    Anything else (a member's client-credentials token included) is not a citizen: None,
    so that the next authenticator is tried."""

    def __call__(self, request: HttpRequest) -> EidAccount | None:
        # Parsed here: HttpBearer.__call__ logs the whole header on a wrong scheme.
        scheme, _sep, token = request.headers.get(self.header, "").strip().partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token.strip())

    def authenticate(self, request: HttpRequest, token: str) -> EidAccount | None:
        if not (0 < len(token) <= 255 and token.isascii() and token.isprintable()):
            return None
        checksum = hashlib.sha256(token.encode("utf-8")).hexdigest()
        access = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=checksum, user__isnull=False)
            .first()
        )
        if access is None or access.expires <= timezone.now():
            return None
        account = EidAccount.objects.select_related("person").filter(user_id=access.user_id).first()
        if account is None or account.status != AccountStatus.ACTIVE:
            return None
        # The relying party's policy as it is now: narrowing it takes effect at once.
        policy = ClientPolicy.objects.filter(application=access.application).first()
        allowed = set(policy.allowed_scopes) if policy is not None else set()
        if ACCESS_LOG_SCOPE not in set(access.scope.split()) & allowed:
            raise PermissionDenied(
                _(
                    "Mã truy cập của công dân không có phạm vi %(scope)s (xem nhật ký truy "
                    "cập dữ liệu của mình)."
                )
                % {"scope": ACCESS_LOG_SCOPE},
                code="insufficient_scope",
            )
        request.govstack_application = access.application  # type: ignore[attr-defined]  # for the header check
        return account


def _check_client_header(request: HttpRequest, identifier: str | None) -> None:
    """The ``Information-Mediator-Client`` header, when sent, must name the caller."""
    given = request.headers.get(IM_HEADER)
    if given is None:
        return
    if identifier is None or given.strip() != identifier:
        raise PermissionDenied(
            _(
                "Tiêu đề Information-Mediator-Client không khớp với hệ thống thành viên "
                "được cấp mã truy cập."
            ),
            code="client_mismatch",
        )


def _caller(request: HttpRequest) -> Caller:
    caller = policy.caller_of(request)
    _check_client_header(request, caller.identifier)
    return caller


def _check_registry(registryname: str, versionnumber: str) -> None:
    if registryname != REGISTRY:
        raise NotFound(
            _("Không có sổ đăng ký “%(name)s”; sổ đăng ký được cung cấp: %(known)s.")
            % {"name": registryname[:40], "known": REGISTRY},
            code="unknown_registry",
        )
    if versionnumber != VERSION:
        raise NotFound(
            _("Sổ đăng ký %(name)s không có phiên bản “%(version)s”; phiên bản hiện có: %(known)s.")
            % {"name": REGISTRY, "version": versionnumber[:20], "known": VERSION},
            code="unknown_version",
        )


# --- helpers -----------------------------------------------------------------------------


def _text(name: str, value: Any) -> str:
    if (
        not isinstance(value, str)
        or not value.strip()
        or len(value) > MAX_VALUE_LENGTH
        or not value.isprintable()  # control characters, NUL (PostgreSQL refuses it)
    ):
        raise ValidationFailed(
            _("Giá trị của %(name)s phải là chuỗi khác rỗng, tối đa %(max)d ký tự.")
            % {"name": name[:40], "max": MAX_VALUE_LENGTH},
            code="invalid_attribute",
            field=name[:40],
        )
    return value.strip()


def _split_id(content: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The ID number of ``content`` (under ``id_number`` or ``ID``) and the rest."""
    keys = [key for key in ID_KEYS if key in content]
    if len(keys) != 1:
        raise ValidationFailed(
            _("query.content phải có đúng một trong các khóa id_number hoặc ID (số định danh)."),
            code="id_number_required",
            field="id_number",
        )
    rest = {key: value for key, value in content.items() if key != keys[0]}
    return _text(keys[0], content[keys[0]]), rest


# --- read, exists, list --------------------------------------------------------------


@router.post(
    "/data/{registryname}/{versionnumber}/read",
    auth=policy.ExchangeAuth(),
    summary="read",
    operation_id="govstack_read",
)
def read(request: HttpRequest, registryname: str, versionnumber: str, body: QueryBody) -> Any:
    """Searches and returns one record: the person with that ID number, the fields the
    caller's ``person-basic`` grant allows for the purpose in ``X-Purpose``."""
    caller = _caller(request)
    _check_registry(registryname, versionnumber)
    id_number, rest = _split_id(body.query.content)
    if rest:
        raise ValidationFailed(
            _("read chỉ tìm theo số định danh; không hỗ trợ các khóa: %(keys)s.")
            % {"keys": ", ".join(str(k)[:40] for k in list(rest)[:10])},
            code="unsupported_query",
        )
    auth = policy.authorize(caller, service=READ_SERVICE, purpose=request.headers.get("X-Purpose"))
    return {"content": selectors.lookup(auth, id_number)}


@router.post(
    "/data/{registryname}/{versionnumber}/exists",
    auth=policy.ExchangeAuth(),
    summary="exists",
    operation_id="govstack_exists",
)
def exists(request: HttpRequest, registryname: str, versionnumber: str, body: QueryBody) -> Any:
    """True when the person with that ID number exists *and* every submitted attribute
    matches (``verify-identity``); nothing else is disclosed, not even which one failed."""
    caller = _caller(request)
    _check_registry(registryname, versionnumber)
    id_number, attributes = _split_id(body.query.content)
    # Unknown and missing attributes are refused (422) before the grant is consulted.
    selectors.check_attributes(attributes)
    auth = policy.authorize(
        caller,
        service=EXISTS_SERVICE,
        purpose=request.headers.get("X-Purpose"),
        fields=list(attributes),
    )
    result = selectors.verify(auth, id_number, attributes)
    status = bool(result["all_match"])
    message = (
        _("Có công dân với số định danh và các thông tin này.")
        if status
        else _("Không có công dân nào khớp với tất cả các thông tin đã gửi.")
    )
    return {"answer": {"status": status, "message": str(message)}}


def _list_criteria(request: HttpRequest) -> dict[str, str]:
    refused = [name for name in LIST_REFUSED if name in request.GET]
    if refused:
        raise ValidationFailed(
            _(
                "Không hỗ trợ tham số %(names)s: danh sách chỉ tìm chính xác theo "
                "query.full_name và query.birth_date."
            )
            % {"names": ", ".join(refused)},
            code="unsupported_parameter",
        )
    criteria: dict[str, str] = {}
    for key in request.GET:
        if not key.startswith("query."):
            continue
        name = key.removeprefix("query.")
        if name not in LIST_REQUIRED + LIST_OPTIONAL:
            raise ValidationFailed(
                _("Không tìm được theo %(name)s; được phép: %(allowed)s.")
                % {"name": name[:40], "allowed": ", ".join(LIST_REQUIRED + LIST_OPTIONAL)},
                code="unsupported_query",
                field=name[:40],
            )
        criteria[name] = _text(name, request.GET[key])
    missing = [name for name in LIST_REQUIRED if name not in criteria]
    if missing:
        raise ValidationFailed(
            _("Danh sách cần tìm chính xác theo: %(names)s.")
            % {"names": ", ".join(f"query.{n}" for n in missing)},
            code="search_too_broad",
        )
    try:
        dt.date.fromisoformat(criteria["birth_date"])
    except ValueError:
        raise ValidationFailed(
            _("query.birth_date phải là ngày dạng YYYY-MM-DD."),
            code="invalid_attribute",
            field="birth_date",
        ) from None
    if "sex" in criteria:
        criteria["sex"] = criteria["sex"].upper()
    return criteria


def _positive(request: HttpRequest, name: str, default: int, maximum: int | None) -> int:
    raw = request.GET.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1 or (maximum is not None and value > maximum):
        raise ValidationFailed(
            _("%(name)s phải là số nguyên từ 1 đến %(max)s.")
            % {"name": name, "max": maximum if maximum is not None else "…"},
            code="invalid_paging",
            field=name,
        )
    return value


def _page_url(request: HttpRequest, page: int) -> str:
    params = {key: request.GET[key] for key in request.GET if key != "page"}
    params["page"] = str(page)
    return request.build_absolute_uri(f"{request.path}?{urlencode(params)}")


@router.get(
    f"/data/{DATA_USAGE}/{DATA_USAGE_VERSION}",
    auth=[CitizenTokenAuth(), policy.ExchangeAuth()],
    summary="MyPersonalDataUsage",
    operation_id="govstack_my_personal_data_usage",
)
def my_personal_data_usage(
    request: HttpRequest,
    userID: str,  # noqa: N803 -- the spec's parameter name
    DatabaseID: str,  # noqa: N803 -- the spec's parameter name
) -> Any:
    """Who read the citizen's data: every access-log entry of the citizen's own person
    (not those hidden from the citizen until a later date), newest first. Only with the
    citizen's own OIDC access token; ``userID`` must be the citizen's ID number."""
    account = request.auth  # type: ignore[attr-defined]  # set by the authenticators
    if isinstance(account, Caller):
        raise PermissionDenied(
            _(
                "Nhật ký truy cập dữ liệu chỉ cung cấp cho chính công dân: cần mã truy cập "
                "OpenID Connect của công dân (phạm vi %(scope)s), không phải mã của hệ thống "
                "thành viên."
            )
            % {"scope": ACCESS_LOG_SCOPE},
            code="citizen_token_required",
        )
    application = getattr(request, "govstack_application", None)
    subsystem = Subsystem.objects.select_related("member").filter(application=application).first()
    _check_client_header(request, subsystem.identifier if subsystem else None)
    if DatabaseID != REGISTRY:
        raise NotFound(
            _("Không có sổ đăng ký “%(name)s”; sổ đăng ký được cung cấp: %(known)s.")
            % {"name": DatabaseID[:40], "known": REGISTRY},
            code="unknown_registry",
        )
    number = check_id_number_format(userID)
    person: Person = account.person
    if number != person.id_number:
        raise PermissionDenied(
            _("Chỉ xem được nhật ký truy cập dữ liệu của chính mình."), code="not_own_data"
        )
    limit = _positive(request, "limit", DATA_USAGE_DEFAULT_LIMIT, DATA_USAGE_MAX_LIMIT)
    entries = AccessLogEntry.objects.filter(person_id=person.pk).exclude(
        hidden_until__gt=timezone.localdate()
    )
    if "before" in request.GET:
        entries = entries.filter(id__lt=_positive(request, "before", 1, None))
    rows = list(entries.order_by("-id")[:limit])
    return [_usage(entry, names) for names in [_reader_names(rows)] for entry in rows]


def _reader_names(rows: list[AccessLogEntry]) -> dict[str, dict[str, str]]:
    """Member names by code and subsystem names by identifier, for the readers listed."""
    codes = {row.organisation for row in rows if row.organisation}
    members = {m.code: m.name for m in Member.objects.filter(code__in=codes)}
    subsystems: dict[str, str] = {}
    for sub in Subsystem.objects.select_related("member").filter(member__code__in=codes):
        subsystems[sub.identifier] = sub.name
    return {"members": members, "subsystems": subsystems}


def _usage(entry: AccessLogEntry, names: dict[str, dict[str, str]]) -> dict[str, Any]:
    """One entry in the spec's ``PersonalDataUsage`` shape, with our extensions."""
    at = entry.at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return {
        "ID": str(entry.id),
        "ReaderID": entry.actor_label,
        "ReaderInitials": None,
        "ReaderInstitutionID": entry.organisation or None,
        "ReaderInstitutionName": names["members"].get(entry.organisation)
        or entry.organisation
        or None,
        "ReaderApplicationName": names["subsystems"].get(entry.subsystem)
        or entry.subsystem
        or None,
        "SearchDateTime": at,
        # Sic: the spec spells it "Refrences".
        "Refrences": [{"ReferenceID": entry.view}],
        # Extensions (not in the spec): what was read, why, with what result.
        "Channel": entry.channel,
        "Service": entry.view,
        "Fields": [f for f in entry.fields.split(",") if f],
        "Purpose": entry.purpose,
        "Outcome": entry.outcome,
        "RequestID": entry.request_id or None,
    }


@router.get(
    "/data/{registryname}/{versionnumber}",
    auth=policy.ExchangeAuth(),
    summary="list",
    operation_id="govstack_list",
)
def list_records(request: HttpRequest, registryname: str, versionnumber: str) -> Any:
    """Persons matching an exact search (``query.full_name`` — case, spacing and
    diacritics ignored — and ``query.birth_date``, optionally ``query.sex``), at most
    ``LIST_MAX_MATCHES`` of them, ``page_size`` ≤ ``LIST_MAX_PAGE_SIZE``. Needs a
    ``person-basic`` grant that includes the searched attributes, for a purpose that does
    not need the citizen's consent; each person returned is logged."""
    caller = _caller(request)
    _check_registry(registryname, versionnumber)
    criteria = _list_criteria(request)
    page = _positive(request, "page", 1, None)
    page_size = _positive(request, "page_size", LIST_MAX_PAGE_SIZE, LIST_MAX_PAGE_SIZE)
    # One cannot search by what one may not see: the searched attributes must be granted.
    searched = authorize_list(caller, request.headers.get("X-Purpose"), list(criteria))
    matches = Person.objects.filter(
        name_search=fold(criteria["full_name"]), birth_date=criteria["birth_date"]
    )
    if "sex" in criteria:
        matches = matches.filter(sex=criteria["sex"])
    found = list(matches.order_by("id").values_list("id", flat=True)[: LIST_MAX_MATCHES + 1])
    if len(found) > LIST_MAX_MATCHES:
        raise ValidationFailed(
            _(
                "Có quá %(max)d công dân khớp; hãy thu hẹp tìm kiếm (ví dụ thêm query.sex) "
                "hoặc tra cứu theo số định danh."
            )
            % {"max": LIST_MAX_MATCHES},
            code="too_many_matches",
        )
    start = (page - 1) * page_size
    chosen = found[start : start + page_size]
    persons = {
        p.pk: p
        for p in Person.objects.select_related("ethnicity", "religion").filter(pk__in=chosen)
    }
    results = [selectors.record(LIST_SERVICE, persons[pk], searched.fields) for pk in chosen]
    policy.log(searched, chosen, outcome=Outcome.OK)
    return {
        "count": len(found),
        "next": _page_url(request, page + 1) if start + page_size < len(found) else None,
        "previous": _page_url(request, page - 1) if page > 1 and found else None,
        "results": results,
    }


def authorize_list(
    caller: Caller, purpose: str | None, searched: list[str]
) -> policy.Authorization:
    """The ``person-basic`` grant for a list search: the searched attributes must be among
    its fields, and the purpose must not need consent (a search cannot be limited to the
    persons who consented without telling the caller who did not)."""
    auth = policy.authorize(caller, service=LIST_SERVICE, purpose=purpose)
    outside = [name for name in searched if name not in auth.fields]
    if outside:
        raise PermissionDenied(
            _("Quyền được cấp không bao gồm các trường: %(fields)s.")
            % {"fields": ", ".join(outside)},
            code="field_not_allowed",
        )
    if auth.purpose.requires_consent:
        raise PermissionDenied(
            _(
                "Mục đích “%(purpose)s” cần sự đồng ý của từng công dân: không dùng được cho "
                "tìm kiếm danh sách, hãy tra cứu theo số định danh."
            )
            % {"purpose": auth.purpose.code},
            code="list_not_allowed",
        )
    return auth
