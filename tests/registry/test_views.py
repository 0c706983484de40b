"""The officer web UI of the registry: access (every view), search, person page, forms."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING, Any

import pytest
from django.urls import URLPattern, reverse
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord
from congdan.registry import services, urls
from congdan.registry.models import (
    CivilEvent,
    CivilEventKind,
    DatePrecision,
    Person,
    Residence,
    ResidenceKind,
    VitalStatus,
)
from tests import factories
from tests.permissions import ViewAccessTests, write_counts

if TYPE_CHECKING:
    from django.test import Client
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

    from tests.conftest import World

pytestmark = pytest.mark.django_db


def person_url(person: Person) -> str:
    return reverse("registry:person", args=[person.id_number])


def tr_url(person: Person) -> str:
    return reverse("registry:temporary_residence", args=[person.id_number])


def death_url(person: Person) -> str:
    return reverse("registry:record_death", args=[person.id_number])


def move_url(person: Person) -> str:
    return reverse("registry:move_household", args=[factories.household_of(person).code])


def today() -> dt.date:
    return timezone.localdate()


def tr_data(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "street": "Số 12 đường Lê Lợi",
        "commune": world.commune.code,
        "start_date": today().isoformat(),
        "end_date": (today() + dt.timedelta(days=180)).isoformat(),
        "reason": "Đi làm",
    }
    data.update(overrides)
    return data


def move_data(world: World, **overrides: Any) -> dict[str, Any]:
    data = {
        "street": "Số 5 đường Trần Phú",
        "commune": world.commune.code,
        "move_date": today().isoformat(),
        "reason": "Chuyển nhà",
    }
    data.update(overrides)
    return data


def death_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "death_date": today().isoformat(),
        "document_ref": "15/2026/TLKT",
        "reason": "",
        "confirm": "on",
    }
    data.update(overrides)
    return data


def text(response: HttpResponse) -> str:
    return response.content.decode()


# --- access: every registry view, GET and POST -----------------------------------------


class TestSearchAccess(ViewAccessTests):
    def url(self, world: World) -> str:
        return reverse("registry:search") + f"?q={world.person.id_number}"

    def check_allowed(self, response: HttpResponse, world: World) -> None:
        assert response.status_code == 200
        assert world.person.full_name in text(response)

    def check_outside(self, response: HttpResponse, world: World) -> None:
        # A search does not 404: the person is simply not among the results.
        assert response.status_code == 200
        assert world.person.full_name not in text(response)


class TestPersonPageAccess(ViewAccessTests):
    def url(self, world: World) -> str:
        return person_url(world.person)


class TestTemporaryResidenceFormAccess(ViewAccessTests):
    def url(self, world: World) -> str:
        return tr_url(world.person)


class TestTemporaryResidencePostAccess(ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return tr_url(world.person)

    def data(self, world: World) -> dict[str, Any]:
        return tr_data(world)


class TestMoveHouseholdFormAccess(ViewAccessTests):
    def url(self, world: World) -> str:
        return move_url(world.person)


class TestMoveHouseholdPostAccess(ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return move_url(world.person)

    def data(self, world: World) -> dict[str, Any]:
        return move_data(world)


class TestRecordDeathFormAccess(ViewAccessTests):
    def url(self, world: World) -> str:
        return death_url(world.person)


class TestRecordDeathPostAccess(ViewAccessTests):
    method = "post"
    allowed_status = 302

    def url(self, world: World) -> str:
        return death_url(world.person)

    def data(self, world: World) -> dict[str, Any]:
        return death_data()


COVERED_VIEWS = {"search", "person", "temporary_residence", "move_household", "record_death"}


def test_every_registry_view_is_covered_and_declares_a_permission() -> None:
    patterns = [p for p in urls.urlpatterns if isinstance(p, URLPattern)]
    assert {p.name for p in patterns} == COVERED_VIEWS
    for pattern in patterns:
        assert getattr(pattern.callback, "required_perm", None), pattern.name


def test_steward_without_write_permission_gets_403_on_forms(client: Client, world: World) -> None:
    client.force_login(world.steward)
    assert client.get(tr_url(world.person)).status_code == 403
    assert client.get(death_url(world.person)).status_code == 403
    assert client.get(move_url(world.person)).status_code == 403
    assert client.get(person_url(world.person)).status_code == 200


@pytest.mark.parametrize("bad", ["abc", "123", "0481900000001", "999190000001", "０４８"])
@pytest.mark.parametrize("name", ["person", "temporary_residence", "record_death"])
def test_malformed_id_number_in_url_is_404(
    client: Client, world: World, name: str, bad: str
) -> None:
    client.force_login(world.commune_officer)
    assert client.get(reverse(f"registry:{name}", args=[bad])).status_code == 404
    if name != "person":
        assert client.post(reverse(f"registry:{name}", args=[bad]), {}).status_code == 404


@pytest.mark.parametrize("code", ["KHONGCO", "a\x00b", "x" * 300, "hộ-1"])
def test_unknown_or_malformed_household_is_404(client: Client, world: World, code: str) -> None:
    client.force_login(world.commune_officer)
    url = reverse("registry:move_household", args=[code])
    assert client.get(url).status_code == 404
    assert client.post(url, move_data(world)).status_code == 404


@pytest.mark.parametrize(
    "params",
    [
        {"q": "an\x00"},
        {"q": "an", "page": "99999999999999999999999"},
        {"q": "an", "birth_year": "99999999999999999999999"},
        {"q": "x" * 5000},
        {"q": "٠٤٨١٩٠٠٠٠٠٠١"},  # twelve Arabic-Indic digits: digits to Python, not to us
    ],
)
def test_hostile_search_input_is_never_a_500(
    client: Client, world: World, params: dict[str, str]
) -> None:
    client.force_login(world.province_officer)
    assert search(client, **params).status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"street": "Số 1\x00"},
        {"start_date": "0001-01-01", "end_date": "9999-12-31"},
        {"start_date": "9999-12-31", "end_date": "9999-12-31"},
        {"commune": ["a", "b"]},
        {"reason": "x" * 5000},
    ],
)
def test_hostile_form_input_is_never_a_500(
    client: Client, world: World, overrides: dict[str, Any]
) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(tr_url(world.person), tr_data(world, **overrides))
    assert response.status_code == 200
    assert write_counts() == before


# --- search ------------------------------------------------------------------------------


def search(client: Client, **params: Any) -> HttpResponse:
    return client.get(reverse("registry:search"), params)


def test_search_page_without_query_shows_the_form(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = search(client)
    assert response.status_code == 200
    assert 'name="q"' in text(response)
    assert "Kết quả" not in text(response)


def test_search_without_diacritics_finds_the_person(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = search(client, q="nguyen van an")
    assert response.status_code == 200
    assert "Nguyễn Văn An" in text(response)
    assert person_url(world.person) in text(response)
    assert "17/05/1990" in text(response)


def test_search_by_id_number(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = search(client, q=world.person.id_number)
    assert "Nguyễn Văn An" in text(response)


def test_search_logs_the_access(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    search(client, q="nguyen van an")
    assert AccessLogEntry.objects.filter(
        person_id=world.person.pk, view="person_search", channel="ui"
    ).exists()


def test_search_excludes_persons_outside_jurisdiction(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    body = text(search(client, q="an"))
    assert "Nguyễn Văn An" in body
    assert "Trần Thị Bình" not in body
    assert "Lê Văn Cường" not in body
    assert "Lê Văn Cường" not in text(search(client, q=world.far_person.id_number))


def test_province_officer_sees_both_communes(client: Client, world: World) -> None:
    client.force_login(world.province_officer)
    body = text(search(client, q="an"))
    assert "Nguyễn Văn An" in body
    assert "Trần Thị Bình" in body
    assert "Lê Văn Cường" not in body
    # ... and can narrow to one commune of the province.
    body = text(search(client, q="an", commune=world.other_commune.code))
    assert "Trần Thị Bình" in body
    assert "Nguyễn Văn An" not in body


def test_commune_choices_follow_jurisdiction(client: Client, world: World) -> None:
    client.force_login(world.province_officer)
    body = text(search(client))
    assert f'value="{world.commune.code}"' in body
    assert f'value="{world.other_commune.code}"' in body
    assert f'value="{world.far_commune.code}"' not in body
    client.force_login(world.commune_officer)
    body = text(search(client))
    assert f'value="{world.commune.code}"' in body
    assert f'value="{world.other_commune.code}"' not in body


def test_commune_outside_jurisdiction_in_search_is_a_form_error(
    client: Client, world: World
) -> None:
    client.force_login(world.commune_officer)
    response = search(client, q="an", commune=world.far_commune.code)
    assert response.status_code == 200
    assert "không thuộc địa bàn quản lý của bạn" in text(response)


def test_national_steward_searches_everywhere_with_a_commune_code_box(
    client: Client, world: World
) -> None:
    client.force_login(world.steward)
    body = text(search(client, q="an"))
    assert "Lê Văn Cường" in body
    assert "Trần Thị Bình" in body
    body = text(search(client, q="an", commune="99999"))
    assert "Không có xã/phường mã 99999" in body


def test_search_by_birth_year(client: Client, world: World) -> None:
    client.force_login(world.province_officer)
    body = text(search(client, q="an", birth_year="1985"))
    assert "Trần Thị Bình" in body
    assert "Nguyễn Văn An" not in body


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": ""}, "Nhập số định danh, họ tên, hoặc chọn xã/phường để tìm kiếm."),
        ({"q": "a"}, "Họ tên cần ít nhất 2 ký tự."),
        ({"q": "12345"}, "Số định danh phải có 12 chữ số; số đã nhập có 5 chữ số."),
        ({"q": "an", "birth_year": "1800"}, "Năm sinh phải từ 1900 trở đi."),
        ({"q": "an", "birth_year": "abc"}, "Nhập năm sinh gồm 4 chữ số."),
        ({"q": "an", "birth_year": "3000"}, "Năm sinh không được sau năm"),
        ({"q": "an", "page": "0"}, ""),
        ({"q": "an", "page": "abc"}, ""),
        ({"q": "an", "commune": "'; drop table"}, "không thuộc địa bàn quản lý của bạn"),
    ],
)
def test_bad_search_input_is_a_form_error_never_a_500(
    client: Client, world: World, params: dict[str, str], message: str
) -> None:
    client.force_login(world.commune_officer)
    response = search(client, **params)
    assert response.status_code == 200
    assert 'class="error-summary"' in text(response)
    assert message in text(response)


def test_search_pagination(client: Client, world: World, settings: Any) -> None:
    settings.CONGDAN_PAGE_SIZE = 1
    client.force_login(world.province_officer)
    first = text(search(client, q="an"))
    assert 'rel="next"' in first
    assert 'rel="prev"' not in first
    assert "page=2" in first
    second = text(search(client, q="an", page="2"))
    assert 'rel="prev"' in second
    assert 'rel="next"' not in second
    assert ("Nguyễn Văn An" in first) != ("Nguyễn Văn An" in second)


@pytest.mark.parametrize(
    ("precision", "shown"),
    [
        (DatePrecision.YEAR, "1972"),
        (DatePrecision.MONTH, "03/1972"),
        (DatePrecision.DAY, "15/03/1972"),
    ],
)
def test_birth_date_shown_only_as_precise_as_known(
    client: Client, world: World, precision: str, shown: str
) -> None:
    person = factories.make_person(
        world.commune,
        full_name="Phạm Thị Hoa",
        sex="F",
        birth_date=dt.date(1972, 3, 15),
        birth_date_precision=precision,
    )
    client.force_login(world.commune_officer)
    results = text(search(client, q="pham thi hoa"))
    cell = re.search(r'data-label="Ngày sinh">([^<]*)</td>', results)
    page = text(client.get(person_url(person)))
    fact = re.search(r"<dt>Ngày sinh</dt><dd>([^<]*)", page)
    assert cell is not None
    assert fact is not None
    for shown_here in (cell.group(1), fact.group(1)):
        assert shown_here.strip() == shown


# --- person page -----------------------------------------------------------------------


def test_person_page_shows_the_file_and_logs_the_access(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    response = client.get(person_url(world.person))
    assert response.status_code == 200
    body = text(response)
    household = factories.household_of(world.person)
    for expected in (
        "Nguyễn Văn An",
        world.person.id_number,
        "17/05/1990",
        "Kinh",
        "Thẻ căn cước",
        "Không thời hạn",
        "01/08/2024",
        household.code,
        household.address.text,
        "Chủ hộ",
        "Thường trú",
        world.commune.name,
        world.province.name,
        "Lịch sử thay đổi",
    ):
        assert expected in body, expected
    # Actions the officer may take on a living person.
    assert tr_url(world.person) in body
    assert death_url(world.person) in body
    assert move_url(world.person) in body
    entry = AccessLogEntry.objects.get(person_id=world.person.pk, view="person_file")
    assert entry.channel == "ui"
    assert entry.actor_id == world.commune_officer.pk
    assert "residences" in entry.fields


def test_person_page_links_parents_and_spouse(client: Client, world: World) -> None:
    child = factories.make_person(
        world.commune,
        full_name="Nguyễn Văn Bé",
        birth_date=dt.date(2015, 1, 2),
        father=world.person,
    )
    client.force_login(world.commune_officer)
    body = text(client.get(person_url(child)))
    assert person_url(world.person) in body


def test_person_page_without_actions_for_a_steward(client: Client, world: World) -> None:
    client.force_login(world.steward)
    body = text(client.get(person_url(world.person)))
    assert tr_url(world.person) not in body
    assert death_url(world.person) not in body


def test_change_history_in_ho_chi_minh_time(client: Client, world: World) -> None:
    services.register_temporary_residence(
        world.commune_officer,
        person_id=world.person.pk,
        commune_code=world.commune.code,
        street="Thôn Đông",
        start_date=today(),
        end_date=today() + dt.timedelta(days=60),
        reason="Lý do thử",
    )
    record = ChangeRecord.objects.filter(person=world.person).latest("at")
    local = timezone.localtime(record.at, dt.timezone(dt.timedelta(hours=7)))
    client.force_login(world.commune_officer)
    body = text(client.get(person_url(world.person)))
    assert local.strftime("%H:%M %d/%m/%Y") in body
    assert "Đăng ký tạm trú" in body
    assert "Lý do thử" in body
    assert "Luật Cư trú 2020" in body
    assert world.commune_officer.username in body


# --- temporary residence -----------------------------------------------------------------


def test_register_temporary_residence(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    form = client.get(tr_url(world.person))
    assert 'type="date"' in text(form)
    response = client.post(tr_url(world.person), tr_data(world), follow=True)
    assert response.redirect_chain[-1][0].startswith(person_url(world.person))
    residence = Residence.objects.get(person=world.person, kind=ResidenceKind.TEMPORARY)
    assert residence.address.street == "Số 12 đường Lê Lợi"
    assert residence.commune == world.commune
    assert residence.end_date == today() + dt.timedelta(days=180)
    body = text(response)
    assert "Đã đăng ký tạm trú" in body
    assert "Số 12 đường Lê Lợi" in body
    assert "Tạm trú" in body


def test_temporary_residence_accepts_day_month_year(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    start = today()
    end = start + dt.timedelta(days=40)
    data = tr_data(world, start_date=start.strftime("%d/%m/%Y"), end_date=end.strftime("%d/%m/%Y"))
    assert client.post(tr_url(world.person), data).status_code == 302
    assert Residence.objects.get(person=world.person, kind="temporary").end_date == end


def test_province_officer_registers_in_another_commune_of_the_province(
    client: Client, world: World
) -> None:
    client.force_login(world.province_officer)
    response = client.post(tr_url(world.person), tr_data(world, commune=world.other_commune.code))
    assert response.status_code == 302
    assert Residence.objects.get(person=world.person, kind="temporary").commune == (
        world.other_commune
    )


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"end_date": (dt.date.today() - dt.timedelta(days=5)).isoformat()},
            "Ngày kết thúc tạm trú phải sau ngày bắt đầu.",
        ),
        (
            {"end_date": (dt.date.today() + dt.timedelta(days=10)).isoformat()},
            "Chỉ đăng ký tạm trú cho thời gian từ 30 ngày trở lên.",
        ),
        (
            {"end_date": (dt.date.today() + dt.timedelta(days=1000)).isoformat()},
            "Thời hạn tạm trú tối đa là 02 năm",
        ),
        ({"start_date": "1989-01-01", "end_date": "1989-06-01"}, "không được trước ngày sinh"),
        ({"street": "   "}, "Trường này là bắt buộc."),
        ({"street": ""}, "Trường này là bắt buộc."),
        ({"start_date": ""}, "Trường này là bắt buộc."),
        ({"start_date": "2025-13-45"}, "Nhập ngày hợp lệ theo dạng ngày/tháng/năm."),
        ({"commune": ""}, "Chọn xã/phường."),
        ({"commune": "abc"}, "không thuộc địa bàn quản lý của bạn"),
    ],
)
def test_temporary_residence_bad_input_writes_nothing(
    client: Client, world: World, overrides: dict[str, str], message: str
) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(tr_url(world.person), tr_data(world, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert 'class="error-summary"' in text(response)
    assert write_counts() == before


@pytest.mark.parametrize("which", ["other_commune", "far_commune"])
def test_temporary_residence_outside_jurisdiction_commune(
    client: Client, world: World, which: str
) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(tr_url(world.person), tr_data(world, commune=getattr(world, which).code))
    assert response.status_code == 200
    assert "không thuộc địa bàn quản lý của bạn" in text(response)
    assert write_counts() == before


def test_admin_types_a_commune_code(client: Client, world: World) -> None:
    client.force_login(world.admin)
    assert 'name="commune"' in text(client.get(tr_url(world.far_person)))
    before = write_counts()
    response = client.post(tr_url(world.far_person), tr_data(world, commune="99999"))
    assert response.status_code == 200
    assert "Không có xã/phường mã 99999" in text(response)
    assert write_counts() == before
    response = client.post(tr_url(world.far_person), tr_data(world, commune=world.commune.code))
    assert response.status_code == 302


def test_forms_refuse_a_deceased_person(client: Client, world: World) -> None:
    services.record_death(
        world.commune_officer,
        person_id=world.person.pk,
        death_date=today(),
        document_ref="1/TLKT",
    )
    client.force_login(world.commune_officer)
    before = write_counts()
    for url in (tr_url(world.person), death_url(world.person)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == person_url(world.person)
    response = client.post(tr_url(world.person), tr_data(world), follow=True)
    assert "đã được ghi nhận là đã chết" in text(response)
    assert write_counts() == before


# --- move household ------------------------------------------------------------------------


def test_move_household(client: Client, world: World) -> None:
    household = factories.household_of(world.person)
    wife = factories.make_person(
        world.commune,
        full_name="Đỗ Thị Lan",
        sex="F",
        birth_date=dt.date(1992, 4, 4),
        household=household,
        relationship="spouse",
    )
    client.force_login(world.commune_officer)
    form = text(client.get(move_url(world.person) + f"?next={world.person.id_number}"))
    assert "Đỗ Thị Lan" in form  # the members who move along
    response = client.post(
        move_url(world.person), {**move_data(world), "next": world.person.id_number}, follow=True
    )
    assert response.redirect_chain[-1][0].startswith(person_url(world.person))
    household.refresh_from_db()
    assert household.address.street == "Số 5 đường Trần Phú"
    for member in (world.person, wife):
        current = Residence.objects.get(person=member, kind="permanent", ended_on__isnull=True)
        assert current.address.street == "Số 5 đường Trần Phú"
        assert current.start_date == today()
    body = text(response)
    assert "Đã chuyển hộ" in body
    assert "Số 5 đường Trần Phú" in body


def test_province_officer_moves_household_to_another_commune(client: Client, world: World) -> None:
    client.force_login(world.province_officer)
    response = client.post(
        move_url(world.person), move_data(world, commune=world.other_commune.code)
    )
    assert response.status_code == 302
    assert response["Location"].startswith(person_url(world.person))
    world.person.refresh_from_db()
    assert world.person.residence_commune == world.other_commune


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"move_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()},
            "Ngày chuyển không được ở tương lai.",
        ),
        ({"move_date": "1980-01-01"}, "Ngày chuyển không được trước ngày sinh của Nguyễn Văn An."),
        ({"street": ""}, "Trường này là bắt buộc."),
        ({"move_date": "hôm qua"}, "Nhập ngày hợp lệ theo dạng ngày/tháng/năm."),
        ({"commune": "00000"}, "không thuộc địa bàn quản lý của bạn"),
    ],
)
def test_move_household_bad_input_writes_nothing(
    client: Client, world: World, overrides: dict[str, str], message: str
) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(move_url(world.person), move_data(world, **overrides))
    assert response.status_code == 200
    assert message in text(response)
    assert write_counts() == before


def test_move_household_to_the_same_address(client: Client, world: World) -> None:
    household = factories.household_of(world.person)
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(
        move_url(world.person), move_data(world, street=household.address.street)
    )
    assert response.status_code == 200
    assert "Địa chỉ mới trùng với địa chỉ hiện tại của hộ." in text(response)
    assert write_counts() == before


def test_move_household_outside_jurisdiction_commune(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    response = client.post(move_url(world.person), move_data(world, commune=world.far_commune.code))
    assert response.status_code == 200
    assert "không thuộc địa bàn quản lý của bạn" in text(response)
    assert write_counts() == before


# --- death -----------------------------------------------------------------------------------


def test_record_death(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    form = text(client.get(death_url(world.person)))
    assert "Bạn sắp ghi nhận công dân Nguyễn Văn An đã chết" in form
    death_day = today() - dt.timedelta(days=2)
    response = client.post(
        death_url(world.person), death_data(death_date=death_day.isoformat()), follow=True
    )
    assert response.redirect_chain[-1][0] == person_url(world.person)
    world.person.refresh_from_db()
    assert world.person.vital_status == VitalStatus.DECEASED
    assert world.person.death_date == death_day
    event = CivilEvent.objects.get(person=world.person, kind=CivilEventKind.DEATH)
    assert event.document_ref == "15/2026/TLKT"
    body = text(response)
    assert "Đã ghi nhận khai tử" in body
    assert "Đã chết" in body
    assert "15/2026/TLKT" in body
    assert death_day.strftime("%d/%m/%Y") in body
    # No more actions on a deceased person.
    assert tr_url(world.person) not in body
    assert death_url(world.person) not in body


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"death_date": "1990-01-01"}, "Ngày chết không được trước ngày sinh (17/05/1990)."),
        (
            {"death_date": (dt.date.today() + dt.timedelta(days=3)).isoformat()},
            "Ngày chết không được ở tương lai.",
        ),
        ({"document_ref": ""}, "Trường này là bắt buộc."),
        ({"document_ref": "   "}, "Trường này là bắt buộc."),
        ({"confirm": ""}, "Đánh dấu ô xác nhận để ghi nhận khai tử."),
        ({"death_date": "31/02/2020"}, "Nhập ngày hợp lệ theo dạng ngày/tháng/năm."),
    ],
)
def test_record_death_bad_input_writes_nothing(
    client: Client, world: World, overrides: dict[str, str], message: str
) -> None:
    client.force_login(world.commune_officer)
    before = write_counts()
    data = death_data(**overrides)
    if not data["confirm"]:
        del data["confirm"]
    response = client.post(death_url(world.person), data)
    assert response.status_code == 200
    assert message in text(response)
    assert write_counts() == before
    world.person.refresh_from_db()
    assert world.person.vital_status == VitalStatus.ALIVE


# --- language ----------------------------------------------------------------------------------


def test_switch_to_english(client: Client, world: World) -> None:
    client.force_login(world.commune_officer)
    body = text(client.get(person_url(world.person)))
    assert '<html lang="vi">' in body
    response = client.post(
        reverse("set_language"), {"language": "en", "next": person_url(world.person)}
    )
    assert response.status_code == 302
    response = client.get(person_url(world.person))
    assert response["Content-Language"] == "en"
    body = text(response)
    assert '<html lang="en">' in body
    assert "May 17, 1990" in body  # dates localised in English
