"""The units the data migration loaded, and the loader's idempotency."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db.models import Count

from congdan.core.text import fold
from congdan.geo.loader import load_units
from congdan.geo.models import AdministrativeUnit, Level, Scheme

pytestmark = pytest.mark.django_db

U = AdministrativeUnit.objects


def unit(scheme: str, level: str, code: str) -> AdministrativeUnit:
    return U.select_related("parent", "successor__parent").get(
        scheme=scheme, level=level, code=code
    )


def test_counts() -> None:
    rows = U.order_by().values("scheme", "level").annotate(n=Count("id"))
    assert {f"{r['scheme']}/{r['level']}": r["n"] for r in rows} == {
        "2025/province": 34,
        "2025/commune": 3321,
        "legacy/province": 63,
        "legacy/district": 696,
        "legacy/commune": 10035,
    }


def test_current_units_shape() -> None:
    provinces = U.current().provinces()
    assert {p.division_type for p in provinces} == {"Tỉnh", "Thành phố"}
    assert provinces.filter(division_type="Thành phố").count() == 6
    assert all(p.name.startswith(p.division_type + " ") for p in provinces)
    communes = U.current().communes()
    assert set(communes.values_list("division_type", flat=True)) == {"Phường", "Xã", "Đặc khu"}
    assert not communes.filter(parent__isnull=True).exists()
    assert not communes.exclude(
        parent__level=Level.PROVINCE, parent__scheme=Scheme.CURRENT
    ).exists()
    assert not U.current().filter(successor__isnull=False).exists()
    assert not U.current().exclude(valid_from=dt.date(2025, 7, 1)).exists()
    assert all(len(c) == 5 and c.isdigit() for c in communes.values_list("code", flat=True))
    hai_chau = unit(Scheme.CURRENT, Level.COMMUNE, "20242")
    assert hai_chau.name == "Phường Hải Châu"
    assert hai_chau.parent == unit(Scheme.CURRENT, Level.PROVINCE, "48")
    assert hai_chau.name_search == "phuong hai chau"


def test_legacy_units_shape() -> None:
    legacy = U.filter(scheme=Scheme.LEGACY)
    assert not legacy.exclude(valid_to=dt.date(2025, 6, 30)).exists()
    assert not legacy.filter(level=Level.DISTRICT).exclude(parent__level=Level.PROVINCE).exists()
    assert not legacy.filter(level=Level.COMMUNE).exclude(parent__level=Level.DISTRICT).exists()
    assert set(legacy.filter(level=Level.COMMUNE).values_list("division_type", flat=True)) == {
        "Phường",
        "Xã",
        "Thị trấn",
    }
    assert all(u.name_search == fold(u.name) for u in legacy.filter(level=Level.DISTRICT))


@pytest.mark.parametrize(("code", "id_code"), [("01", "001"), ("48", "048"), ("79", "079")])
def test_legacy_province_id_codes(code: str, id_code: str) -> None:
    assert unit(Scheme.LEGACY, Level.PROVINCE, code).id_code == id_code


def test_id_codes_only_on_legacy_provinces() -> None:
    legacy = U.filter(scheme=Scheme.LEGACY, level=Level.PROVINCE)
    assert legacy.exclude(id_code="").count() == 63
    assert len(set(legacy.values_list("id_code", flat=True))) == 63
    assert not U.exclude(scheme=Scheme.LEGACY, level=Level.PROVINCE).exclude(id_code="").exists()


@pytest.mark.parametrize(
    ("legacy_code", "current_code", "current_name"),
    [
        ("49", "48", "Thành phố Đà Nẵng"),  # Quảng Nam
        ("48", "48", "Thành phố Đà Nẵng"),
        ("74", "79", "Thành phố Hồ Chí Minh"),  # Bình Dương
        ("02", "08", "Tỉnh Tuyên Quang"),  # Hà Giang
        ("01", "01", "Thành phố Hà Nội"),
    ],
)
def test_legacy_province_successor(legacy_code: str, current_code: str, current_name: str) -> None:
    successor = unit(Scheme.LEGACY, Level.PROVINCE, legacy_code).successor
    assert successor is not None
    assert (successor.scheme, successor.code, successor.name) == (
        Scheme.CURRENT,
        current_code,
        current_name,
    )


def test_every_legacy_province_and_commune_has_a_current_successor() -> None:
    for level, target in ((Level.PROVINCE, Level.PROVINCE), (Level.COMMUNE, Level.COMMUNE)):
        legacy = U.filter(scheme=Scheme.LEGACY, level=level)
        assert not legacy.filter(successor__isnull=True).exists()
        assert not legacy.exclude(
            successor__scheme=Scheme.CURRENT, successor__level=target
        ).exists()
    # Every current commune but one continues a legacy commune or island district.
    # Phường Yên Sở (Hà Nội) is made only of parts of split communes, whose successor
    # link goes to their default (larger) part.
    orphans = U.current().communes().filter(predecessors__isnull=True)
    assert list(orphans.values_list("code", "name")) == [("00331", "Phường Yên Sở")]


@pytest.mark.parametrize(
    ("legacy_code", "current_code", "current_name", "partial"),
    [
        ("00001", "00097", "Phường Hồng Hà", False),  # Phúc Xá, Ba Đình, Hà Nội
        ("20242", "20242", "Phường Hải Châu", False),  # Phước Ninh, Hải Châu, Đà Nẵng
        ("26740", "26740", "Phường Sài Gòn", False),  # Bến Nghé, Quận 1
        ("20968", "20971", "Xã Tam Xuân", False),  # Tam Xuân I, Núi Thành, Quảng Nam
        ("20296", "20197", "Phường Liên Chiểu", True),  # Hòa Liên, split: default part
    ],
)
def test_legacy_commune_successor(
    legacy_code: str, current_code: str, current_name: str, partial: bool
) -> None:
    old = unit(Scheme.LEGACY, Level.COMMUNE, legacy_code)
    assert old.successor is not None
    assert (old.successor.code, old.successor.name) == (current_code, current_name)
    assert old.successor_partial is partial


def test_split_communes_are_flagged() -> None:
    assert (
        U.filter(scheme=Scheme.LEGACY, level=Level.COMMUNE, successor_partial=True).count() == 471
    )


def test_districts_have_no_successor_except_islands() -> None:
    islands = U.filter(scheme=Scheme.LEGACY, level=Level.DISTRICT, successor__isnull=False)
    assert sorted((d.name, str(d.successor)) for d in islands.select_related("successor")) == [
        ("Huyện Bạch Long Vĩ", "Đặc khu Bạch Long Vĩ"),
        ("Huyện Côn Đảo", "Đặc khu Côn Đảo"),
        ("Huyện Cồn Cỏ", "Đặc khu Cồn Cỏ"),
        ("Huyện Hoàng Sa", "Đặc khu Hoàng Sa"),
        ("Huyện Lý Sơn", "Đặc khu Lý Sơn"),
    ]
    assert all(not d.children.exists() for d in islands)


def test_successors_agree_with_convert_address() -> None:
    """The package's own converter (no street: no geocoding) picks the same commune."""
    from vietnamadminunits import convert_address

    legacy = list(
        U.filter(scheme=Scheme.LEGACY, level=Level.COMMUNE)
        .select_related("parent__parent", "successor__parent")
        .order_by("code")
    )
    sample = legacy[::97] + [u for u in legacy if u.successor_partial][::10]
    assert len(sample) > 140
    for old in sample:
        district, successor = old.parent, old.successor
        assert district is not None
        assert successor is not None
        new = convert_address(f"{old.name}, {district.name}, {district.parent}")
        # The two packages differ in tone placement ("Thuỷ"/"Thủy"): compare folded.
        assert fold(new.ward) == fold(successor.name), old.code
        assert new.province == str(successor.parent), old.code


def test_load_is_idempotent() -> None:
    before = dict(U.values_list("id", "code"))
    hai_chau = unit(Scheme.CURRENT, Level.COMMUNE, "20242")
    U.filter(pk=hai_chau.pk).update(name="Sai tên", name_search="sai ten", successor=None)
    quang_nam = unit(Scheme.LEGACY, Level.PROVINCE, "49")
    U.filter(pk=quang_nam.pk).update(successor=None, id_code="")

    counts = load_units(AdministrativeUnit)
    again = load_units(AdministrativeUnit)

    assert counts == again
    assert counts["created"] == 0
    assert counts["current_provinces"] == 34
    assert counts["current_communes"] == 3321
    assert counts["legacy_provinces"] == 63
    assert counts["not_in_source"] == 0
    assert dict(U.values_list("id", "code")) == before  # same rows, same primary keys
    hai_chau.refresh_from_db()
    assert (hai_chau.name, hai_chau.name_search) == ("Phường Hải Châu", "phuong hai chau")
    quang_nam.refresh_from_db()
    assert quang_nam.id_code == "049"
    assert quang_nam.successor_id == unit(Scheme.CURRENT, Level.PROVINCE, "48").pk


def test_load_recreates_missing_units() -> None:
    U.filter(scheme=Scheme.LEGACY, level=Level.COMMUNE, code="00001").delete()
    assert load_units(AdministrativeUnit)["created"] == 1
    assert U.filter(scheme=Scheme.LEGACY, level=Level.COMMUNE, code="00001").exists()


def test_management_command_prints_counts() -> None:
    out = io.StringIO()
    call_command("load_units", stdout=out)
    text = out.getvalue()
    assert "current_communes: 3,321" in text
    assert "legacy_provinces: 63" in text
    assert "created: 0" in text
    assert U.count() == 34 + 3321 + 63 + 696 + 10035
