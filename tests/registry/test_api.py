"""The registry REST API: allowed, denied, outside jurisdiction, bad input, access log."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congdan.audit.models import AccessLogEntry
from congdan.core.models import ApiToken, User
from congdan.core.permissions import Role
from congdan.registry import idnumbers
from congdan.registry.models import Person, Residence, ResidenceKind
from tests import factories
from tests.conftest import World

BASE = "/api/v1/registry"
MISSING_NUMBER = idnumbers.compose("048", "M", 1990, 999_999)


def token_for(user: User, **fields: object) -> str:
    key = ApiToken.new_key()
    ApiToken.objects.create(
        user=user,
        name="test",
        prefix=key[: ApiToken.PREFIX_LEN],
        key_hash=ApiToken.hash_key(key),
        **fields,
    )
    return key


def call(url: str, key: str | None = None, **headers: Any) -> Any:
    if key is not None:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {key}"
    return Client().get(url, **headers)


# Each endpoint, given the ID number it reads about.
ENDPOINTS: dict[str, Callable[[str], str]] = {
    "person": lambda n: f"{BASE}/persons/{n}",
    "household": lambda n: f"{BASE}/persons/{n}/household",
    "residences": lambda n: f"{BASE}/persons/{n}/residences",
    "search": lambda n: f"{BASE}/persons?q={n}",
}
BY_NUMBER = ["person", "household", "residences"]


def assert_error(response: Any, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    return body


# --- allowed --------------------------------------------------------------------------


def test_person_returns_the_record(world: World) -> None:
    key = token_for(world.commune_officer)
    response = call(ENDPOINTS["person"](world.person.id_number), key)
    assert response.status_code == 200, response.content
    body = response.json()
    person = world.person
    assert body["id_number"] == person.id_number
    assert body["full_name"] == "Nguyễn Văn An"
    assert body["birth_date"] == "1990-05-17"
    assert body["birth_date_precision"] == "day"
    assert body["sex"] == "M"
    assert body["ethnicity"]["code"] == "01"
    assert body["ethnicity"]["name"]
    assert body["nationality"] == "VN"
    assert body["vital_status"] == "alive"
    assert body["death_date"] is None
    assert body["residence_commune"] == {"code": world.commune.code, "name": world.commune.name}
    assert body["residence_province"] == {
        "code": world.province.code,
        "name": world.province.name,
    }
    assert body["birth_registration_province"]["name"]
    assert body["father_id_number"] is None
    assert body["identity_card"]["number"] == person.id_number
    assert body["identity_card"]["status"] == "valid"
    assert body["identity_card"]["expiry_date"] is None


def test_person_parents_and_spouse_by_id_number(world: World) -> None:
    mother = factories.make_person(
        world.commune, full_name="Phạm Thị Mai", sex="F", birth_date=dt.date(1965, 1, 1)
    )
    Person.objects.filter(pk=world.person.pk).update(mother=mother, spouse=world.neighbour)
    response = call(ENDPOINTS["person"](world.person.id_number), token_for(world.steward))
    body = response.json()
    assert body["mother_id_number"] == mother.id_number
    assert body["spouse_id_number"] == world.neighbour.id_number
    assert body["father_id_number"] is None


def test_household_lists_members(world: World) -> None:
    household = factories.household_of(world.person)
    child = factories.make_person(
        world.commune,
        full_name="Nguyễn Văn Bình",
        birth_date=dt.date(2015, 3, 1),
        household=household,
        relationship="child",
    )
    response = call(
        ENDPOINTS["household"](world.person.id_number), token_for(world.commune_officer)
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["code"] == household.code
    assert body["address"] == household.address.text
    assert body["commune"]["code"] == world.commune.code
    assert body["province"]["code"] == world.province.code
    members = {m["id_number"]: m for m in body["members"]}
    assert set(members) == {world.person.id_number, child.id_number}
    assert members[world.person.id_number]["relationship"] == "head"
    assert members[child.id_number]["relationship"] == "child"
    assert members[child.id_number]["full_name"] == "Nguyễn Văn Bình"
    assert members[child.id_number]["birth_date"] == "2015-03-01"
    assert members[child.id_number]["relationship_label"]


def test_residences_history(world: World) -> None:
    current = Residence.objects.get(person=world.person)
    temporary = Residence.objects.create(
        person=world.person,
        kind=ResidenceKind.TEMPORARY,
        address=factories.make_address(world.other_commune, "Số 9 đường Tạm"),
        commune=world.other_commune,
        start_date=dt.date(2020, 1, 1),
        end_date=dt.date(2021, 1, 1),
        ended_on=dt.date(2020, 6, 1),
    )
    response = call(
        ENDPOINTS["residences"](world.person.id_number), token_for(world.commune_officer)
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id_number"] == world.person.id_number
    rows = body["residences"]
    assert [r["kind"] for r in rows] == ["temporary", "permanent"]
    old = rows[0]
    assert old["address"] == temporary.address.text
    assert old["commune"] == {"code": world.other_commune.code, "name": world.other_commune.name}
    assert old["province"]["code"] == world.province.code
    assert (old["start_date"], old["end_date"], old["ended_on"]) == (
        "2020-01-01",
        "2021-01-01",
        "2020-06-01",
    )
    assert old["current"] is False
    assert rows[1]["address"] == current.address.text
    assert rows[1]["current"] is True
    assert rows[1]["end_date"] is None


def test_search_ignores_case_and_diacritics(world: World) -> None:
    response = call(f"{BASE}/persons?q=nguyen+van+an", token_for(world.commune_officer))
    assert response.status_code == 200, response.content
    body = response.json()
    assert [p["id_number"] for p in body["items"]] == [world.person.id_number]
    item = body["items"][0]
    assert item["full_name"] == "Nguyễn Văn An"
    assert item["residence_commune"]["code"] == world.commune.code
    assert body["page"] == 1
    assert body["has_next"] is False
    assert body["next"] is None
    assert body["previous"] is None


def test_search_by_id_number_and_filters(world: World) -> None:
    key = token_for(world.province_officer)
    by_number = call(f"{BASE}/persons?q={world.neighbour.id_number}", key).json()
    assert [p["full_name"] for p in by_number["items"]] == ["Trần Thị Bình"]
    by_year = call(f"{BASE}/persons?q=tran&birth_year=1985", key).json()
    assert [p["id_number"] for p in by_year["items"]] == [world.neighbour.id_number]
    wrong_year = call(f"{BASE}/persons?q=tran&birth_year=1986", key).json()
    assert wrong_year["items"] == []
    by_date = call(f"{BASE}/persons?q=tran&birth_date=1985-02-03", key).json()
    assert len(by_date["items"]) == 1
    by_commune = call(f"{BASE}/persons?commune={world.other_commune.code}", key).json()
    assert [p["id_number"] for p in by_commune["items"]] == [world.neighbour.id_number]


def test_search_pagination_links(world: World) -> None:
    for day in range(1, 5):
        factories.make_person(
            world.commune, full_name="Nguyễn Văn An", birth_date=dt.date(1991, 1, day)
        )
    key = token_for(world.commune_officer)
    first = call(f"{BASE}/persons?q=nguyen+van+an&page_size=2", key).json()
    assert (first["page"], first["page_size"], first["has_next"]) == (1, 2, True)
    assert len(first["items"]) == 2
    assert first["previous"] is None
    assert first["next"].startswith("http://testserver/api/v1/registry/persons?")
    assert "page=2" in first["next"]
    assert "page_size=2" in first["next"]
    second = Client().get(first["next"], HTTP_AUTHORIZATION=f"Bearer {key}").json()
    assert second["page"] == 2
    assert "page=1" in second["previous"]
    last = call(f"{BASE}/persons?q=nguyen+van+an&page_size=2&page=3", key).json()
    assert len(last["items"]) == 1
    assert last["has_next"] is False
    seen = [p["id_number"] for page in (first, second, last) for p in page["items"]]
    assert len(set(seen)) == 5


@pytest.mark.parametrize("who", ["province_officer", "steward", "admin"])
def test_wider_jurisdictions_read_the_person(world: World, who: str) -> None:
    key = token_for(getattr(world, who))
    for name in BY_NUMBER:
        assert call(ENDPOINTS[name](world.person.id_number), key).status_code == 200


def test_commune_officer_reads_temporary_resident(world: World) -> None:
    Residence.objects.create(
        person=world.far_person,
        kind=ResidenceKind.TEMPORARY,
        address=factories.make_address(world.commune, "Nhà trọ số 3"),
        commune=world.commune,
        start_date=dt.date(2026, 1, 1),
        end_date=dt.date(2027, 1, 1),
    )
    response = call(
        ENDPOINTS["person"](world.far_person.id_number), token_for(world.commune_officer)
    )
    assert response.status_code == 200


# --- denied ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_without_permission_403(world: World, endpoint: str) -> None:
    response = call(ENDPOINTS[endpoint](world.person.id_number), token_for(world.nobody))
    assert_error(response, 403, "permission_denied")
    assert not AccessLogEntry.objects.exists()


def _bad_credentials(world: World) -> dict[str, dict[str, Any]]:
    past = timezone.now() - dt.timedelta(days=1)
    revoked = token_for(world.commune_officer, revoked_at=past)
    expired = token_for(world.commune_officer, expires_at=past)
    inactive_user = factories.make_user(Role.OFFICER, unit=world.commune)
    inactive = token_for(inactive_user)
    User.objects.filter(pk=inactive_user.pk).update(is_active=False)
    good = token_for(world.commune_officer)
    return {
        "missing": {},
        "empty": {"HTTP_AUTHORIZATION": ""},
        "wrong_key": {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.new_key()}"},
        "no_scheme": {"HTTP_AUTHORIZATION": good},
        "basic_scheme": {"HTTP_AUTHORIZATION": f"Basic {good}"},
        "bearer_only": {"HTTP_AUTHORIZATION": "Bearer"},
        "junk": {"HTTP_AUTHORIZATION": "Bearer \u00ff\u00fe" + "x" * 5000},
        "revoked": {"HTTP_AUTHORIZATION": f"Bearer {revoked}"},
        "expired": {"HTTP_AUTHORIZATION": f"Bearer {expired}"},
        "inactive_user": {"HTTP_AUTHORIZATION": f"Bearer {inactive}"},
    }


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_bad_credentials_401(world: World, endpoint: str) -> None:
    url = ENDPOINTS[endpoint](world.person.id_number)
    for case, headers in _bad_credentials(world).items():
        response = Client().get(url, **headers)
        body = assert_error(response, 401, "unauthenticated")
        assert response["WWW-Authenticate"].startswith("Bearer"), case
        assert "Bearer" in body["message"], case
    assert not AccessLogEntry.objects.exists()


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_session_login_is_not_accepted(world: World, endpoint: str) -> None:
    client = Client()
    client.force_login(world.steward)
    response = client.get(ENDPOINTS[endpoint](world.person.id_number))
    assert_error(response, 401, "unauthenticated")


# --- outside jurisdiction -------------------------------------------------------------


@pytest.mark.parametrize("endpoint", BY_NUMBER)
def test_outside_jurisdiction_is_indistinguishable_from_missing(
    world: World, endpoint: str
) -> None:
    key = token_for(world.other_commune_officer)
    outside = call(ENDPOINTS[endpoint](world.person.id_number), key)
    missing = call(ENDPOINTS[endpoint](MISSING_NUMBER), key)
    code = "household_not_found" if endpoint == "household" else "person_not_found"
    assert_error(outside, 404, code)
    assert outside.json() == missing.json()
    assert not AccessLogEntry.objects.exists()


def test_search_outside_jurisdiction_finds_nothing(world: World) -> None:
    key = token_for(world.other_commune_officer)
    by_name = call(f"{BASE}/persons?q=nguyen+van+an", key)
    assert by_name.status_code == 200
    assert by_name.json()["items"] == []
    by_number = call(f"{BASE}/persons?q={world.person.id_number}", key)
    assert by_number.json()["items"] == []
    assert not AccessLogEntry.objects.exists()


def test_search_outside_commune_filter_finds_nothing(world: World) -> None:
    key = token_for(world.commune_officer)
    response = call(f"{BASE}/persons?commune={world.far_commune.code}", key)
    assert response.status_code == 200
    assert response.json()["items"] == []


# --- malformed input ------------------------------------------------------------------

MALFORMED_NUMBERS = {
    "eleven_digits": "04809000001",
    "thirteen_digits": "0480900000012",
    "letters": "04809000001A",
    "all_letters": "abcdefghijkl",
    "wrong_century_digit": "048490000001",  # digit 4 = 4: born 2190
    "future_year": "048299000001",  # 2099
    "superscript_digit": "048\u00b290000001",
    "fullwidth_digits": "\uff10\uff14\uff18\uff10\uff19\uff10\uff10\uff10\uff10\uff10\uff10\uff11",
    "spaces": "048 090 000 001",
}


@pytest.mark.parametrize("endpoint", BY_NUMBER)
@pytest.mark.parametrize("case", list(MALFORMED_NUMBERS))
def test_malformed_id_number_422(world: World, endpoint: str, case: str) -> None:
    url = ENDPOINTS[endpoint](quote(MALFORMED_NUMBERS[case], safe=""))
    response = call(url, token_for(world.commune_officer))
    assert_error(response, 422, "invalid_id_number")


def test_malformed_id_number_messages_explain(world: World) -> None:
    key = token_for(world.commune_officer)
    short = call(ENDPOINTS["person"]("04809000001"), key).json()["message"]
    assert "12" in short
    century = call(ENDPOINTS["person"]("048490000001"), key).json()["message"]
    assert "2190" in century


@pytest.mark.parametrize(
    "query",
    [
        "",
        "q=",
        "q=a",
        "q=04809000001",
        "q=048490000001",
        "q=%00",
        "q=nguyen%00",
        "q=" + "x" * 500,
        "q=an&page=abc",
        "q=an&page=0",
        "q=an&page=-1",
        "q=an&page=1.5",
        "q=an&page=99999999999999999999999",
        "q=an&page_size=0",
        "q=an&page_size=1000",
        "q=an&page_size=x",
        "q=an&birth_year=abc",
        "q=an&birth_year=1800",
        "q=an&birth_year=2399",
        "q=an&birth_year=99999999999999999999999",
        "q=an&birth_date=2020-13-45",
        "q=an&birth_date=yesterday",
        "q=an&birth_date=99999-01-01",
        "commune=abc",
        "commune=%00",
        "commune=99999",
        "commune=" + "1" * 50,
        "q=an&commune=-1",
    ],
)
def test_junk_query_params_422(world: World, query: str) -> None:
    response = call(f"{BASE}/persons?{query}", token_for(world.commune_officer))
    body = assert_error(response, 422, response.json().get("code", "?"))
    assert body["code"] != "internal_error"


def test_too_many_parameters_is_400_not_500(world: World) -> None:
    query = "&".join(f"p{i}=1" for i in range(1500))
    response = call(f"{BASE}/persons?q=an&{query}", token_for(world.commune_officer))
    assert_error(response, 400, "bad_request")


def test_invalid_request_message_names_the_parameter(world: World) -> None:
    response = call(f"{BASE}/persons?q=an&page=abc&birth_date=x", token_for(world.commune_officer))
    body = assert_error(response, 422, "invalid_request")
    assert "page" in body["message"]
    assert "birth_date" in body["message"]


@pytest.mark.parametrize("purpose", ["x" * 201, "mục đích", "\x01bad"])
def test_bad_purpose_header_422(world: World, purpose: str) -> None:
    response = call(
        ENDPOINTS["person"](world.person.id_number),
        token_for(world.commune_officer),
        HTTP_X_PURPOSE=purpose,
    )
    assert_error(response, 422, "invalid_purpose")


_junk = st.one_of(
    st.text(alphabet=st.characters(codec="utf-8"), max_size=40),
    st.integers().map(str),
    st.dates().map(str),
    st.from_regex(r"\A\d{12}\Z"),  # any script's digits, not only 0-9
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    params=st.fixed_dictionaries(
        dict.fromkeys(("q", "birth_year", "birth_date", "commune", "page", "page_size"), _junk)
    ),
    number=_junk,
    purpose=_junk,
)
def test_random_junk_never_500(
    world: World, params: dict[str, str], number: str, purpose: str
) -> None:
    key = token_for(world.commune_officer)
    client = Client()
    auth = f"Bearer {key}"
    latin1_purpose = purpose.encode("latin-1", "replace").decode("latin-1")
    search = client.get(f"{BASE}/persons", params, HTTP_AUTHORIZATION=auth)
    assert search.status_code in (200, 422), search.content
    assert "code" in search.json() or "items" in search.json()
    for endpoint in BY_NUMBER:
        response = client.get(
            ENDPOINTS[endpoint](quote(number, safe="")),
            HTTP_AUTHORIZATION=auth,
            HTTP_X_PURPOSE=latin1_purpose,
        )
        assert response.status_code in (200, 404, 422), response.content
        assert response["Content-Type"].startswith("application/json")


def test_unknown_api_path_is_json_404(world: World) -> None:
    for url in ("/api/v1/nothing", f"{BASE}/persons/", "/api/v2/registry/persons"):
        assert_error(Client().get(url), 404, "not_found")


# --- access log and request id --------------------------------------------------------


def test_person_read_is_logged_with_purpose_and_request_id(world: World) -> None:
    response = call(
        ENDPOINTS["person"](world.person.id_number),
        token_for(world.commune_officer),
        HTTP_X_PURPOSE="verify_dossier:HS-2026-001",
        HTTP_X_REQUEST_ID="req-abcdef-123456",
    )
    assert response.status_code == 200
    assert response["X-Request-ID"] == "req-abcdef-123456"
    entry = AccessLogEntry.objects.get()
    assert entry.person_id == world.person.pk
    assert entry.actor_id == world.commune_officer.pk
    assert entry.channel == "api"
    assert entry.view == "api_person"
    assert entry.purpose == "verify_dossier:HS-2026-001"
    assert entry.request_id == "req-abcdef-123456"
    assert "full_name" in entry.fields


@pytest.mark.parametrize("endpoint", BY_NUMBER)
def test_every_read_appends_an_entry(world: World, endpoint: str) -> None:
    key = token_for(world.commune_officer)
    for expected in (1, 2):
        response = call(ENDPOINTS[endpoint](world.person.id_number), key)
        assert response.status_code == 200
        request_id = response["X-Request-ID"]
        assert request_id
        entries = AccessLogEntry.objects.filter(person=world.person, channel="api")
        assert entries.count() == expected
        latest = entries.order_by("-id").first()
        assert latest is not None
        assert latest.request_id == request_id
        assert latest.purpose == "official_duty"


def test_household_read_logs_every_member(world: World) -> None:
    household = factories.household_of(world.person)
    child = factories.make_person(
        world.commune, birth_date=dt.date(2015, 3, 1), household=household, relationship="child"
    )
    call(ENDPOINTS["household"](world.person.id_number), token_for(world.commune_officer))
    logged = set(AccessLogEntry.objects.values_list("person_id", flat=True))
    assert logged == {world.person.pk, child.pk}


def test_search_logs_the_rows_returned(world: World) -> None:
    response = call(
        f"{BASE}/persons?q=nguyen+van+an",
        token_for(world.commune_officer),
        HTTP_X_PURPOSE="search_test",
    )
    entry = AccessLogEntry.objects.get()
    assert entry.person_id == world.person.pk
    assert entry.view == "person_search"
    assert entry.purpose == "search_test"
    assert entry.request_id == response["X-Request-ID"]


def test_error_responses_carry_request_id(world: World) -> None:
    response = call(ENDPOINTS["person"](MISSING_NUMBER), token_for(world.commune_officer))
    assert response.status_code == 404
    assert response["X-Request-ID"]


# --- OpenAPI --------------------------------------------------------------------------


def test_openapi_lists_the_paths(db: None) -> None:
    response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    schema = json.loads(response.content)
    paths = schema["paths"]
    for path in (
        "/api/v1/registry/persons",
        "/api/v1/registry/persons/{id_number}",
        "/api/v1/registry/persons/{id_number}/household",
        "/api/v1/registry/persons/{id_number}/residences",
    ):
        assert set(paths[path]) == {"get"}, path
        assert paths[path]["get"]["description"]
    person = paths["/api/v1/registry/persons/{id_number}"]["get"]
    assert {"200", "401", "403", "404", "422"} <= set(person["responses"])
    assert any(p["name"] == "X-Purpose" for p in person["parameters"])
    components = schema["components"]
    assert components["securitySchemes"]["ApiTokenAuth"]["scheme"] == "bearer"
    assert components["schemas"]["PersonOut"]["properties"]["id_number"]["description"]


def test_docs_page(db: None) -> None:
    assert Client().get("/api/docs").status_code == 200


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
def test_writes_are_json_405(world: World, endpoint: str, method: str) -> None:
    url = ENDPOINTS[endpoint](world.person.id_number)
    response = getattr(Client(), method)(url, HTTP_AUTHORIZATION=f"Bearer {token_for(world.admin)}")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    if method != "head":
        assert_error(response, 405, "method_not_allowed")


# --- as of a past moment --------------------------------------------------------------


def _as_of(number: str, at: str) -> str:
    return f"{BASE}/persons/{number}/as-of?at={at}"


def test_as_of_rewinds_a_correction(world: World) -> None:
    import datetime as dt

    from django.utils import timezone

    from congdan.registry import services

    before = timezone.now()
    services.correct_person(
        world.steward,
        person_id=world.person.pk,
        changes={"full_name": "Nguyễn Văn Ân"},
        reason="Sai chính tả",
        legal_basis="Luật Hộ tịch 2014",
    )
    key = token_for(world.commune_officer)
    then = call(_as_of(world.person.id_number, before.isoformat().replace("+", "%2B")), key)
    assert then.status_code == 200, then.content
    assert then.json()["values"]["full_name"] == "Nguyễn Văn An"
    assert then.json()["residences"][0]["kind"] == "permanent"
    later = (timezone.now() + dt.timedelta(seconds=1)).isoformat().replace("+", "%2B")
    assert call(_as_of(world.person.id_number, later), key).json()["values"]["full_name"] == (
        "Nguyễn Văn Ân"
    )
    entry = AccessLogEntry.objects.filter(person=world.person, view="person_as_of").first()
    assert entry is not None
    assert entry.channel == "api"


def test_as_of_permissions_and_bad_input(world: World) -> None:
    url = _as_of(world.person.id_number, "2100-01-01T00:00:00")
    assert_error(call(url), 401, "unauthenticated")
    assert_error(call(url, token_for(world.nobody)), 403, "permission_denied")
    outside = assert_error(
        call(url, token_for(world.other_commune_officer)), 404, "person_not_found"
    )
    missing = assert_error(
        call(_as_of(MISSING_NUMBER, "2100-01-01T00:00:00"), token_for(world.commune_officer)),
        404,
        "person_not_found",
    )
    assert outside == missing
    key = token_for(world.commune_officer)
    assert_error(
        call(_as_of(world.person.id_number, "1900-01-01T00:00:00"), key), 404, "not_recorded_yet"
    )
    assert_error(call(_as_of(world.person.id_number, "not-a-date"), key), 422, "invalid_request")
