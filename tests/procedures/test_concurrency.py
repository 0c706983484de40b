"""Two officers approving the same dossier at once: the row lock lets one through, the
other finds it decided. PostgreSQL only (SQLite serialises writers, so it cannot show
the race)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from congdan.core.errors import Conflict
from congdan.procedures import services
from congdan.procedures.models import Dossier, DossierStatus
from congdan.registry.models import Person
from congdan.wallet.models import Document
from tests.procedures import builders as b
from tests.procedures.helpers import Family

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_officers_approving_at_once(family: Family) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    result = b.submit("birth_registration", family.account)
    assert result.dossier is not None
    code = result.dossier.code
    b.received(family.justice, code)
    second = b.justice(family.commune)
    officers = [family.justice.pk, second.pk]
    barrier = threading.Barrier(len(officers))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def approve(officer_pk: int) -> None:
        from congdan.core.models import User

        try:
            actor = User.objects.select_related("agency").get(pk=officer_pk)
            barrier.wait(timeout=30)
            try:
                services.approve_dossier(actor, code=code)
            except Conflict as exc:
                with lock:
                    outcomes.append(f"conflict:{exc.code}")
            else:
                with lock:
                    outcomes.append("approved")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=approve, args=(pk,)) for pk in officers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert sorted(outcomes) == ["approved", "conflict:wrong_status"]
    dossier = Dossier.objects.get(code=code)
    assert dossier.status == DossierStatus.RESULT_ISSUED
    assert Person.objects.filter(full_name="Phạm Minh Khôi").count() == 1
    assert Document.objects.filter(doc_type="birth_certificate").count() == 1
