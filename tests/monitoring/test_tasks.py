"""The task tracker: scoping, create/edit, notes, evidence, the per-agency view, pages."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from congdan.audit.models import ChangeRecord
from congdan.core.errors import NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import AgencyKind, Role
from congdan.monitoring.models import Level, ProgrammeTask, TaskEvidence, TaskNote, TaskStatus
from congdan.monitoring.services import tasks as svc
from tests import factories
from tests.monitoring.helpers_g import TaskWorld, build_world, make_group, make_task
from tests.monitoring.helpers_g import agency as make_agency

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def tw(db: None) -> TaskWorld:
    return build_world()


@pytest.fixture
def media(settings: pytest.FixtureRequest, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"  # type: ignore[attr-defined]  # pytest-django settings
    return tmp_path / "media"


def values(tw: TaskWorld, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "code": "DA06-01",
        "title": "Làm sạch dữ liệu dân cư",
        "legal_source": "Quyết định 06/QĐ-TTg",
        "owner_agency_id": tw.police.pk,
        "level": Level.COMMUNE,
        "unit_id": tw.commune.pk,
        "deadline": dt.date(2026, 6, 30),
    }
    base.update(over)
    return base


def login(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]  # a User
    return client


# --- scoping -----------------------------------------------------------------------------


def test_scope_province_leader_sees_province_and_communes_commune_leader_only_commune(
    tw: TaskWorld,
) -> None:
    in_commune = make_task(tw.police, tw.commune)
    in_other = make_task(tw.other_agency, tw.other_commune)
    in_province = make_task(tw.province_agency, tw.province)
    far = make_task(tw.province_agency, tw.far_commune)
    seen = set(svc.tasks_for(tw.province_leader).values_list("pk", flat=True))
    assert seen == {in_commune.pk, in_other.pk, in_province.pk}
    assert set(svc.tasks_for(tw.commune_leader).values_list("pk", flat=True)) == {in_commune.pk}
    assert set(svc.tasks_for(tw.far_leader).values_list("pk", flat=True)) == {far.pk}
    assert not svc.tasks_for(tw.nobody).exists()


def test_officer_sees_own_agency_tasks_even_elsewhere(tw: TaskWorld) -> None:
    own_far = make_task(tw.police, tw.far_commune)
    other = make_task(tw.other_agency, tw.other_commune)
    seen = set(svc.tasks_for(tw.officer).values_list("pk", flat=True))
    assert own_far.pk in seen
    assert other.pk not in seen
    with pytest.raises(NotFound):
        svc.get_task(tw.officer, other.pk)


def test_officer_of_a_closed_agency_loses_its_tasks(tw: TaskWorld) -> None:
    own_far = make_task(tw.police, tw.far_commune)
    assert svc.can_update(tw.officer, own_far)
    tw.police.active = False
    tw.police.save(update_fields=["active"])
    officer = type(tw.officer).objects.select_related("agency").get(pk=tw.officer.pk)
    assert not svc.tasks_for(officer).exists()
    assert not svc.can_update(officer, own_far)


# --- create / edit -----------------------------------------------------------------------


def test_commune_leader_creates_task_audited(tw: TaskWorld) -> None:
    task = svc.create_task(tw.commune_leader, **values(tw))
    assert task.code == "DA06-01"
    assert task.status == TaskStatus.NOT_STARTED
    record = ChangeRecord.objects.get(action="create_task", object_id=task.pk)
    assert record.changes["code"] == [None, "DA06-01"]
    assert record.actor_id == tw.commune_leader.pk


def test_province_leader_creates_task_in_commune_with_province_agency(tw: TaskWorld) -> None:
    task = svc.create_task(tw.province_leader, **values(tw, owner_agency_id=tw.province_agency.pk))
    assert task.unit_id == tw.commune.pk
    assert task.owner_agency_id == tw.province_agency.pk


def test_commune_leader_cannot_create_in_other_commune(tw: TaskWorld) -> None:
    with pytest.raises(NotFound):
        svc.create_task(
            tw.commune_leader,
            **values(tw, unit_id=tw.other_commune.pk, owner_agency_id=tw.other_agency.pk),
        )
    assert not ProgrammeTask.objects.exists()


def test_officer_cannot_create(tw: TaskWorld) -> None:
    with pytest.raises(PermissionDenied):
        svc.create_task(tw.officer, **values(tw))


def test_agency_of_another_commune_refused(tw: TaskWorld) -> None:
    with pytest.raises(NotFound) as exc:
        svc.create_task(tw.province_leader, **values(tw, owner_agency_id=tw.other_agency.pk))
    assert exc.value.field == "owner_agency"


def test_level_must_match_unit(tw: TaskWorld) -> None:
    with pytest.raises(ValidationFailed) as exc:
        svc.create_task(tw.province_leader, **values(tw, level=Level.PROVINCE))
    assert exc.value.field == "unit"


def test_duplicate_code_and_bad_progress(tw: TaskWorld) -> None:
    svc.create_task(tw.commune_leader, **values(tw))
    with pytest.raises(ValidationFailed) as exc:
        svc.create_task(tw.commune_leader, **values(tw))
    assert exc.value.code == "code_taken"
    with pytest.raises(ValidationFailed) as exc:
        svc.create_task(tw.commune_leader, **values(tw, code="X2", progress=101))
    assert exc.value.field == "progress"


def test_update_records_status_change_and_done_sets_progress(tw: TaskWorld) -> None:
    task = svc.create_task(tw.commune_leader, **values(tw))
    svc.update_task(tw.commune_leader, task.pk, **{**values(tw), "status": TaskStatus.DONE})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE
    assert task.progress == 100
    assert task.completed_at is not None
    record = ChangeRecord.objects.get(action="update_task", object_id=task.pk)
    assert record.changes["status"] == ["not_started", "done"]
    assert record.changes["progress"] == [0, 100]


def test_update_outside_jurisdiction_is_not_found(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune)
    with pytest.raises(NotFound):
        svc.update_task(tw.other_leader, task.pk, **values(tw))


def test_group_assignable_only_in_area(tw: TaskWorld) -> None:
    group = make_group(tw.commune)
    task = svc.create_task(tw.commune_leader, **values(tw, group_id=group.pk))
    assert task.group_id == group.pk
    other_group = make_group(tw.other_commune)
    with pytest.raises(ValidationFailed) as exc:
        svc.create_task(tw.province_leader, **values(tw, code="X3", group_id=other_group.pk))
    assert exc.value.field == "group"


def test_commune_group_cannot_carry_a_province_task(tw: TaskWorld) -> None:
    commune_group = make_group(tw.commune)
    with pytest.raises(ValidationFailed) as exc:
        svc.create_task(
            tw.province_leader,
            **values(
                tw,
                level=Level.PROVINCE,
                unit_id=tw.province.pk,
                owner_agency_id=tw.province_agency.pk,
                group_id=commune_group.pk,
            ),
        )
    assert exc.value.field == "group"
    # A province group carries the province's tasks and its communes'.
    province_group = make_group(tw.province)
    task = svc.create_task(tw.province_leader, **values(tw, group_id=province_group.pk))
    assert task.group_id == province_group.pk


def test_owner_agency_never_from_another_province(tw: TaskWorld) -> None:
    admin = factories.make_user(Role.ADMIN)
    far_agency = make_agency(tw.far_commune)
    with pytest.raises(NotFound) as exc:
        svc.create_task(admin, **values(tw, owner_agency_id=far_agency.pk))
    assert exc.value.field == "owner_agency"
    # A ministry (no jurisdiction) may own a task, when a national user assigns it.
    ministry = make_agency(None, kind=AgencyKind.MINISTRY)
    assert svc.create_task(admin, **values(tw, owner_agency_id=ministry.pk)).pk
    with pytest.raises(NotFound):
        svc.create_task(tw.province_leader, **values(tw, code="X9", owner_agency_id=ministry.pk))


# --- notes ------------------------------------------------------------------------------


def test_owner_officer_adds_note(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune)
    note = svc.add_note(
        tw.officer, task.pk, text="Đã rà soát 1.200 hồ sơ", status="in_progress", progress=40
    )
    task.refresh_from_db()
    assert (task.status, task.progress) == ("in_progress", 40)
    assert note.author_id == tw.officer.pk
    record = ChangeRecord.objects.get(action="task_progress", object_id=task.pk)
    assert record.changes == {"status": ["not_started", "in_progress"], "progress": [0, 40]}


def test_other_agency_officer_cannot_note(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune)
    # The justice office of the same commune sees the task but does not own it.
    assert svc.tasks_for(tw.justice_officer).filter(pk=task.pk).exists()
    with pytest.raises(PermissionDenied):
        svc.add_note(tw.justice_officer, task.pk, text="x", status="done", progress=100)
    with pytest.raises(NotFound):
        svc.add_note(tw.other_officer, task.pk, text="x", status="done", progress=100)
    assert not TaskNote.objects.exists()


def test_leader_note_done_forces_100(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune)
    note = svc.add_note(tw.province_leader, task.pk, text="Xong", status="done", progress=10)
    assert note.progress == 100
    task.refresh_from_db()
    assert task.progress == 100


# --- evidence ---------------------------------------------------------------------------


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "red").save(out, "PNG")
    return out.getvalue()


def _docx() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.mark.parametrize(
    ("name", "content", "ctype"),
    [
        ("bao-cao.pdf", PDF, "application/pdf"),
        ("anh.png", _png(), "image/png"),
        (
            "bien-ban.docx",
            _docx(),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
def test_evidence_accepted(
    tw: TaskWorld, media: Path, name: str, content: bytes, ctype: str
) -> None:
    task = make_task(tw.police, tw.commune)
    ev = svc.add_evidence(tw.officer, task.pk, file=SimpleUploadedFile(name, content))
    assert (ev.content_type, ev.size, ev.name) == (ctype, len(content), name)
    assert Path(ev.file.path).read_bytes() == content
    assert ChangeRecord.objects.filter(action="task_evidence", object_id=task.pk).count() == 1


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("virus.exe", b"MZ....", "file_extension"),
        ("fake.pdf", _png(), "file_not_what_it_says"),
        ("cut.pdf", b"%PDF-1.4 no end", "file_damaged"),
        ("empty.png", b"", "file_empty"),
        ("broken.png", b"\x89PNG\r\n\x1a\nrubbish", "file_damaged"),
        ("not.docx", b"PK\x03\x04garbage", "file_damaged"),
    ],
)
def test_evidence_refused(tw: TaskWorld, media: Path, name: str, content: bytes, code: str) -> None:
    task = make_task(tw.police, tw.commune)
    with pytest.raises(ValidationFailed) as exc:
        svc.add_evidence(tw.officer, task.pk, file=SimpleUploadedFile(name, content))
    assert exc.value.code == code
    assert not TaskEvidence.objects.exists()
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_evidence_too_large(tw: TaskWorld, media: Path) -> None:
    task = make_task(tw.police, tw.commune)
    big = PDF[:-6] + b" " * svc.EVIDENCE_MAX_BYTES + b"%%EOF\n"
    with pytest.raises(ValidationFailed) as exc:
        svc.add_evidence(tw.officer, task.pk, file=SimpleUploadedFile("big.pdf", big))
    assert exc.value.code == "file_too_large"


def test_evidence_denied_to_non_owner(tw: TaskWorld, media: Path) -> None:
    task = make_task(tw.police, tw.commune)
    with pytest.raises(PermissionDenied):
        svc.add_evidence(tw.justice_officer, task.pk, file=SimpleUploadedFile("a.pdf", PDF))


# --- per-agency view --------------------------------------------------------------------


def test_agency_summary_counts(tw: TaskWorld) -> None:
    today = timezone.localdate()
    past = today - dt.timedelta(days=5)
    future = today + dt.timedelta(days=5)
    make_task(tw.police, tw.commune, deadline=past)  # not started, overdue
    make_task(tw.police, tw.commune, deadline=future)  # not started
    make_task(tw.police, tw.commune, deadline=past, status="waiting")  # overdue
    make_task(tw.police, tw.commune, deadline=past, status="done")  # done: not overdue
    make_task(tw.police, tw.commune, status="in_progress")  # no deadline
    make_task(tw.justice, tw.commune, deadline=past, status="cancelled")
    summaries = svc.agency_summary(svc.tasks_for(tw.commune_leader), today)
    by_code = {s.code: s for s in summaries}
    police = by_code["CA-XA-G"]
    assert (police.total, police.not_started, police.waiting, police.done) == (5, 2, 1, 1)
    assert police.in_progress == 1
    assert police.overdue == 2
    assert "2 trên 5 nhiệm vụ chưa triển khai, 1 chờ" in police.sentence
    justice = by_code["TP-XA-G"]
    assert (justice.total, justice.cancelled, justice.overdue) == (1, 1, 0)


def test_filters(tw: TaskWorld) -> None:
    today = timezone.localdate()
    late = make_task(tw.police, tw.commune, deadline=today - dt.timedelta(days=1))
    due_today = make_task(tw.police, tw.commune, deadline=today)
    other = make_task(tw.justice, tw.commune, status="waiting")
    qs = svc.tasks_for(tw.commune_leader)
    pks = lambda flt: set(svc.filter_tasks(qs, flt, today).values_list("pk", flat=True))  # noqa: E731
    assert pks(svc.TaskFilter(overdue=True)) == {late.pk}
    assert pks(svc.TaskFilter(agency=tw.police.pk)) == {late.pk, due_today.pk}
    assert pks(svc.TaskFilter(status="waiting")) == {other.pk}
    assert pks(svc.TaskFilter(level="province")) == set()


# --- pages ------------------------------------------------------------------------------


def test_list_page_marks_overdue_and_exports(tw: TaskWorld) -> None:
    today = timezone.localdate()
    make_task(tw.police, tw.commune, code="NV-LATE", deadline=today - dt.timedelta(days=2))
    make_task(tw.other_agency, tw.other_commune, code="NV-OTHER")
    client = login(tw.commune_leader)
    response = client.get(reverse("monitoring:task_list"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "NV-LATE" in body and "row-overdue" in body
    assert "NV-OTHER" not in body
    export = client.get(reverse("monitoring:task_list") + "?overdue=on&format=xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")


def test_list_bad_filter_is_400_not_500(tw: TaskWorld) -> None:
    client = login(tw.commune_leader)
    response = client.get(reverse("monitoring:task_list") + "?status=zzz&agency=abc")
    assert response.status_code == 400


def test_pages_denied_without_permission(tw: TaskWorld) -> None:
    client = login(tw.nobody)
    assert client.get(reverse("monitoring:task_list")).status_code == 403
    assert client.get(reverse("monitoring:task_agencies")).status_code == 403
    officer = login(tw.officer)
    assert officer.get(reverse("monitoring:task_create")).status_code == 403
    assert Client().get(reverse("monitoring:task_list")).status_code == 302


def test_detail_outside_jurisdiction_404(tw: TaskWorld) -> None:
    task = make_task(tw.police, tw.commune)
    assert (
        login(tw.commune_leader).get(reverse("monitoring:task_detail", args=[task.pk])).status_code
        == 200
    )
    assert (
        login(tw.other_leader).get(reverse("monitoring:task_detail", args=[task.pk])).status_code
        == 404
    )
    assert (
        login(tw.other_leader).get(reverse("monitoring:task_edit", args=[task.pk])).status_code
        == 404
    )


def test_create_page_and_note_page(tw: TaskWorld) -> None:
    client = login(tw.commune_leader)
    assert client.get(reverse("monitoring:task_create")).status_code == 200
    response = client.post(
        reverse("monitoring:task_create"),
        {
            "code": "WEB-1",
            "title": "Nhiệm vụ qua web",
            "owner_agency": tw.police.pk,
            "level": "commune",
            "unit": tw.commune.pk,
            "deadline": "2026-12-31",
            "status": "not_started",
            "progress": "0",
        },
    )
    assert response.status_code == 302
    task = ProgrammeTask.objects.get(code="WEB-1")
    assert task.deadline == dt.date(2026, 12, 31)
    officer = login(tw.officer)
    response = officer.post(
        reverse("monitoring:task_note", args=[task.pk]),
        {"status": "in_progress", "progress": "30", "text": "Đang làm"},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.progress == 30
    bad = officer.post(
        reverse("monitoring:task_note", args=[task.pk]),
        {"status": "in_progress", "progress": "300", "text": "x"},
    )
    assert bad.status_code == 400
    denied = login(tw.justice_officer).post(
        reverse("monitoring:task_note", args=[task.pk]),
        {"status": "done", "progress": "100", "text": "x"},
    )
    assert denied.status_code == 403


def test_create_page_foreign_unit_is_form_error(tw: TaskWorld) -> None:
    response = login(tw.commune_leader).post(
        reverse("monitoring:task_create"),
        {
            "code": "WEB-2",
            "title": "x",
            "owner_agency": tw.other_agency.pk,
            "level": "commune",
            "unit": tw.other_commune.pk,
            "status": "not_started",
            "progress": "0",
        },
    )
    assert response.status_code == 400
    assert not ProgrammeTask.objects.filter(code="WEB-2").exists()


def test_evidence_upload_and_download(tw: TaskWorld, media: Path) -> None:
    task = make_task(tw.police, tw.commune)
    client = login(tw.officer)
    response = client.post(
        reverse("monitoring:task_evidence_upload", args=[task.pk]),
        {"file": SimpleUploadedFile("bao-cao.pdf", PDF)},
    )
    assert response.status_code == 302
    ev = TaskEvidence.objects.get()
    url = reverse("monitoring:task_evidence_file", args=[task.pk, ev.pk])
    got = client.get(url)
    assert got.status_code == 200
    assert b"".join(got.streaming_content) == PDF  # type: ignore[attr-defined]  # FileResponse
    assert login(tw.other_leader).get(url).status_code == 404
    wrong = client.get(reverse("monitoring:task_evidence_file", args=[task.pk, ev.pk + 99]))
    assert wrong.status_code == 404


def test_agency_page(tw: TaskWorld) -> None:
    make_task(tw.police, tw.commune, status="waiting")
    response = login(tw.province_leader).get(reverse("monitoring:task_agencies"))
    assert response.status_code == 200
    assert "0 trên 1 nhiệm vụ chưa triển khai, 1 chờ" in response.content.decode()


def test_factories_unit() -> None:
    # Guard: the fixture's province has at least two communes (the tests rely on it).
    assert len(factories.communes_of(factories.current_province("48"))) >= 2
