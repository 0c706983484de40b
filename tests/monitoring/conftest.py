"""Shared fixtures of the monitoring tests (kept small and stable: other test modules
build on them).

* ``DAY`` — a fixed local day (a Wednesday) the fact tests count on; ``at(day, hour)`` an
  aware local datetime on it.
* ``make_dossier(unit, **fields)`` — a ``procedures.Dossier`` row with the timestamps
  given (the facts count rows; the services that produce them are tested in
  tests/procedures).
* ``result_document(person)`` — a ``wallet.Document`` to attach as a dossier's result.
* ``partly_online_catalogue`` — the shipped procedure catalogue with
  ``judicial_record_certificate`` not offered fully online.
"""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from congdan.geo.models import AdministrativeUnit
from congdan.procedures.models import Dossier
from congdan.procedures.specs import catalogue
from congdan.registry.models import Person
from congdan.wallet.models import Document
from tests import factories

DAY = dt.date(2026, 3, 11)
NOT_FULLY_ONLINE = "judicial_record_certificate"
SHIPPED = Path(__file__).resolve().parents[2] / "procedures"

_serial = itertools.count(1)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """``hour:minute`` on local ``day`` (Asia/Ho_Chi_Minh), aware."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def make_dossier(
    unit: AdministrativeUnit | None,
    *,
    procedure_code: str = "birth_registration",
    applicant: Person | None = None,
    **fields: Any,
) -> Dossier:
    """A dossier row handled in ``unit``; ``fields`` are Dossier fields (status, channel,
    submitted_at, received_at, due_date, decided_at, fee_amount, payment_reference,
    rating, result_document, agency …)."""
    if applicant is None:
        applicant = Person.objects.order_by("pk").first() or factories.make_person(
            unit if unit is not None and unit.level == "commune" else _any_commune()
        )
    fields.setdefault("status", "submitted")
    fields.setdefault("agency_kind", "justice")
    return Dossier.objects.create(
        code=f"HSMON{next(_serial):08d}",
        procedure_code=procedure_code,
        applicant=applicant,
        unit=unit,
        **fields,
    )


def _any_commune() -> AdministrativeUnit:
    return factories.communes_of(factories.current_province("48"))[0]


def result_document(person: Person) -> Document:
    return Document.objects.create(
        holder=person,
        doc_type="birth_certificate",
        title_vi="Giấy khai sinh",
        title_en="Birth certificate",
        number=f"KS-MON-{next(_serial)}",
    )


@pytest.fixture
def partly_online_catalogue(settings: Any, tmp_path: Path) -> Iterator[None]:
    directory = tmp_path / "procedures"
    shutil.copytree(SHIPPED, directory)
    path = directory / f"{NOT_FULLY_ONLINE}.yaml"
    text = path.read_text(encoding="utf-8")
    assert "\nfully_online: true\n" in text
    path.write_text(text.replace("\nfully_online: true\n", "\nfully_online: false\n"), "utf-8")
    settings.CONGDAN_PROCEDURES_DIR = directory
    catalogue.cache_clear()
    yield
    catalogue.cache_clear()
