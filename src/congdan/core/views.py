from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

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
