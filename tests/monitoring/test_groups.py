"""Working groups and members: CRUD within jurisdiction, pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from congdan.audit.models import ChangeRecord
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.monitoring.models import GroupMember, Level, WorkingGroup
from congdan.monitoring.services import groups as svc
from tests.monitoring.helpers_g import TaskWorld, build_world, make_group, make_task

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def tw(db: None) -> TaskWorld:
    return build_world()


def test_province_leader_builds_tree(tw: TaskWorld) -> None:
    top = svc.create_group(
        tw.province_leader, name="Tổ công tác tỉnh", level=Level.PROVINCE, unit_id=tw.province.pk
    )
    commune = svc.create_group(
        tw.province_leader,
        name="Tổ công tác xã",
        level=Level.COMMUNE,
        unit_id=tw.commune.pk,
        parent_id=top.pk,
    )
    village = svc.create_group(
        tw.commune_leader,
        name="Tổ thôn 1",
        level=Level.VILLAGE,
        unit_id=tw.commune.pk,
        village="Thôn 1",
        parent_id=commune.pk,
    )
    assert village.parent_id == commune.pk and village.village == "Thôn 1"
    assert ChangeRecord.objects.filter(action="create_group").count() == 3


def test_village_needs_name_and_parent_must_be_higher(tw: TaskWorld) -> None:
    with pytest.raises(ValidationFailed) as exc:
        svc.create_group(tw.commune_leader, name="T", level=Level.VILLAGE, unit_id=tw.commune.pk)
    assert exc.value.field == "village"
    peer = make_group(tw.commune)
    with pytest.raises(ValidationFailed) as exc:
        svc.create_group(
            tw.commune_leader,
            name="T",
            level=Level.COMMUNE,
            unit_id=tw.commune.pk,
            parent_id=peer.pk,
        )
    assert exc.value.code == "bad_parent"


def test_commune_leader_outside_jurisdiction(tw: TaskWorld) -> None:
    with pytest.raises(NotFound):
        svc.create_group(
            tw.commune_leader, name="T", level=Level.COMMUNE, unit_id=tw.other_commune.pk
        )
    with pytest.raises(NotFound):
        svc.create_group(tw.commune_leader, name="T", level=Level.PROVINCE, unit_id=tw.province.pk)
    other = make_group(tw.other_commune)
    with pytest.raises(NotFound):
        svc.add_member(tw.commune_leader, other.pk, name="A", role="member")
    assert not svc.groups_for(tw.commune_leader).filter(pk=other.pk).exists()
    assert svc.groups_for(tw.province_leader).filter(pk=other.pk).exists()


def test_officer_reads_but_cannot_manage(tw: TaskWorld) -> None:
    group = make_group(tw.commune)
    assert svc.get_group(tw.officer, group.pk) == group
    with pytest.raises(PermissionDenied):
        svc.create_group(tw.officer, name="T", level=Level.COMMUNE, unit_id=tw.commune.pk)
    with pytest.raises(PermissionDenied):
        svc.add_member(tw.officer, group.pk, name="A", role="member")
    assert svc.groups_for(tw.nobody).count() == 0


def test_members_one_head_phone_checked(tw: TaskWorld) -> None:
    group = make_group(tw.commune)
    head = svc.add_member(
        tw.commune_leader, group.pk, name="Nguyễn Văn Tổ", role="head", phone="0905 123 456"
    )
    assert head.phone == "0905123456"
    with pytest.raises(ValidationFailed) as exc:
        svc.add_member(tw.commune_leader, group.pk, name="B", role="head")
    assert exc.value.code == "head_exists"
    with pytest.raises(ValidationFailed) as exc:
        svc.add_member(tw.commune_leader, group.pk, name="C", role="member", phone="12ab")
    assert exc.value.field == "phone"
    member = svc.add_member(tw.commune_leader, group.pk, name="D", role="member")
    svc.update_member(tw.commune_leader, group.pk, member.pk, name="D2", role="deputy")
    member.refresh_from_db()
    assert (member.name, member.role) == ("D2", "deputy")
    svc.remove_member(tw.commune_leader, group.pk, member.pk)
    assert list(GroupMember.objects.values_list("name", flat=True)) == ["Nguyễn Văn Tổ"]
    actions = set(ChangeRecord.objects.values_list("action", flat=True))
    assert {"add_group_member", "update_group_member", "remove_group_member"} <= actions


def test_update_and_delete(tw: TaskWorld) -> None:
    group = make_group(tw.commune, name="Cũ")
    svc.update_group(
        tw.commune_leader, group.pk, name="Mới", level=Level.COMMUNE, unit_id=tw.commune.pk
    )
    group.refresh_from_db()
    assert group.name == "Mới"
    make_task(tw.police, tw.commune, group=group)
    with pytest.raises(Conflict):
        svc.delete_group(tw.commune_leader, group.pk)
    empty = make_group(tw.commune)
    svc.add_member(tw.commune_leader, empty.pk, name="A", role="member")
    svc.delete_group(tw.commune_leader, empty.pk)
    assert not WorkingGroup.objects.filter(pk=empty.pk).exists()


def test_group_page_lists_only_tasks_the_reader_may_see(tw: TaskWorld) -> None:
    """Even a group linked to a task outside the reader's area (data from before the
    rule, or an import) does not reveal it."""
    group = make_group(tw.commune)
    visible = make_task(tw.police, tw.commune, group=group, title="Nhiệm vụ của xã")
    make_task(tw.province_agency, tw.province, group=group, title="Nhiệm vụ của tỉnh")
    leader = Client()
    leader.force_login(tw.commune_leader)
    page = leader.get(reverse("monitoring:group_detail", args=[group.pk])).content.decode()
    assert visible.title in page
    assert "Nhiệm vụ của tỉnh" not in page
    province = Client()
    province.force_login(tw.province_leader)
    page = province.get(reverse("monitoring:group_detail", args=[group.pk])).content.decode()
    assert "Nhiệm vụ của tỉnh" in page


def test_pages(tw: TaskWorld) -> None:
    group = make_group(tw.commune, name="Tổ công tác phường")
    leader = Client()
    leader.force_login(tw.commune_leader)
    assert "Tổ công tác phường" in leader.get(reverse("monitoring:group_list")).content.decode()
    assert leader.get(reverse("monitoring:group_detail", args=[group.pk])).status_code == 200
    response = leader.post(
        reverse("monitoring:group_member_add", args=[group.pk]),
        {"name": "Trần Văn B", "role": "head", "phone": "0912345678", "position": ""},
    )
    assert response.status_code == 302
    bad = leader.post(
        reverse("monitoring:group_member_add", args=[group.pk]),
        {"name": "Lê C", "role": "head", "phone": ""},
    )
    assert bad.status_code == 400
    created = leader.post(
        reverse("monitoring:group_create"),
        {"name": "Tổ thôn 2", "level": "village", "unit": tw.commune.pk, "village": "Thôn 2"},
    )
    assert created.status_code == 302
    other = Client()
    other.force_login(tw.other_leader)
    assert other.get(reverse("monitoring:group_detail", args=[group.pk])).status_code == 404
    officer = Client()
    officer.force_login(tw.officer)
    assert officer.get(reverse("monitoring:group_detail", args=[group.pk])).status_code == 200
    assert officer.get(reverse("monitoring:group_create")).status_code == 403
    nobody = Client()
    nobody.force_login(tw.nobody)
    assert nobody.get(reverse("monitoring:group_list")).status_code == 403
