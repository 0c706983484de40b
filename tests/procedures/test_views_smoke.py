"""The citizen and officer pages render and drive the birth bundle (details in other tests)."""

from __future__ import annotations

import datetime as dt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from congdan.procedures.models import Bundle, DossierStatus
from tests.identity.helpers import portal_login
from tests.procedures.helpers import Family, pdf


def test_birth_bundle_through_the_pages(client: Client, family: Family) -> None:
    assert client.get(reverse("procedures:catalogue"), {"q": "khai sinh"}).status_code == 200
    assert client.get(reverse("procedures:procedure", args=["birth_bundle"])).status_code == 200
    portal_login(client, family.account)
    url = reverse("procedures:apply", args=["birth_bundle"])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["form"]
    assert form.fields["applicant_full_name"].disabled
    assert form.fields["applicant_full_name"].initial == family.mother.full_name
    data = {
        "idempotency_key": "abc123",
        "applicant_full_name": "Tampered Name",
        "child_full_name": "Phạm Minh Khôi",
        "child_birth_date": (timezone.localdate() - dt.timedelta(days=2)).isoformat(),
        "child_sex": "M",
        "child_ethnicity": "01",
        "child_birth_place": "Bệnh viện",
        "applicant_role": "mother",
        "other_parent_id_number": family.father.id_number,
        "other_parent_full_name": family.father.full_name,
        "birth_commune": family.commune.code,
        "household_code": form.fields["household_code"].initial,
        "relationship": "child",
        "initial_clinic": "Trạm y tế phường",
        "doc_medical_birth_certificate": pdf(),
    }
    response = client.post(url, data)
    assert response.status_code == 302, response.context["form"].errors if response.context else ""
    bundle = Bundle.objects.get()
    assert response["Location"] == reverse("procedures:my_bundle", args=[bundle.code])
    birth = bundle.dossiers.get(procedure_code="birth_registration")
    assert birth.data["applicant_full_name"] == family.mother.full_name  # registry value kept
    # Submitting the same form again returns the same bundle.
    data["doc_medical_birth_certificate"] = pdf()
    again = client.post(url, data)
    assert again["Location"] == response["Location"]
    assert Bundle.objects.count() == 1
    assert client.get(response["Location"]).status_code == 200
    assert client.get(reverse("procedures:my_dossiers")).status_code == 200

    officer = Client()
    officer.force_login(family.justice)
    queue = officer.get(reverse("procedures:office_queue"))
    assert queue.status_code == 200
    assert birth.code in queue.content.decode()
    page = officer.get(reverse("procedures:office_dossier", args=[birth.code]))
    assert page.status_code == 200
    for action in ("receive", "review", "approve"):
        r = officer.post(reverse("procedures:office_dossier_action", args=[birth.code, action]))
        assert r.status_code == 302
    birth.refresh_from_db()
    assert birth.status == DossierStatus.RESULT_ISSUED
    assert client.get(reverse("procedures:my_bundle", args=[bundle.code])).status_code == 200
