"""Payments under real concurrency: several threads, each with its own connection.
PostgreSQL only (SQLite serialises writers, so it cannot show the race)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from congdan.core.errors import Conflict
from congdan.payments import services
from congdan.payments.gateways import sandbox
from congdan.payments.models import Payment, PaymentStatus, SandboxTransaction
from tests.payments.conftest import OK_CARD, query_of

pytestmark = pytest.mark.django_db(transaction=True)
THREADS = 6


def _race(work: Callable[[], Any]) -> tuple[list[Any], list[BaseException]]:
    barrier = threading.Barrier(THREADS)
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run() -> None:
        try:
            barrier.wait()
            result = work()
            with lock:
                results.append(result)
        except BaseException as exc:  # collected and asserted by the caller
            with lock:
                errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")


def test_concurrent_starts_open_one_payment(
    postgres_only: None, start: Callable[..., Payment]
) -> None:
    results, errors = _race(start)
    assert not [e for e in errors if not isinstance(e, Conflict)], errors
    assert len({p.pk for p in results}) == 1
    assert Payment.objects.filter(status=PaymentStatus.PENDING).count() == 1
    assert SandboxTransaction.objects.count() == 1


def test_concurrent_callbacks_pay_once(postgres_only: None, start: Callable[..., Payment]) -> None:
    payment = start()
    txn = SandboxTransaction.objects.get(reference=payment.reference).txn
    params = query_of(sandbox.bank_act(txn, action="pay", card_number=OK_CARD))
    results, errors = _race(lambda: services.complete_payment(params))
    assert not errors, errors
    assert {p.receipt_number for p in results} == {results[0].receipt_number}
    assert payment.events.filter(kind="paid").count() == 1
