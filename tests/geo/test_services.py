"""Parsing free-text addresses, building Address rows, and showing them."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congdan.core.errors import ValidationFailed
from congdan.geo.models import Address, AdministrativeUnit, Level, Scheme
from congdan.geo.services import MIN_CONFIDENCE, address_display, build_address, parse_address

pytestmark = pytest.mark.django_db

LEGACY_DA_NANG = "12 Nguyễn Văn Linh, Phường Nam Dương, Quận Hải Châu, Đà Nẵng"


def get(scheme: str, level: str, code: str) -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(scheme=scheme, level=level, code=code)


def test_parse_legacy_address_converts_to_current_commune() -> None:
    parsed = parse_address(LEGACY_DA_NANG)
    assert parsed.scheme == Scheme.LEGACY
    assert parsed.street == "12 Nguyễn Văn Linh"
    assert parsed.district is not None
    assert parsed.district.name == "Quận Hải Châu"
    assert parsed.province is not None
    assert (parsed.province.scheme, parsed.province.code) == (Scheme.LEGACY, "48")
    # Nam Dương was merged into Phước Ninh before 2025; the parser knows the old name.
    assert parsed.commune is not None
    assert parsed.commune.name == "Phường Phước Ninh"
    assert parsed.current_commune is not None
    assert (parsed.current_commune.scheme, parsed.current_commune.name) == (
        Scheme.CURRENT,
        "Phường Hải Châu",
    )
    assert MIN_CONFIDENCE <= parsed.confidence < 0.9  # matched through an older name
    assert parsed.notes


def test_parse_legacy_address_named_exactly() -> None:
    parsed = parse_address("Số 3, Phường Phúc Xá, Quận Ba Đình, Thành phố Hà Nội")
    assert parsed.scheme == Scheme.LEGACY
    assert parsed.commune is not None
    assert parsed.commune.code == "00001"
    assert parsed.current_commune is not None
    assert parsed.current_commune.name == "Phường Hồng Hà"
    assert parsed.confidence == 0.9
    assert parsed.notes == ()


def test_parse_legacy_address_from_merged_province() -> None:
    parsed = parse_address("Thôn 3, Xã Tam Xuân 1, Huyện Núi Thành, Tỉnh Quảng Nam")
    assert parsed.scheme == Scheme.LEGACY
    assert parsed.province is not None
    assert parsed.province.name == "Tỉnh Quảng Nam"
    assert parsed.current_commune is not None
    assert parsed.current_commune.name == "Xã Tam Xuân"
    assert str(parsed.current_commune.parent) == "Thành phố Đà Nẵng"


def test_parse_split_commune_notes_the_choice() -> None:
    parsed = parse_address("Xã Hòa Liên, Huyện Hòa Vang, Đà Nẵng")
    assert parsed.current_commune is not None
    assert parsed.current_commune.name == "Phường Liên Chiểu"
    assert any("chia cho nhiều" in note for note in parsed.notes)
    assert parsed.confidence < 0.9


def test_parse_current_address() -> None:
    parsed = parse_address("54 Lý Thường Kiệt, Phường Cửa Nam, Thành phố Hà Nội")
    assert parsed.scheme == Scheme.CURRENT
    assert parsed.street == "54 Lý Thường Kiệt"
    assert parsed.district is None
    assert parsed.commune is not None
    assert parsed.commune == parsed.current_commune
    assert (parsed.commune.code, parsed.commune.name) == ("00073", "Phường Cửa Nam")
    assert parsed.confidence == 0.9


def test_parse_current_address_matches_by_name_not_parser_code() -> None:
    # vietnamadminunits codes Xã Vinh Quý 01561, which is Xã Hạ Lang officially.
    parsed = parse_address("Xã Vinh Quý, Tỉnh Cao Bằng")
    assert parsed.commune is not None
    assert (parsed.commune.code, parsed.commune.name) == ("01537", "Xã Vinh Quý")


def test_parse_current_commune_with_old_province_name() -> None:
    parsed = parse_address("Phường Thủ Dầu Một, Bình Dương")
    assert parsed.scheme == Scheme.CURRENT
    assert parsed.province is not None
    assert parsed.province.name == "Thành phố Hồ Chí Minh"
    assert any("Bình Dương" in note for note in parsed.notes)
    assert MIN_CONFIDENCE <= parsed.confidence < 0.9


def test_parse_district_only_does_not_guess_a_commune() -> None:
    # The 2025 reading alone finds "Phường An Hải" inside "qu-AN HAI chau".
    parsed = parse_address("Quận Hải Châu, Đà Nẵng")
    assert parsed.commune is None
    assert parsed.current_commune is None
    assert parsed.district is not None
    assert parsed.district.name == "Quận Hải Châu"
    assert parsed.confidence < MIN_CONFIDENCE


def test_parse_legacy_commune_written_without_district() -> None:
    parsed = parse_address("Số 7 Lê Lợi, Phường Phước Ninh, Thành phố Đà Nẵng")
    assert parsed.scheme == Scheme.LEGACY
    assert parsed.street == "Số 7 Lê Lợi"
    assert parsed.commune is not None
    assert parsed.commune.code == "20242"
    assert str(parsed.district) == "Quận Hải Châu"
    assert str(parsed.current_commune) == "Phường Hải Châu"
    assert MIN_CONFIDENCE <= parsed.confidence < 0.9


def test_parse_prefers_legacy_reading_when_province_name_is_gone() -> None:
    # "Xã Tam Xuân I" exists only before 2025; the 2025 reading would say "Xã Tam Xuân".
    parsed = parse_address("Xã Tam Xuân I, Quảng Nam")
    assert parsed.scheme == Scheme.LEGACY
    assert str(parsed.commune) == "Xã Tam Xuân I"
    assert str(parsed.current_commune) == "Xã Tam Xuân"


def test_parse_prefers_current_reading_for_names_in_both_schemes() -> None:
    parsed = parse_address("Phường Hải Châu, Thành phố Đà Nẵng")
    assert parsed.scheme == Scheme.CURRENT
    assert parsed.commune is not None
    assert parsed.commune.code == "20242"


def test_parse_does_not_take_the_province_name_for_a_commune() -> None:
    # The 2025 reading alone gives "Phường Long An" (Tây Ninh) for the province's name.
    parsed = parse_address("Xã Tân Thành, Tỉnh Long An")
    assert parsed.current_commune is None or parsed.confidence < MIN_CONFIDENCE
    assert "Long An" not in str(parsed.current_commune)


def test_parse_island_district() -> None:
    parsed = parse_address("Huyện Bạch Long Vĩ, Thành phố Hải Phòng")
    assert parsed.commune is None
    assert parsed.current_commune is not None
    assert parsed.current_commune.name == "Đặc khu Bạch Long Vĩ"


@pytest.mark.parametrize(
    "text",
    ["", "   ", "asdf qwerty", "12345", "Hà Nội", "\x00\n;DROP TABLE geo;", "x" * 5000, "🙂" * 30],
)
def test_parse_garbage_gives_low_confidence(text: str) -> None:
    parsed = parse_address(text)
    assert parsed.current_commune is None
    assert parsed.confidence < MIN_CONFIDENCE
    assert len(parsed.text) <= 400


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(st.text(max_size=120))
def test_parse_never_raises(text: str) -> None:
    parsed = parse_address(text)
    assert 0.0 <= parsed.confidence <= 1.0


def test_build_address_from_legacy_text() -> None:
    address = build_address(text=LEGACY_DA_NANG)
    address.refresh_from_db()
    assert address.text == LEGACY_DA_NANG
    assert address.street == "12 Nguyễn Văn Linh"
    assert address.commune is not None
    assert address.commune.scheme == Scheme.LEGACY
    assert address.district is not None
    assert address.district.name == "Quận Hải Châu"
    assert address.province is not None
    assert address.province.scheme == Scheme.LEGACY
    assert address.current_commune == get(Scheme.CURRENT, Level.COMMUNE, "20242")
    assert address_display(address) == (
        f"{LEGACY_DA_NANG} (nay là Phường Hải Châu, Thành phố Đà Nẵng)"
    )


def test_build_address_with_current_commune() -> None:
    commune = get(Scheme.CURRENT, Level.COMMUNE, "00073")
    address = build_address(text="  54 Lý Thường Kiệt, Hà Nội ", commune=commune, street="54 LTK")
    assert address.pk is not None
    assert address.text == "54 Lý Thường Kiệt, Hà Nội"
    assert address.street == "54 LTK"
    assert (address.commune, address.district, address.current_commune) == (commune, None, commune)
    assert address.province == commune.parent
    assert address_display(address) == address.text


def test_build_address_with_legacy_commune_is_authoritative() -> None:
    phuc_xa = get(Scheme.LEGACY, Level.COMMUNE, "00001")
    # The text names another commune: the given one wins and the text is kept as written.
    address = build_address(text="Phường Cửa Nam, Hà Nội", commune=phuc_xa)
    assert address.commune == phuc_xa
    assert address.district is not None
    assert address.district.name == "Quận Ba Đình"
    assert address.province is not None
    assert address.province.code == "01"
    assert address.current_commune is not None
    assert address.current_commune.name == "Phường Hồng Hà"
    assert address_display(address).endswith("(nay là Phường Hồng Hà, Thành phố Hà Nội)")


def test_build_address_composes_missing_text() -> None:
    commune = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    address = build_address(text="", commune=commune, street="Số 1")
    assert address.text == "Số 1, Phường Hải Châu, Thành phố Đà Nẵng"


@pytest.mark.parametrize("text", ["asdf qwerty", "", "Quận Hải Châu, Đà Nẵng", "Hà Nội"])
def test_build_address_without_commune_refuses_unparseable_text(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_address(text=text)
    assert caught.value.code == "unknown_address"
    assert caught.value.field == "address"
    assert not Address.objects.exists()


def test_build_address_refuses_a_province_as_commune() -> None:
    with pytest.raises(ValidationFailed) as caught:
        build_address(text="Đà Nẵng", commune=get(Scheme.CURRENT, Level.PROVINCE, "48"))
    assert caught.value.code == "unknown_commune"


def test_build_address_refuses_overlong_input() -> None:
    commune = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    with pytest.raises(ValidationFailed) as caught:
        build_address(text="a" * 401, commune=commune)
    assert caught.value.code == "address_too_long"
    with pytest.raises(ValidationFailed) as caught:
        build_address(text="Số 1", commune=commune, street="b" * 201)
    assert caught.value.code == "street_too_long"
    assert not Address.objects.exists()


def test_build_address_island_district_has_no_commune_as_written() -> None:
    address = build_address(text="Huyện Bạch Long Vĩ, Hải Phòng")
    assert address.commune is None
    assert address.current_commune is not None
    assert address.current_commune.name == "Đặc khu Bạch Long Vĩ"
    assert address_display(address).endswith("(nay là Đặc khu Bạch Long Vĩ, Thành phố Hải Phòng)")
