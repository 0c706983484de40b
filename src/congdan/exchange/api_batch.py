"""Batch verification for member systems (mounted at ``/api/v1/exchange/batch``).

- ``POST /batch`` — multipart form: ``file`` (CSV or JSON, ``exchange.batch``) and
  ``purpose`` (or the ``X-Purpose`` header) → 202 ``{"id", "status", "status_url"}``;
- ``GET /batch/{id}`` — status, total, processed, matched, progress (percent);
- ``GET /batch/{id}/result`` — the result file, in the input's format, once ``done``.

A job is visible only to the member that submitted it (404 for anyone else). The status
and result calls read the member's own job under the purpose it was submitted with.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import FileResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _
from ninja import Field, Header, Router, Schema, Status

from congdan.core.errors import Conflict, ValidationFailed
from congdan.exchange import batch, policy
from congdan.exchange.api import errors
from congdan.exchange.models import JobStatus

if TYPE_CHECKING:
    from django.http import HttpRequest

    from congdan.exchange.models import BatchJob

router = Router(auth=policy.ExchangeAuth())

# Room for the multipart envelope and the purpose field around the file.
ENVELOPE_BYTES = 64 * 1024
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


ERRORS = errors(401, 403, 404, 409, 413, 422, 429)


class SubmittedOut(Schema):
    id: str
    status: str
    status_url: str


class JobOut(Schema):
    id: str
    status: str = Field(description="queued | running | done | failed")
    format: str
    total: int
    processed: int
    matched: int = Field(description="rows whose every attribute matched")
    progress: float = Field(description="percent of rows processed")
    error: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    result_url: str | None


def _status_url(request: HttpRequest, job: BatchJob) -> str:
    base = request.path.rstrip("/")
    if base.endswith(str(job.public_id)):
        return base
    return f"{base}/{job.public_id}"


def _job(job: BatchJob, status_url: str) -> dict[str, Any]:
    return {
        "id": str(job.public_id),
        "status": job.status,
        "format": job.input_format,
        "total": job.total,
        "processed": job.processed,
        "matched": job.matched,
        "progress": batch.progress(job),
        "error": job.error,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "result_url": f"{status_url}/result" if job.status == JobStatus.DONE else None,
    }


UPLOAD_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {"type": "string", "maxLength": 60},
                    },
                }
            }
        },
    }
}


@router.post(
    "",
    response={202: SubmittedOut, **ERRORS},
    summary="Submit a batch verification (CSV or JSON file, up to 100,000 rows)",
    openapi_extra=UPLOAD_SCHEMA,
)
def submit(
    request: HttpRequest, x_purpose: str = Header("", alias="X-Purpose", max_length=200)
) -> Status:
    caller = policy.caller_of(request)
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.EXCHANGE_BATCH_MAX_BYTES
    if length.isdigit() and int(length) > limit + ENVELOPE_BYTES:
        # Refused before Django reads the body into a temporary file.
        raise batch.TooLargeError(_("Tệp vượt giới hạn %(max)d byte mỗi lô.") % {"max": limit})
    try:
        upload = request.FILES.get("file")
        purpose = request.POST.get("purpose", "")
    except MultiPartParserError:
        raise ValidationFailed(
            _("Nội dung tải lên không phải multipart/form-data hợp lệ."), code="invalid_upload"
        ) from None
    if upload is None:
        raise ValidationFailed(
            _("Cần tệp dữ liệu trong trường “file” (multipart/form-data)."),
            code="file_required",
            field="file",
        )
    job = batch.submit(
        caller,
        purpose=purpose or x_purpose,
        data=batch.read_upload(upload),
        filename=upload.name or "",
    )
    url = _status_url(request, job)
    return Status(202, {"id": str(job.public_id), "status": job.status, "status_url": url})


@router.get("/{job_id}", response={200: JobOut, **ERRORS}, summary="Status of a batch job")
def status(request: HttpRequest, job_id: str) -> dict[str, Any]:
    job = batch.job_for(policy.caller_of(request), job_id)
    return _job(job, _status_url(request, job))


@router.get(
    "/{job_id}/result",
    response={200: None, **ERRORS},
    summary="The result of a finished batch job (CSV or JSON, like the input)",
)
def result(request: HttpRequest, job_id: str) -> FileResponse:
    job = batch.job_for(policy.caller_of(request), job_id)
    if job.status != JobStatus.DONE or not job.result_file:
        raise Conflict(
            _("Lô xác thực chưa xử lý xong (trạng thái: %(status)s).") % {"status": job.status},
            code="job_not_done",
        )
    return FileResponse(
        job.result_file.open("rb"),
        as_attachment=True,
        filename=f"batch-{job.public_id}.{job.input_format}",
        content_type=CONTENT_TYPES.get(job.input_format, "application/octet-stream"),
    )


__all__ = ["router"]
