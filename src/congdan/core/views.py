from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from congdan.core.models import OutboxMessage
from congdan.registry.models import Person


@never_cache
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """200 when the database answers a query, 503 otherwise."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


@require_GET
def bench_person_pk(request: HttpRequest, pk: int) -> HttpResponse:
    """Benchmark baseline only (CONGDAN_BENCH_ENDPOINTS): a bare primary-key read."""
    row = Person.objects.filter(pk=pk).values("id_number", "full_name", "birth_date").first()
    if row is None:
        return JsonResponse({"code": "not_found"}, status=404)
    return JsonResponse({**row, "birth_date": row["birth_date"].isoformat()})


@never_cache
@require_GET
def dev_outbox(request: HttpRequest) -> HttpResponse:
    """The local notification backend's messages (DEBUG or demo only; 404 otherwise)."""

    if not settings.CONGDAN_OUTBOX_VISIBLE:
        raise Http404
    recipient = request.GET.get("to", "").strip()
    messages = OutboxMessage.objects.all()
    if recipient:
        messages = messages.filter(recipient=recipient)
    return render(request, "core/outbox.html", {"outbox": messages[:50], "recipient": recipient})
