"""Lookups by code, successor resolution and jurisdiction containment."""

from __future__ import annotations

import pytest

from congdan.core.errors import ValidationFailed
from congdan.geo import selectors
from congdan.geo.models import AdministrativeUnit, Level, Scheme

pytestmark = pytest.mark.django_db


def get(scheme: str, level: str, code: str) -> AdministrativeUnit:
    return AdministrativeUnit.objects.get(scheme=scheme, level=level, code=code)


def test_current_unit_of_current_unit_is_itself() -> None:
    da_nang = get(Scheme.CURRENT, Level.PROVINCE, "48")
    hai_chau = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    assert selectors.current_unit(da_nang) == da_nang
    assert selectors.current_unit(hai_chau) == hai_chau


def test_current_unit_follows_successors() -> None:
    assert selectors.current_unit(get(Scheme.LEGACY, Level.PROVINCE, "49")).code == "48"
    phuoc_ninh = selectors.current_unit(get(Scheme.LEGACY, Level.COMMUNE, "20242"))
    assert (phuoc_ninh.scheme, phuoc_ninh.name) == (Scheme.CURRENT, "Phường Hải Châu")


def test_current_unit_of_district_is_todays_province() -> None:
    nui_thanh = get(Scheme.LEGACY, Level.DISTRICT, "517")  # Huyện Núi Thành, Quảng Nam
    assert nui_thanh.successor_id is None
    province = selectors.current_unit(nui_thanh)
    assert (province.level, province.code) == (Level.PROVINCE, "48")


def test_current_unit_of_island_district_is_its_special_zone() -> None:
    zone = selectors.current_unit(get(Scheme.LEGACY, Level.DISTRICT, "318"))
    assert (zone.level, zone.name) == (Level.COMMUNE, "Đặc khu Bạch Long Vĩ")


def test_province_by_code() -> None:
    assert selectors.province_by_code("48").name == "Thành phố Đà Nẵng"
    assert selectors.province_by_code(" 8 ").code == "08"
    assert selectors.province_by_code("49", scheme=Scheme.LEGACY).name == "Tỉnh Quảng Nam"


@pytest.mark.parametrize(
    ("code", "scheme", "error_code"),
    [
        ("49", Scheme.CURRENT, "unknown_province"),  # Quảng Nam no longer exists
        ("99", Scheme.LEGACY, "unknown_province"),
        ("abc", Scheme.CURRENT, "invalid_unit_code"),
        ("123", Scheme.CURRENT, "invalid_unit_code"),
        ("", Scheme.CURRENT, "invalid_unit_code"),
        ("٤٨", Scheme.CURRENT, "invalid_unit_code"),  # Arabic-Indic digits
    ],
)
def test_province_by_code_rejects(code: str, scheme: str, error_code: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        selectors.province_by_code(code, scheme=scheme)
    assert caught.value.code == error_code
    assert caught.value.field == "province"


def test_province_by_id_code() -> None:
    quang_nam = selectors.province_by_id_code("049")
    assert (quang_nam.scheme, quang_nam.name) == (Scheme.LEGACY, "Tỉnh Quảng Nam")
    assert selectors.province_by_id_code("1").name == "Thành phố Hà Nội"
    with pytest.raises(ValidationFailed) as caught:
        selectors.province_by_id_code("099")
    assert caught.value.code == "unknown_province"


def test_commune_by_code() -> None:
    hai_chau = selectors.commune_by_code("20242")
    assert (hai_chau.scheme, hai_chau.name, str(hai_chau.parent)) == (
        Scheme.CURRENT,
        "Phường Hải Châu",
        "Thành phố Đà Nẵng",
    )
    assert selectors.commune_by_code("97").name == "Phường Hồng Hà"  # zero-padded
    assert selectors.commune_by_code("20242", scheme=Scheme.LEGACY).name == "Phường Phước Ninh"


def test_commune_by_code_unknown() -> None:
    with pytest.raises(ValidationFailed) as caught:
        selectors.commune_by_code("00001")  # Phúc Xá: legacy only
    err = caught.value
    assert (err.code, err.field) == ("unknown_commune", "commune")
    assert "Không có xã/phường mã 00001" in str(err.message)
    assert err.as_dict()["code"] == "unknown_commune"


def test_communes_in() -> None:
    da_nang = get(Scheme.CURRENT, Level.PROVINCE, "48")
    communes = selectors.communes_in(da_nang)
    assert communes.count() == da_nang.children.count() > 90
    assert not communes.exclude(parent=da_nang).exists()
    hai_chau = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    assert list(selectors.communes_in(hai_chau)) == [hai_chau]
    with pytest.raises(ValidationFailed) as caught:
        selectors.communes_in(get(Scheme.LEGACY, Level.PROVINCE, "49"))
    assert caught.value.code == "legacy_unit"


def test_is_within() -> None:
    da_nang = get(Scheme.CURRENT, Level.PROVINCE, "48")
    ha_noi = get(Scheme.CURRENT, Level.PROVINCE, "01")
    hai_chau = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    an_hai = get(Scheme.CURRENT, Level.COMMUNE, "20275")
    assert selectors.is_within(hai_chau, da_nang)
    assert selectors.is_within(hai_chau, hai_chau)
    assert selectors.is_within(da_nang, da_nang)
    assert not selectors.is_within(hai_chau, ha_noi)
    assert not selectors.is_within(hai_chau, an_hai)
    assert not selectors.is_within(da_nang, hai_chau)


def test_is_within_resolves_legacy_units_and_refuses_legacy_jurisdictions() -> None:
    da_nang = get(Scheme.CURRENT, Level.PROVINCE, "48")
    hai_chau = get(Scheme.CURRENT, Level.COMMUNE, "20242")
    phuoc_ninh = get(Scheme.LEGACY, Level.COMMUNE, "20242")
    tam_xuan_1 = get(Scheme.LEGACY, Level.COMMUNE, "20968")  # Quảng Nam -> Đà Nẵng
    assert selectors.is_within(phuoc_ninh, hai_chau)
    assert selectors.is_within(tam_xuan_1, da_nang)
    assert not selectors.is_within(tam_xuan_1, hai_chau)
    legacy_quang_nam = get(Scheme.LEGACY, Level.PROVINCE, "49")
    assert not selectors.is_within(tam_xuan_1, legacy_quang_nam)
