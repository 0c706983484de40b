"""Registration through the pages (level 1)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from congdan.core.models import User
from congdan.identity.models import AccountStatus, EidAccount
from tests.conftest import World
from tests.identity.account_helpers import image_bytes, last_code
from tests.identity.helpers import PASSWORD

pytestmark = pytest.mark.usefixtures("sms_now")


def form_data(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "id_number": world.person.id_number,
        "full_name": "nguyen van an",
        "birth_date": "17/05/1990",
        "phone": "0912 345 678",
        "email": "",
        "portrait": SimpleUploadedFile("me.png", image_bytes(), "image/png"),
        "new_password1": PASSWORD,
        "new_password2": PASSWORD,
    }
    data.update(overrides)
    return data


def test_register_then_verify_activates(client: Client, world: World) -> None:
    response = client.post(reverse("identity:register"), form_data(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert response["Location"] == reverse("identity:register_verify")
    account = EidAccount.objects.get(person=world.person)
    assert account.status == AccountStatus.PENDING
    response = client.post(reverse("identity:register_verify"), {"code": last_code("0912345678")})
    assert response.status_code == 302
    account.refresh_from_db()
    assert account.status == AccountStatus.ACTIVE
    assert User.objects.get(username=world.person.id_number).first_name == "Nguyễn Văn An"
