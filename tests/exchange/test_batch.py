"""Batch verification: upload, validation up front, the worker, progress, the result."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test.client import MULTIPART_CONTENT

from congdan.audit.models import AccessLogEntry, Channel, Outcome
from congdan.exchange import batch
from congdan.exchange.models import AccessGrant, BatchJob, JobStatus
from congdan.exchange.services import grants as grant_services
from congdan.registry.models import IdentityCard
from tests.conftest import World
from tests.exchange.conftest import Api, MemberApi

URL = "/api/v1/exchange/batch"
VERIFY = (
    "verify-identity",
    "kyc_account_opening",
    ["full_name", "birth_date", "sex", "permanent_commune", "card_number"],
)
UNKNOWN = "048090999999"  # well formed, nobody holds it

pytestmark = [pytest.mark.django_db]


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return Path(settings.MEDIA_ROOT)


def _bank(member_api: MemberApi, code: str = "bank1", fields: list[str] | None = None) -> Api:
    service, purpose, allowed = VERIFY
    return member_api(code, grants=[(service, purpose, fields or allowed)])


def _upload(
    api: Api,
    content: bytes | str,
    name: str = "rows.csv",
    header: str | None = None,
    **form: Any,
) -> Any:
    data = content.encode() if isinstance(content, str) else content
    return api.post(
        URL,
        {"file": SimpleUploadedFile(name, data), **form},
        purpose=header,
        content_type=MULTIPART_CONTENT,
    )


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _files(media: Path) -> list[Path]:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def _result(api: Api, job_id: str) -> Any:
    response = api.get(f"{URL}/{job_id}/result")
    assert response.status_code == 200, response
    return b"".join(response.streaming_content).decode()


def test_csv_round_trip(world: World, media: Path, member_api: MemberApi) -> None:
    api = _bank(member_api)
    card = IdentityCard.objects.get(person=world.person).number
    content = _csv(
        [
            ["id_number", "full_name", "birth_date", "card_number"],
            [world.person.id_number, "nguyễn  văn AN", "1990-05-17", card],
            [world.neighbour.id_number, "Trần Thị Bình", "1990-01-01", ""],
            [UNKNOWN, "Ai Đó", "1990-05-17", ""],
            ["12345", "Sai Số", "1990-05-17", ""],
            [world.far_person.id_number, "", "", ""],
        ]
    )
    submitted = _upload(api, content)
    assert submitted.status_code == 202, submitted.content
    body = submitted.json()
    assert body["status"] == "queued"
    assert body["status_url"] == f"{URL}/{body['id']}"

    queued = api.get(body["status_url"]).json()
    assert queued["total"] == 5
    assert queued["processed"] == 0
    assert queued["progress"] == 0.0
    assert queued["result_url"] is None
    assert api.get(f"{URL}/{body['id']}/result").json()["code"] == "job_not_done"

    assert batch.run_next_job() == 1
    assert batch.run_next_job() == 0

    done = api.get(body["status_url"]).json()
    assert done["status"] == "done", done
    assert (done["total"], done["processed"], done["matched"]) == (5, 5, 1)
    assert done["progress"] == 100.0
    assert done["result_url"] == f"{URL}/{body['id']}/result"

    rows = list(csv.DictReader(io.StringIO(_result(api, body["id"]))))
    assert [r["row"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert rows[0] == {
        "row": "1",
        "id_number": world.person.id_number,
        "full_name": "match",
        "birth_date": "match",
        "card_number": "match",
        "all_match": "true",
        "error": "",
    }
    assert (rows[1]["full_name"], rows[1]["birth_date"], rows[1]["card_number"]) == (
        "match",
        "no_match",
        "",
    )
    assert rows[1]["all_match"] == "false"
    assert (rows[2]["full_name"], rows[2]["birth_date"], rows[2]["all_match"]) == (
        "no_match",
        "no_match",
        "false",
    )
    assert rows[3]["error"] == "invalid_id_number"
    assert rows[3]["all_match"] == ""
    assert rows[4]["error"] == "no_attributes"

    entries = AccessLogEntry.objects.filter(channel=Channel.EXCHANGE, view="verify-identity")
    assert sorted(e.person_id for e in entries) == sorted([world.person.pk, world.neighbour.pk])
    for entry in entries:
        assert entry.outcome == Outcome.VERIFIED
        assert entry.purpose == "kyc_account_opening"
        assert entry.fields == "full_name,birth_date,card_number"
        assert entry.subsystem == api.subsystem.identifier
    assert len(_files(media)) == 2  # input and result


def test_json_round_trip_both_shapes(world: World, member_api: MemberApi) -> None:
    api = _bank(member_api)
    commune = world.person.residence_commune
    assert commune is not None
    items = [
        {
            "id_number": world.person.id_number,
            "ref": "A-1",
            "attributes": {"full_name": "Nguyễn Văn An", "permanent_commune": commune.code},
        },
        {"id_number": world.neighbour.id_number, "sex": "F", "ref": "A-2"},
        {"id_number": world.neighbour.id_number, "sex": "M"},
        "not an object",
        {"id_number": world.person.id_number, "attributes": {"full_name": 7}},
        {"full_name": "Không Số"},
        {"id_number": 48090000001, "sex": "M"},
    ]
    submitted = _upload(api, json.dumps(items), name="rows.json")
    assert submitted.status_code == 202, submitted.content
    job_id = submitted.json()["id"]
    batch.run_next_job()
    status = api.get(f"{URL}/{job_id}").json()
    assert (status["status"], status["format"], status["total"], status["matched"]) == (
        "done",
        "json",
        7,
        2,
    )
    response = api.get(f"{URL}/{job_id}/result")
    assert response["Content-Type"].startswith("application/json")
    assert "attachment" in response["Content-Disposition"]
    results = json.loads(b"".join(response.streaming_content))
    assert results[0] == {
        "row": 1,
        "ref": "A-1",
        "id_number": world.person.id_number,
        "results": {"full_name": "match", "permanent_commune": "match"},
        "all_match": True,
    }
    assert results[1]["results"] == {"sex": "match"}
    assert results[1]["ref"] == "A-2"
    assert results[2]["results"] == {"sex": "no_match"}
    assert "ref" not in results[2]
    assert [r.get("error") for r in results[3:]] == [
        "invalid_row",
        "invalid_attribute",
        "missing_id_number",
        "invalid_id_number",
    ]
    assert all(r["all_match"] is False for r in results[3:])


def test_progress_is_written_per_chunk(
    world: World, member_api: MemberApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    api = _bank(member_api)
    rows = [["id_number", "full_name"]] + [[world.person.id_number, "Nguyễn Văn An"]] * 5
    job_id = _upload(api, _csv(rows)).json()["id"]
    seen: list[int] = []
    verify_chunk = batch.verify_chunk

    def observed(auth: Any, chunk: Any) -> Any:
        seen.append(BatchJob.objects.get(public_id=job_id).processed)
        return verify_chunk(auth, chunk)

    monkeypatch.setattr(batch, "CHUNK", 2)
    monkeypatch.setattr(batch, "verify_chunk", observed)
    batch.run_next_job()
    assert seen == [0, 2, 4]
    job = BatchJob.objects.get(public_id=job_id)
    assert (job.processed, job.matched, job.status) == (5, 5, JobStatus.DONE)
    # One log entry per person found in each chunk.
    assert AccessLogEntry.objects.filter(person=world.person, view="verify-identity").count() == 3


def test_progress_percent(world: World, member_api: MemberApi) -> None:
    api = _bank(member_api)
    rows = [["id_number", "sex"]] + [[world.person.id_number, "M"]] * 4
    job_id = _upload(api, _csv(rows)).json()["id"]
    BatchJob.objects.filter(public_id=job_id).update(status=JobStatus.RUNNING, processed=1)
    assert api.get(f"{URL}/{job_id}").json()["progress"] == 25.0


@pytest.mark.parametrize(
    ("content", "name", "code"),
    [
        ("full_name,birth_date\nAn,1990-01-01\n", "a.csv", "missing_id_number"),
        ("id_number,full_name,salary\n048090000001,An,1\n", "a.csv", "unknown_column"),
        ("id_number,full_name,full_name\n048090000001,An,An\n", "a.csv", "duplicate_column"),
        ("id_number,ref\n048090000001,x\n", "a.csv", "no_attributes"),
        ("id_number,full_name\n", "a.csv", "empty_file"),
        ("", "a.csv", "empty_file"),
        (b"id_number,full_name\n048090000001,\xff\xfe\n", "a.csv", "invalid_encoding"),
        ('[{"id_number": "048090000001", "full_name": "An"', "a.json", "invalid_json"),
        ('{"id_number": "048090000001"}', "a.json", "invalid_json"),
        ('[{"id_number": "048090000001", "religion": "x"}]', "a.json", "unknown_attribute"),
        ("[]", "a.json", "empty_file"),
    ],
)
def test_bad_files_are_refused_up_front(  # noqa: PLR0917 -- parametrised
    world: World, media: Path, member_api: MemberApi, content: Any, name: str, code: str
) -> None:
    api = _bank(member_api)
    response = _upload(api, content, name=name)
    assert response.status_code == 422, response.content
    assert response.json()["code"] == code
    assert not BatchJob.objects.exists()
    assert _files(media) == []


def test_attribute_outside_the_grant(world: World, media: Path, member_api: MemberApi) -> None:
    api = _bank(member_api, fields=["full_name", "birth_date"])
    content = _csv([["id_number", "full_name", "card_number"], [world.person.id_number, "A", "1"]])
    response = _upload(api, content)
    assert response.status_code == 403
    assert response.json()["code"] == "field_not_allowed"
    assert not BatchJob.objects.exists()
    assert _files(media) == []


def test_purpose_and_file_are_required(world: World, media: Path, member_api: MemberApi) -> None:
    api = _bank(member_api)
    content = _csv([["id_number", "sex"], [world.person.id_number, "M"]])
    missing = _upload(api, content, header="")
    assert missing.status_code == 422
    assert missing.json()["code"] == "purpose_required"
    wrong = _upload(api, content, header="marketing")
    assert wrong.status_code == 403
    assert wrong.json()["code"] == "unknown_purpose"
    assert not BatchJob.objects.exists()
    assert _files(media) == []
    in_form = _upload(api, content, header="", purpose="kyc_account_opening")
    assert in_form.status_code == 202, in_form.content
    no_file = api.post(URL, {"purpose": "kyc_account_opening"}, content_type=MULTIPART_CONTENT)
    assert no_file.status_code == 422
    assert no_file.json()["code"] == "file_required"
    as_json = api.post(URL, {"file": "x"})
    assert as_json.status_code == 422
    assert as_json.json()["code"] == "file_required"
    assert BatchJob.objects.count() == 1


def test_over_limit_uploads_are_refused(
    world: World, media: Path, member_api: MemberApi, settings: Any
) -> None:
    api = _bank(member_api)
    settings.EXCHANGE_BATCH_MAX_ROWS = 3
    rows = [["id_number", "sex"]] + [[world.person.id_number, "M"]] * 4
    too_many = _upload(api, _csv(rows))
    assert too_many.status_code == 413
    assert too_many.json()["code"] == "too_many_rows"
    as_json = _upload(api, json.dumps([{"id_number": "1", "sex": "M"}] * 4), name="a.json")
    assert as_json.json()["code"] == "too_many_rows"
    assert _upload(api, _csv(rows[:4])).status_code == 202  # exactly the limit

    settings.EXCHANGE_BATCH_MAX_BYTES = 1024
    big = _csv([["id_number", "full_name"], *[[world.person.id_number, "x" * 100]] * 3] * 4)
    assert len(big) > 1024
    too_big = _upload(api, big)
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "file_too_large"
    assert BatchJob.objects.count() == 1
    assert len(_files(media)) == 1


def test_other_member_sees_nothing(world: World, member_api: MemberApi) -> None:
    owner = _bank(member_api, "bank1")
    other = _bank(member_api, "bank2")
    content = _csv([["id_number", "sex"], [world.person.id_number, "M"]])
    job_id = _upload(owner, content).json()["id"]
    batch.run_next_job()
    for url in (f"{URL}/{job_id}", f"{URL}/{job_id}/result"):
        response = other.get(url)
        assert response.status_code == 404
        assert response.json()["code"] == "job_not_found"
    assert owner.get(f"{URL}/{job_id}").status_code == 200
    for bad in ("not-a-uuid", "00000000-0000-0000-0000-000000000000", "x" * 300):
        assert owner.get(f"{URL}/{bad}").status_code == 404


def test_unauthenticated_is_401(world: World, client: Any) -> None:
    response = client.post(URL, {"file": SimpleUploadedFile("a.csv", b"id_number,sex\n")})
    assert response.status_code == 401


def test_revoked_grant_fails_the_queued_job(world: World, member_api: MemberApi) -> None:
    api = _bank(member_api)
    job_id = _upload(api, _csv([["id_number", "sex"], [world.person.id_number, "M"]])).json()["id"]
    grant = AccessGrant.objects.get(member=api.member)
    grant_services.revoke_grant(None, grant_id=grant.pk, reason="Hết hợp đồng")
    batch.run_next_job()
    status = api.get(f"{URL}/{job_id}").json()
    assert (status["status"], status["error"]) == ("failed", "grant_expired")
    assert not AccessLogEntry.objects.filter(view="verify-identity").exists()


def test_stale_running_job_is_marked_interrupted(world: World, member_api: MemberApi) -> None:
    import datetime as dt

    from django.utils import timezone

    api = _bank(member_api)
    job_id = _upload(api, _csv([["id_number", "sex"], [world.person.id_number, "M"]])).json()["id"]
    BatchJob.objects.filter(public_id=job_id).update(
        status=JobStatus.RUNNING, started_at=timezone.now() - dt.timedelta(hours=2)
    )
    assert batch.run_next_job() == 0
    job = BatchJob.objects.get(public_id=job_id)
    assert (job.status, job.error) == (JobStatus.FAILED, "interrupted")


def test_many_rows_in_chunks_match_the_registry(
    world: World, member_api: MemberApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "CHUNK", 7)
    api = _bank(member_api)
    people = [world.person, world.neighbour, world.far_person]
    rows = [["ref", "id_number", "full_name", "birth_date", "sex"]]
    expected = []
    for n in range(50):
        person = people[n % 3]
        wrong = n % 5 == 0
        rows.append(
            [
                f"r{n}",
                person.id_number,
                person.full_name,
                "2000-01-01" if wrong else person.birth_date.isoformat(),
                person.sex,
            ]
        )
        expected.append("false" if wrong else "true")
    job_id = _upload(api, _csv(rows)).json()["id"]
    batch.run_next_job()
    result = list(csv.DictReader(io.StringIO(_result(api, job_id))))
    assert [r["ref"] for r in result] == [f"r{n}" for n in range(50)]
    assert [r["all_match"] for r in result] == expected
    assert BatchJob.objects.get(public_id=job_id).matched == expected.count("true")


def test_malformed_uploads_are_not_500(world: World, media: Path, member_api: MemberApi) -> None:
    api = _bank(member_api)
    no_boundary = api.post(URL, b"--x\r\n", content_type="multipart/form-data")
    assert no_boundary.status_code == 422, no_boundary.content
    assert no_boundary.json()["code"] in ("invalid_upload", "file_required")
    long_cell = _csv([["id_number", "full_name"], [world.person.id_number, "x" * 200_000]])
    assert _upload(api, long_cell).json()["code"] == "invalid_csv"
    deep = "[" * 100_000 + "]" * 100_000
    assert _upload(api, deep, name="a.json").json()["code"] in ("invalid_json", "empty_file")
    assert not BatchJob.objects.exists()
    assert _files(media) == []


def test_odd_rows_are_reported_not_fatal(world: World, member_api: MemberApi) -> None:
    api = _bank(member_api)
    content = (
        "id_number,full_name\n"
        f"{world.person.id_number},Nguyễn Văn An,extra\n"
        f" {world.person.id_number} ,{'y' * 201}\n"
        "\n"
        f"{world.person.id_number},Nguyễn\x00Văn An\n"
        f"{world.person.id_number}\n"
    )
    job_id = _upload(api, content).json()["id"]
    assert batch.run_next_job() == 1
    status = api.get(f"{URL}/{job_id}").json()
    assert (status["status"], status["total"], status["processed"]) == ("done", 4, 4)
    rows = list(csv.DictReader(io.StringIO(_result(api, job_id))))
    assert [(r["error"], r["full_name"]) for r in rows] == [
        ("invalid_row", ""),
        ("invalid_attribute", ""),
        ("", "no_match"),
        ("no_attributes", ""),
    ]
    assert rows[1]["id_number"] == world.person.id_number


def test_excel_csv_with_bom_and_crlf(world: World, member_api: MemberApi) -> None:
    api = _bank(member_api)
    content = "\ufeffID_Number,Full_Name\r\n" + (f"{world.person.id_number},Nguyễn Văn An\r\n")
    submitted = _upload(api, content.encode("utf-8"), name="KhachHang.CSV")
    assert submitted.status_code == 202, submitted.content
    batch.run_next_job()
    rows = list(csv.DictReader(io.StringIO(_result(api, submitted.json()["id"]))))
    assert rows == [
        {
            "row": "1",
            "id_number": world.person.id_number,
            "full_name": "match",
            "all_match": "true",
            "error": "",
        }
    ]
