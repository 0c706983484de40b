"""Batch verification: a member uploads up to ``EXCHANGE_BATCH_MAX_ROWS`` rows, a worker
verifies them, the member downloads the result.

Input (one file, at most ``EXCHANGE_BATCH_MAX_BYTES`` bytes, UTF-8):

- CSV with a header row: ``id_number`` and one or more of the attributes of
  ``verify-identity`` (``full_name, birth_date, sex, permanent_commune, card_number``),
  optionally ``ref`` (the member's own row reference, echoed back). An empty cell is an
  attribute not submitted for that row.
- JSON: an array of objects, either ``{"id_number": ..., "attributes": {...}}`` or flat
  ``{"id_number": ..., "full_name": ..., ...}``; ``ref`` optional in both.

``submit`` checks everything that concerns the whole file up front — size, encoding,
format, header, attribute names against the catalogue and the member's grant, row count —
and stores nothing when one fails (``empty_file``, ``invalid_encoding``, ``invalid_csv``,
``invalid_json``, ``missing_id_number``, ``duplicate_column``, ``unknown_column`` /
``unknown_attribute``, ``no_attributes``, ``field_not_allowed`` …; ``file_too_large`` and
``too_many_rows`` with 413). A bad row is not a job failure: its result carries an
``error`` code (``invalid_id_number``, ``missing_id_number``, ``no_attributes``,
``invalid_attribute``, ``invalid_row``, ``consent_required``).

``run_next_job`` (a worker poller) claims one queued job (``SKIP LOCKED`` on PostgreSQL,
so several workers can share the queue), checks the grant again, streams the rows in
chunks of ``CHUNK`` — one query for the chunk's persons, one for their cards when the card
number is compared, no query per row — writes each chunk's results to a temporary file,
appends the chunk's access-log entries (one per person found, outcome ``verified``, the
compared attribute names) and its progress in one short transaction, then stores the
result file (same format as the input) and marks the job done. A job found ``running``
for longer than ``STALE_AFTER`` (its worker died) is marked failed (``interrupted``).

Result: CSV columns ``row, [ref,] id_number, <attribute>..., all_match, error`` with
``match`` / ``no_match`` (empty: not submitted) and ``true`` / ``false``; JSON objects
``{"row", ["ref",] "id_number", "results": {...}, "all_match", ["error"]}``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import logging
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.audit.models import Outcome
from congdan.core.context import request_id_var
from congdan.core.errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from congdan.exchange import catalogue, policy, selectors
from congdan.exchange.models import (
    AccessGrant,
    BatchJob,
    Consent,
    JobStatus,
    MemberStatus,
)
from congdan.exchange.policy import Authorization, Caller
from congdan.registry import idnumbers
from congdan.registry.models import CardStatus, IdentityCard

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile

logger = logging.getLogger(__name__)

SERVICE = "verify-identity"
CHUNK = 2000
MAX_VALUE = 200
STALE_AFTER = dt.timedelta(hours=1)
ID = "id_number"
REF = "ref"
FORMATS = ("csv", "json")


class TooLargeError(DomainError):
    """The upload is over a limit of the whole file (bytes or rows)."""

    status: ClassVar[int] = 413
    code = "file_too_large"


# --- reading the input -------------------------------------------------------------------------


@dataclass
class Row:
    number: int  # 1-based data row
    ref: str | None
    id_number: str
    attributes: dict[str, str] = field(default_factory=dict)
    error: str = ""


@dataclass(frozen=True)
class Layout:
    """What the whole file says: its format, the attributes compared, whether it has
    a ``ref`` column, and its number of rows."""

    format: str
    attributes: tuple[str, ...]
    has_ref: bool
    total: int


def _fail(message: Any, code: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, field="file")


def detect_format(data: bytes, filename: str = "") -> str:
    name = filename.lower()
    if name.endswith(".json"):
        return "json"
    if name.endswith(".csv"):
        return "csv"
    head = data[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    return "json" if head.startswith(b"[") else "csv"


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail(_("Tệp phải được mã hóa UTF-8."), "invalid_encoding") from None


def _check_names(names: Sequence[str], *, json_input: bool) -> tuple[str, ...]:
    """The attribute names of a header (CSV) or of the rows (JSON), checked."""
    unknown = [n for n in names if n not in catalogue.VERIFY_FIELDS]
    if unknown:
        raise _fail(
            _("Không xác thực được các thông tin: %(names)s. Được phép: %(allowed)s.")
            % {
                "names": ", ".join(str(u)[:40] for u in unknown[:10]),
                "allowed": ", ".join(catalogue.VERIFY_FIELDS),
            },
            "unknown_attribute" if json_input else "unknown_column",
        )
    if not names:
        raise _fail(
            _("Cần ít nhất một thông tin để xác thực (ví dụ full_name, birth_date)."),
            "no_attributes",
        )
    return tuple(names)


def _csv_header(header: list[str]) -> tuple[tuple[str, ...], bool]:
    names = [name.strip().lower() for name in header]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise _fail(
            _("Cột bị lặp trong dòng tiêu đề: %(names)s.")
            % {"names": ", ".join(d[:40] for d in duplicates[:10])},
            "duplicate_column",
        )
    if ID not in names:
        raise _fail(
            _("Dòng tiêu đề phải có cột id_number (số định danh cá nhân)."), "missing_id_number"
        )
    attributes = [n for n in names if n not in (ID, REF)]
    return _check_names(attributes, json_input=False), REF in names


def _json_names(item: Any) -> list[str]:
    if not isinstance(item, dict):
        return []
    nested = item.get("attributes")
    if isinstance(nested, dict):
        return [str(k) for k in nested]
    return [str(k) for k in item if k not in (ID, REF, "attributes")]


def _too_many(total: int) -> TooLargeError:
    return TooLargeError(
        _("Tệp có %(total)d dòng, vượt giới hạn %(max)d dòng mỗi lô.")
        % {"total": total, "max": settings.EXCHANGE_BATCH_MAX_ROWS},
        code="too_many_rows",
    )


def _inspect_csv(text: str) -> tuple[tuple[str, ...], bool, int]:
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        header = next(reader, None)
        if not header:
            raise _fail(_("Tệp không có dữ liệu."), "empty_file")
        attributes, has_ref = _csv_header(header)
        total = sum(1 for cells in reader if any(c.strip() for c in cells))
    except csv.Error:
        raise _fail(_("Tệp CSV không hợp lệ."), "invalid_csv") from None
    if total > settings.EXCHANGE_BATCH_MAX_ROWS:
        raise _too_many(total)
    return attributes, has_ref, total


def _inspect_json(text: str) -> tuple[tuple[str, ...], bool, int]:
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        raise _fail(_("Tệp JSON không hợp lệ."), "invalid_json") from None
    if not isinstance(items, list):
        raise _fail(_("Tệp JSON phải là một mảng các đối tượng."), "invalid_json")
    if not items:
        raise _fail(_("Tệp không có dòng dữ liệu nào."), "empty_file")
    if len(items) > settings.EXCHANGE_BATCH_MAX_ROWS:
        raise _too_many(len(items))
    seen: dict[str, None] = {}
    for item in items:
        seen.update(dict.fromkeys(_json_names(item)))
    has_ref = any(isinstance(item, dict) and REF in item for item in items)
    return _check_names(list(seen), json_input=True), has_ref, len(items)


def inspect(data: bytes, filename: str = "") -> Layout:
    """Check the whole file (module docstring); its layout, or the first problem."""
    if len(data) > settings.EXCHANGE_BATCH_MAX_BYTES:
        raise TooLargeError(
            _("Tệp vượt giới hạn %(max)d byte mỗi lô.") % {"max": settings.EXCHANGE_BATCH_MAX_BYTES}
        )
    fmt = detect_format(data, filename)
    text = _decode(data)
    if not text.strip():
        raise _fail(_("Tệp không có dữ liệu."), "empty_file")
    inspector = _inspect_csv if fmt == "csv" else _inspect_json
    attributes, has_ref, total = inspector(text)
    if total == 0:
        raise _fail(_("Tệp không có dòng dữ liệu nào."), "empty_file")
    return Layout(format=fmt, attributes=attributes, has_ref=has_ref, total=total)


def _checked_row(row: Row, today: dt.date) -> Row:
    number = row.id_number.strip()
    row.id_number = number
    if row.error:
        return row
    if not number:
        row.error = "missing_id_number"
    elif idnumbers.validate(number, today=today):
        row.error = "invalid_id_number"
    elif not row.attributes:
        row.error = "no_attributes"
    return row


def _csv_rows(stream: IO[str], today: dt.date) -> Iterator[Row]:
    reader = csv.reader(stream)
    header = [name.strip().lower() for name in next(reader)]
    width = len(header)
    number = 0
    for cells in reader:
        if not any(c.strip() for c in cells):
            continue
        number += 1
        if len(cells) > width:
            yield Row(number, None, "", error="invalid_row")
            continue
        values = dict(zip(header, cells, strict=False))
        attributes = {}
        error = ""
        for name in header:
            if name in (ID, REF):
                continue
            value = values.get(name, "").strip()
            if len(value) > MAX_VALUE:
                error = "invalid_attribute"
            elif value:
                attributes[name] = value
        ref = values.get(REF) if REF in header else None
        row = Row(number, ref[:200] if ref else ref, values.get(ID, ""), attributes, error)
        yield _checked_row(row, today)


def _json_rows(items: list[Any], today: dt.date) -> Iterator[Row]:
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            yield Row(number, None, "", error="invalid_row")
            continue
        raw_id = item.get(ID)
        raw_ref = item.get(REF)
        ref = str(raw_ref)[:200] if raw_ref is not None else None
        nested = item.get("attributes")
        source = (
            nested
            if isinstance(nested, dict)
            else {k: v for k, v in item.items() if k not in (ID, REF, "attributes")}
        )
        if not isinstance(raw_id, str):
            yield Row(
                number,
                ref,
                "",
                error="missing_id_number" if raw_id is None else "invalid_id_number",
            )
            continue
        attributes: dict[str, str] = {}
        error = ""
        for name, value in source.items():
            if value is None or value == "":
                continue
            if not isinstance(value, str) or len(value) > MAX_VALUE:
                error = "invalid_attribute"
                break
            attributes[str(name)] = value
        yield _checked_row(Row(number, ref, raw_id, attributes, error), today)


# --- submitting ------------------------------------------------------------------------------


def read_upload(upload: UploadedFile) -> bytes:
    """The upload's bytes; ``file_too_large`` without reading more than the limit."""
    limit = settings.EXCHANGE_BATCH_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise TooLargeError(_("Tệp vượt giới hạn %(max)d byte mỗi lô.") % {"max": limit})
    upload.seek(0)
    data = upload.read(limit + 1)
    if len(data) > limit:
        raise TooLargeError(_("Tệp vượt giới hạn %(max)d byte mỗi lô.") % {"max": limit})
    return bytes(data)


def submit(caller: Caller, *, purpose: str | None, data: bytes, filename: str = "") -> BatchJob:
    """Queue a batch verification for the calling member (module docstring). The whole
    call weighs one request against the rate limit."""
    purpose_code = policy.checked_purpose(purpose)
    layout = inspect(data, filename)
    auth = policy.authorize(
        caller, service=SERVICE, purpose=purpose_code, fields=layout.attributes, count=1
    )
    job = BatchJob(
        member=caller.member,
        subsystem=caller.subsystem,
        service=auth.service,
        purpose=auth.purpose,
        input_format=layout.format,
        total=layout.total,
        request_id=request_id_var.get()[:64],
    )
    name = f"{job.public_id}.{layout.format}"
    stored = ""
    try:
        with transaction.atomic():
            job.input_file.save(name, ContentFile(data), save=False)
            stored = job.input_file.name or ""
            job.save(force_insert=True)
    except BaseException:
        if stored:
            job.input_file.storage.delete(stored)
        raise
    return job


def job_for(caller: Caller, public_id: str) -> BatchJob:
    """The caller's member's job; another member's, or none: ``job_not_found``."""
    key = _uuid(public_id)
    job = BatchJob.objects.filter(public_id=key, member=caller.member).first() if key else None
    if job is None:
        raise NotFound(_("Không tìm thấy lô xác thực."), code="job_not_found")
    return job


def _uuid(value: str) -> str | None:
    try:
        return str(uuid.UUID(str(value)[:64]))
    except ValueError:
        return None


def progress(job: BatchJob) -> float:
    if job.status == JobStatus.DONE:
        return 100.0
    return round(100.0 * job.processed / job.total, 1) if job.total else 0.0


# --- running ----------------------------------------------------------------------------------


def _lock(queryset: Any) -> Any:
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset.select_for_update()


def _claim(now: dt.datetime) -> BatchJob | None:
    with transaction.atomic():
        BatchJob.objects.filter(status=JobStatus.RUNNING, started_at__lt=now - STALE_AFTER).update(
            status=JobStatus.FAILED, error="interrupted", finished_at=now
        )
        job = (
            _lock(BatchJob.objects.filter(status=JobStatus.QUEUED).order_by("created_at", "pk"))
            .select_related("member", "subsystem", "service", "purpose")
            .first()
        )
        if job is None:
            return None
        job.status = JobStatus.RUNNING
        job.started_at = now
        job.save(update_fields=["status", "started_at"])
    return job


def _authorization(job: BatchJob, attributes: Sequence[str]) -> Authorization:
    """The job's grant, checked again when it runs (it may have been revoked since)."""
    member, subsystem = job.member, job.subsystem
    if not (member.is_active and subsystem.status == MemberStatus.ACTIVE):
        raise PermissionDenied(
            _("Tổ chức hoặc hệ thống đang bị tạm ngừng."), code="member_inactive"
        )
    today = timezone.localdate()
    grants = [
        grant
        for grant in AccessGrant.objects.filter(
            member=member, service=job.service, purpose=job.purpose
        ).filter(Q(subsystem__isnull=True) | Q(subsystem=subsystem))
        if grant.is_valid_on(today)
    ]
    allowed = {name for grant in grants for name in grant.fields}
    if not grants or not set(attributes) <= allowed:
        raise PermissionDenied(
            _("Quyền dùng dịch vụ %(service)s cho mục đích này đã hết hạn hoặc bị thu hồi.")
            % {"service": job.service.code},
            code="grant_expired",
        )
    return Authorization(
        caller=Caller(member=member, subsystem=subsystem),
        service=job.service,
        purpose=job.purpose,
        fields=tuple(attributes),
        grant_id=grants[0].pk,
    )


def _cards(person_ids: Sequence[int]) -> dict[int, str]:
    """Each person's valid card with the latest issue date (as ``selectors.compare``)."""
    latest: dict[int, tuple[dt.date, str]] = {}
    rows = IdentityCard.objects.filter(person_id__in=person_ids, status=CardStatus.VALID)
    for person_id, number, issued in rows.values_list("person_id", "number", "issue_date"):
        current = latest.get(person_id)
        if current is None or issued > current[0]:
            latest[person_id] = (issued, number)
    return {pid: number for pid, (_issued, number) in latest.items()}


@dataclass
class ChunkResult:
    rows: list[tuple[Row, dict[str, str], bool]]
    verified: list[int]
    refused: list[int]
    matched: int


def verify_chunk(auth: Authorization, rows: Sequence[Row]) -> ChunkResult:
    """Compare a chunk's rows with the registry: two or three queries, none per row."""
    good = [row for row in rows if not row.error]
    persons = selectors.find_persons(row.id_number for row in good)
    ids = [person.pk for person in persons.values()]
    cards = _cards(ids) if "card_number" in auth.fields else {}
    consented: set[int] = set()
    if auth.purpose.requires_consent and ids:
        consented = set(
            Consent.objects.filter(
                person_id__in=ids,
                member=auth.caller.member,
                service=auth.service,
                purpose=auth.purpose,
                revoked_at__isnull=True,
                valid_until__gt=timezone.now(),
            ).values_list("person_id", flat=True)
        )
    out: list[tuple[Row, dict[str, str], bool]] = []
    verified: list[int] = []
    refused: list[int] = []
    matched = 0
    for row in rows:
        if row.error:
            out.append((row, {}, False))
            continue
        person = persons.get(row.id_number)
        # An unknown number gets the same answer: no telling which numbers exist.
        if auth.purpose.requires_consent and (person is None or person.pk not in consented):
            row.error = "consent_required"
            if person is not None:
                refused.append(person.pk)
            out.append((row, {}, False))
            continue
        given = {k: v for k, v in row.attributes.items() if k != "card_number"}
        results = selectors.compare(person, given)
        if "card_number" in row.attributes:
            card = cards.get(person.pk, "") if person is not None else None
            ok = card is not None and row.attributes["card_number"].strip() == card
            results["card_number"] = selectors.MATCH if ok else selectors.NO_MATCH
        ordered = {name: results[name] for name in row.attributes}
        all_match = all(value == selectors.MATCH for value in ordered.values())
        matched += all_match
        if person is not None:
            verified.append(person.pk)
        out.append((row, ordered, all_match))
    return ChunkResult(out, verified, refused, matched)


class _Writer:
    """Writes the result rows in the input's format to a binary temporary file."""

    def __init__(self, target: IO[bytes], layout: Layout) -> None:
        self.layout = layout
        self.text = io.TextIOWrapper(target, encoding="utf-8", newline="")
        self.first = True
        if layout.format == "csv":
            self.csv = csv.writer(self.text, lineterminator="\n")
            header = ["row", *([REF] if layout.has_ref else []), ID, *layout.attributes]
            self.csv.writerow([*header, "all_match", "error"])
        else:
            self.text.write("[")

    def write(self, row: Row, results: dict[str, str], all_match: bool) -> None:
        if self.layout.format == "csv":
            cells: list[Any] = [row.number]
            if self.layout.has_ref:
                cells.append(row.ref or "")
            cells.append(row.id_number)
            cells.extend(results.get(name, "") for name in self.layout.attributes)
            cells.append("" if row.error else ("true" if all_match else "false"))
            cells.append(row.error)
            self.csv.writerow(cells)
            return
        item: dict[str, Any] = {"row": row.number}
        if row.ref is not None:
            item[REF] = row.ref
        item[ID] = row.id_number
        item["results"] = results
        item["all_match"] = all_match
        if row.error:
            item["error"] = row.error
        self.text.write(("\n" if self.first else ",\n") + json.dumps(item, ensure_ascii=False))
        self.first = False

    def close(self) -> None:
        if self.layout.format == "json":
            self.text.write("\n]\n")
        self.text.flush()
        self.text.detach()


def _chunks(rows: Iterator[Row]) -> Iterator[list[Row]]:
    chunk: list[Row] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _run(job: BatchJob) -> None:
    today = timezone.localdate()
    with job.input_file.open("rb") as source:
        if job.input_format == "csv":
            head = io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
            header = next(csv.reader(head))
            attributes, has_ref = _csv_header(header)
            head.seek(0)
            layout = Layout("csv", attributes, has_ref, job.total)
            rows: Iterator[Row] = _csv_rows(head, today)
        else:
            items = json.loads(source.read().decode("utf-8-sig"))
            names: dict[str, None] = {}
            for item in items:
                names.update(dict.fromkeys(_json_names(item)))
            layout = Layout(
                "json",
                tuple(names),
                any(isinstance(i, dict) and REF in i for i in items),
                job.total,
            )
            rows = _json_rows(items, today)
        auth = _authorization(job, layout.attributes)
        processed = matched = 0
        with tempfile.TemporaryFile() as target:
            writer = _Writer(target, layout)
            for chunk in _chunks(rows):
                result = verify_chunk(auth, chunk)
                for row, results, all_match in result.rows:
                    writer.write(row, results, all_match)
                processed += len(chunk)
                matched += result.matched
                with transaction.atomic():
                    if result.verified:
                        policy.log(auth, result.verified, outcome=Outcome.VERIFIED)
                    if result.refused:
                        policy.log(auth, result.refused, outcome=Outcome.REFUSED, fields=())
                    BatchJob.objects.filter(pk=job.pk).update(processed=processed, matched=matched)
            writer.close()
            target.seek(0)
            job.result_file.save(f"{job.public_id}.{layout.format}", File(target), save=False)
    job.processed, job.matched = processed, matched
    job.status = JobStatus.DONE
    job.finished_at = timezone.now()
    job.total = max(job.total, processed)
    job.save(
        update_fields=["result_file", "processed", "matched", "status", "finished_at", "total"]
    )


def run_next_job() -> int:
    """Worker poller: run one queued batch job to its end. Returns 1 when a job ran,
    0 when the queue was empty."""
    job = _claim(timezone.now())
    if job is None:
        return 0
    token = request_id_var.set(job.request_id)
    try:
        _run(job)
    except DomainError as exc:
        _failed(job, exc.code)
    except Exception:
        logger.exception("Batch job %s failed", job.public_id)
        _failed(job, "internal_error")
    finally:
        request_id_var.reset(token)
    return 1


def _failed(job: BatchJob, code: str) -> None:
    BatchJob.objects.filter(pk=job.pk).update(
        status=JobStatus.FAILED, error=code[:300], finished_at=timezone.now()
    )
