"""``congdan seed_documents``: integrated documents for a seeded population, each
verifying, and nothing more on a second run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from congdan.audit.models import ChangeRecord
from congdan.core.models import Agency
from congdan.registry.models import CardStatus, IdentityCard, Person
from congdan.wallet import doctypes, seed, selectors
from congdan.wallet.models import Document, DocumentEvent, EventKind

pytestmark = pytest.mark.django_db(transaction=False)


@pytest.fixture
def population(db: None) -> int:
    call_command("seed", "--province", "48", "--people", "300", "--seed", "3", "--quiet")
    return Person.objects.count()


def test_seed_documents_creates_verifying_documents_once(population: int) -> None:
    out = StringIO()
    call_command("seed_documents", "--province", "48", "--seed", "1", stdout=out)
    assert "Seeded" in out.getvalue()
    assert set(Agency.objects.filter(code__in=seed.AGENCIES).values_list("code", flat=True)) == set(
        seed.AGENCIES
    )
    documents = list(Document.objects.select_related("issuer", "holder"))
    assert documents
    counts = {t: sum(d.doc_type == t for d in documents) for t in doctypes.INTEGRATED}
    with_card = (
        IdentityCard.objects.filter(status=CardStatus.VALID).values("person").distinct().count()
    )
    assert 0 < counts["id_card"] <= with_card
    assert counts["health_insurance_card"] > population // 2
    assert counts["driving_licence"] > 0
    assert counts["vehicle_registration"] > 0
    assert counts["vaccination_certificate"] > 0
    assert counts["residence_confirmation"] == counts["judicial_record_certificate"] == 0
    for document in documents:
        assert document.integrated
        assert document.issuer.code == doctypes.INTEGRATED[document.doc_type].issuer_code
        verdict = selectors.verify_document(document)
        assert verdict is not None
        assert verdict.valid, (document.number, verdict.code)
    pairs = [(d.holder_id, d.doc_type) for d in documents]
    assert len(pairs) == len(set(pairs))  # one of each type per person
    assert DocumentEvent.objects.filter(kind=EventKind.ISSUED).count() == len(documents)
    assert ChangeRecord.objects.filter(action="wallet_seed_documents").count() == 1

    again = seed.seed_documents(province_code="48", seed=1)
    assert again.total == 0
    assert Document.objects.count() == len(documents)


def test_demo_documents_with_portrait(population: int) -> None:
    seed.seed_documents(province_code="48", limit=50)
    person = Person.objects.filter(cards__status=CardStatus.VALID).order_by("pk").first()
    assert person is not None
    if person.birth_date.year > 2000:  # the demo citizen is an adult; pick one
        person = (
            Person.objects.filter(cards__status=CardStatus.VALID, birth_date__year__lt=2000)
            .order_by("pk")
            .first()
        )
        assert person is not None
    stats = seed.ensure_demo_documents([person], province_code="48")
    mine = {d.doc_type: d for d in Document.objects.filter(holder=person)}
    assert set(mine) == set(doctypes.INTEGRATED)
    assert mine["id_card"].data["portrait"].startswith("data:image/jpeg;base64,")
    assert len(mine["id_card"].data["portrait"]) < 4096
    assert "portrait" in mine["driving_licence"].data
    assert stats.total + stats.portraits_added >= 2
    for document in mine.values():
        verdict = selectors.verify_document(document)
        assert verdict is not None
        assert verdict.valid, (document.doc_type, verdict.code)
    assert seed.ensure_demo_documents([person]).total == 0


def test_bad_province_is_a_command_error(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("seed_documents", "--province", "99x")
