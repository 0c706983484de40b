"""ID allocation under real concurrency: several threads, each with its own connection,
drawing from a tiny serial space so that collisions are certain. PostgreSQL only
(SQLite serialises writers, so it cannot show the race)."""

from __future__ import annotations

import datetime as dt
import random
import threading

import pytest
from django.db import connection, connections

from congdan.registry import services
from congdan.registry.models import Person

pytestmark = pytest.mark.django_db(transaction=True)


class SmallSpace:
    """Serials 0..59 only, drawn at random per thread."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def randrange(self, start: int, stop: int) -> int:
        return self.rng.randrange(0, 60)


def test_concurrent_allocation_never_duplicates(world) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: SQLite serialises writers")
    threads_n, per_thread = 6, 5
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []
    numbers: list[str] = []
    lock = threading.Lock()
    steward_pk = world.steward.pk

    def work(seed: int) -> None:
        from congdan.core.models import User

        try:
            actor = User.objects.select_related("agency").get(pk=steward_pk)
            barrier.wait()
            for _ in range(per_thread):
                person = services.register_person(
                    actor,
                    services.NewPerson(
                        full_name="Song Song",
                        birth_date=dt.date(1995, 1, 1),
                        sex="F",
                        ethnicity_code="01",
                        birth_registration_province_code="048",
                    ),
                    rng=SmallSpace(seed),
                )
                with lock:
                    numbers.append(person.id_number)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == []
    assert len(numbers) == threads_n * per_thread
    assert len(set(numbers)) == len(numbers)
    assert Person.objects.filter(full_name="Song Song").count() == len(numbers)
