"""Sharing chosen fields of a document by link and QR; revoking a share."""

from __future__ import annotations

import base64
import datetime as dt
import io
from typing import Any

import pytest
from django.conf import settings
from django.utils import timezone
from PIL import Image

from congdan.audit.models import AccessLogEntry, ChangeRecord, Channel
from congdan.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from congdan.core.models import AgencyKind
from congdan.registry.models import Person
from congdan.wallet import credentials, jose, sdjwt, services, verifier
from congdan.wallet.models import Document, DocumentEvent, EventKind, Share
from congdan.wallet.services.sharing import share_url
from congdan.wallet.sources import LocalKeys, LocalStatuses
from tests import factories
from tests.identity.helpers import make_account
from tests.wallet.conftest import Family, issue


def portrait_uri() -> str:
    """A tiny JPEG as a data URI (what an ID card's portrait claim holds)."""
    out = io.BytesIO()
    Image.new("RGB", (24, 32), (180, 140, 120)).save(out, format="JPEG", quality=60)
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def driving_licence(family: Family, holder: Person | None = None) -> Document:
    """An integrated driving licence (SD-JWT VC) issued by a transport agency."""
    holder = holder or family.father
    agency = factories.make_agency(None, kind=AgencyKind.TRANSPORT)
    return services.create_issued(
        actor=None,
        actor_label="test",
        holder=holder,
        doc_type="driving_licence",
        title_vi="Giấy phép lái xe",
        title_en="Driving licence",
        issuer=agency,
        data={
            "full_name": holder.full_name,
            "licence_number": "480123456789",
            "birth_date": holder.birth_date.isoformat(),
            "address": "Số 1 đường Thử, phường Hải Châu",
            "licence_class": "B",
            "portrait": portrait_uri(),
        },
        source_ref="",
        valid_until=timezone.localdate() + dt.timedelta(days=3650),
        integrated=True,
    )


def judicial_record(family: Family) -> Document:
    """A compact-JWS document (shared whole)."""
    return issue(
        family,
        holder=family.father,
        doc_type="judicial_record_certificate",
        title_vi="Phiếu lý lịch tư pháp",
        title_en="Judicial record certificate",
        data={"full_name": family.father.full_name, "criminal_record": "Không có án tích"},
    )


def _disclosed(presentation: str) -> dict[str, Any]:
    parsed = sdjwt.split(presentation)
    return {jose.b64_json(d)[1]: jose.b64_json(d)[2] for d in parsed.disclosures}


def _verify(share: Share) -> verifier.Verdict:
    return verifier.verify(
        share.presentation,
        keys=LocalKeys(),
        statuses=LocalStatuses(),
        audience=share_url(share.token),
        nonce=share.token,
    )


# --- create ------------------------------------------------------------------------------


def test_share_only_the_chosen_fields(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father,
        number=document.number,
        claims=["portrait", "full_name"],
        valid_minutes=60,
        note="Khách sạn Sông Hàn",
    )
    # In the credential's order, whatever the order chosen.
    assert share.claims == ["full_name", "portrait"]
    assert share.shared_by == family.father
    assert share.note == "Khách sạn Sông Hàn"
    assert len(share.token) >= 32
    assert share.fits_qr == (len(share.presentation) <= credentials.QR_MAX)
    assert dt.timedelta(minutes=59) < share.expires_at - timezone.now() <= dt.timedelta(minutes=60)
    disclosed = _disclosed(share.presentation)
    assert set(disclosed) == {"full_name", "portrait"}
    assert disclosed["full_name"] == family.father.full_name
    for hidden in ("licence_number", "address", "birth_date", "licence_class"):
        assert hidden not in share.presentation  # not even as a disclosure
        assert hidden not in disclosed
    verdict = _verify(share)
    assert verdict.valid, verdict
    assert set(verdict.claims) == {"full_name", "portrait"}
    assert verdict.audience == share_url(share.token)
    assert verdict.nonce == share.token


def test_share_is_bound_to_its_link(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=15
    )
    parsed = sdjwt.split(share.presentation)
    assert parsed.kb_jwt is not None
    _h, kb, _i, _s = jose.parse(parsed.kb_jwt)
    assert kb["aud"] == f"{settings.CONGDAN_PUBLIC_URL}/v/{share.token}/"
    assert kb["nonce"] == share.token
    assert kb["exp"] == int(share.expires_at.timestamp())


def test_share_writes_event_change_and_access_log(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=60
    )
    event = DocumentEvent.objects.get(document=document, kind=EventKind.SHARED)
    assert event.share == share
    assert event.detail["claims"] == ["full_name"]
    assert event.detail["expires_at"] == share.expires_at.isoformat()
    assert ChangeRecord.objects.filter(action="share_document", person_id=family.father.pk).exists()
    entry = AccessLogEntry.objects.get(view="wallet_share")
    assert entry.person_id == family.father.pk
    assert entry.channel == Channel.WALLET
    assert entry.fields == "full_name"
    assert entry.purpose == "share"
    assert entry.actor == family.father_account.user


def test_a_jws_document_is_shared_whole(family: Family) -> None:
    document = judicial_record(family)
    assert credentials.disclosable(document) == []
    share = services.create_share(
        family.father, number=document.number, claims=[], valid_minutes=60
    )
    assert set(share.claims) >= {"full_name", "criminal_record"}
    verdict = _verify(share)
    assert verdict.valid, verdict
    assert verdict.claims["criminal_record"] == "Không có án tích"


def test_the_age_claim_alone(family: Family) -> None:
    document = driving_licence(family)
    assert "age_over_18" in credentials.disclosable(document)
    share = services.create_share(
        family.father, number=document.number, claims=["age_over_18"], valid_minutes=15
    )
    assert _verify(share).claims == {"age_over_18": True}


@pytest.mark.parametrize(
    ("claims", "code"),
    [
        ([], "required"),
        (["full_name", "passport_number"], "unknown_claim"),
        (["iss"], "unknown_claim"),
        (["document_number"], "unknown_claim"),
        ("full_name", "invalid"),
    ],
)
def test_claim_validation(family: Family, claims: Any, code: str) -> None:
    document = driving_licence(family)
    with pytest.raises(ValidationFailed) as caught:
        services.create_share(
            family.father, number=document.number, claims=claims, valid_minutes=60
        )
    assert caught.value.code == code
    assert caught.value.field == "claims"
    assert not Share.objects.exists()


@pytest.mark.parametrize(
    ("minutes", "code"),
    [(0, "too_short"), (-5, "too_short"), (30 * 24 * 60 + 1, "too_long")],
)
def test_validity_limits(family: Family, minutes: int, code: str) -> None:
    document = driving_licence(family)
    with pytest.raises(ValidationFailed) as caught:
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=minutes
        )
    assert caught.value.code == code
    assert not Share.objects.exists()


def test_validity_bounds_are_allowed(family: Family) -> None:
    document = driving_licence(family)
    for minutes in (1, settings.WALLET_SHARE_MAX_DAYS * 24 * 60):
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=minutes
        )
    assert Share.objects.count() == 2


def test_validity_by_end_time_and_exactly_one_of_the_two(family: Family) -> None:
    document = driving_licence(family)
    until = timezone.now() + dt.timedelta(days=2)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], expires_at=until
    )
    assert share.expires_at == until.replace(microsecond=0)
    with pytest.raises(ValidationFailed):
        services.create_share(family.father, number=document.number, claims=["full_name"])
    with pytest.raises(ValidationFailed):
        services.create_share(
            family.father,
            number=document.number,
            claims=["full_name"],
            valid_minutes=15,
            expires_at=until,
        )


def test_an_expired_share_fails_verification(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=15
    )
    later = int(share.expires_at.timestamp()) + verifier.CLOCK_SKEW + 5
    verdict = verifier.verify(
        share.presentation, keys=LocalKeys(), statuses=LocalStatuses(), now=later
    )
    assert verdict.code == "presentation_expired"
    assert verdict.claims == {}
    Share.objects.filter(pk=share.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    share.refresh_from_db()
    assert not share.is_active


def test_uploads_cannot_be_shared(family: Family) -> None:
    upload = Document.objects.create(
        kind="uploaded", holder=family.father, doc_type="diploma", title_vi="Bằng",
        title_en="Bằng", number="CD-UPLOAD-000000000001", upload_state="unverified",
    )  # fmt: skip
    with pytest.raises(ValidationFailed) as caught:
        services.create_share(
            family.father, number=upload.number, claims=["full_name"], valid_minutes=60
        )
    assert caught.value.code == "not_shareable"


@pytest.mark.parametrize(("change", "code"), [("revoke", "revoked"), ("suspend", "suspended")])
def test_revoked_or_suspended_documents_cannot_be_shared(
    family: Family, change: str, code: str
) -> None:
    document = issue(family, holder=family.father)
    getattr(services, f"{change}_document")(
        family.officer, number=document.number, reason="Kiểm tra"
    )
    with pytest.raises(Conflict) as caught:
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=60
        )
    assert caught.value.code == f"document_{code}"
    assert not Share.objects.exists()


def test_expired_documents_cannot_be_shared(family: Family) -> None:
    document = issue(family, holder=family.father)
    Document.objects.filter(pk=document.pk).update(
        valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    with pytest.raises(Conflict) as caught:
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=60
        )
    assert caught.value.code == "document_expired"


def test_note_length(family: Family) -> None:
    document = driving_licence(family)
    with pytest.raises(ValidationFailed) as caught:
        services.create_share(
            family.father,
            number=document.number,
            claims=["full_name"],
            valid_minutes=60,
            note="x" * 121,
        )
    assert caught.value.field == "note"


# --- who -----------------------------------------------------------------------------------


def test_a_parent_shares_a_childs_document(family: Family) -> None:
    document = issue(family)  # the child's birth certificate
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=60
    )
    assert share.shared_by == family.father
    assert _verify(share).valid
    entry = AccessLogEntry.objects.get(view="wallet_share")
    assert entry.person_id == family.child.pk
    assert entry.actor == family.father_account.user
    assert entry.actor_label == f"parent:{family.father_account.user.username}"


def test_another_citizen_cannot_share(family: Family) -> None:
    document = driving_licence(family)
    with pytest.raises(NotFound):
        services.create_share(
            family.neighbour_account.person,
            number=document.number,
            claims=["full_name"],
            valid_minutes=60,
        )
    assert not Share.objects.exists()


def test_an_adult_childs_document_is_not_the_parents(family: Family) -> None:
    grown = factories.make_person(
        family.father.residence_commune,
        full_name="Nguyễn Văn Lớn",
        birth_date=dt.date(1990, 1, 1),
        father=family.father,
    )
    document = issue(family, holder=grown)
    with pytest.raises(NotFound):
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=60
        )


# --- revoke -------------------------------------------------------------------------------


def test_revoke_a_share(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=60
    )
    revoked = services.revoke_share(family.father, share_id=share.pk)
    assert revoked.revoked_at is not None
    assert not revoked.is_active
    event = DocumentEvent.objects.get(kind=EventKind.SHARE_REVOKED)
    assert event.share == share
    assert ChangeRecord.objects.filter(action="revoke_share").exists()
    with pytest.raises(Conflict) as caught:
        services.revoke_share(family.father, share_id=share.pk)
    assert caught.value.code == "already_revoked"


def test_another_citizen_cannot_revoke(family: Family) -> None:
    document = driving_licence(family)
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=60
    )
    with pytest.raises(NotFound):
        services.revoke_share(family.neighbour_account.person, share_id=share.pk)
    with pytest.raises(NotFound):
        services.revoke_share(family.father, share_id=share.pk + 1000)
    share.refresh_from_db()
    assert share.revoked_at is None


def test_only_the_sharer_or_the_holder_revokes(family: Family) -> None:
    document = issue(family)  # the child's
    share = services.create_share(
        family.father, number=document.number, claims=["full_name"], valid_minutes=60
    )
    make_account(family.mother, phone="0987000004")
    # The mother sees the child's document but did not make this share.
    with pytest.raises(PermissionDenied):
        services.revoke_share(family.mother, share_id=share.pk)
    services.revoke_share(family.father, share_id=share.pk)


# --- age claims brought up to date; unreadable stored credentials ---------------------------


def turned_18(family: Family, monkeypatch: pytest.MonkeyPatch) -> Document:
    """A birth certificate issued 30 days ago to someone then 17 and now 18 (own e-ID
    account, phone 0912000077)."""
    today = timezone.localdate()
    born = (today - dt.timedelta(days=30)).replace(year=today.year - 18) + dt.timedelta(days=10)
    if born.month == 2 and born.day == 29:  # pragma: no cover -- keep the date simple
        born += dt.timedelta(days=1)
    person = factories.make_person(
        family.agency.jurisdiction, full_name="Lê Văn Mười Tám", birth_date=born
    )
    make_account(person, phone="0912000077")
    real_now = timezone.now
    monkeypatch.setattr(timezone, "now", lambda: real_now() - dt.timedelta(days=30))
    try:
        document = issue(family, holder=person)
    finally:
        monkeypatch.setattr(timezone, "now", real_now)
    return document


def test_an_adult_issued_the_document_before_18_can_share_over_18(
    family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = turned_18(family, monkeypatch)
    assert "age_over_16" in credentials.disclosable(document)
    assert "age_over_18" not in credentials.disclosable(document)
    number, index = document.number, document.status_index
    share = services.create_share(
        document.holder, number=number, claims=["age_over_18"], valid_minutes=15
    )
    verdict = _verify(share)
    assert verdict.valid, verdict.code
    assert verdict.claims == {"age_over_18": True}
    document.refresh_from_db()
    assert (document.number, document.status_index) == (number, index)
    assert "age_over_18" in credentials.disclosable(document)
    assert DocumentEvent.objects.filter(document=document, kind=EventKind.REFRESHED).count() == 1
    # Once is enough.
    services.create_share(document.holder, number=number, claims=["full_name"], valid_minutes=15)
    assert DocumentEvent.objects.filter(document=document, kind=EventKind.REFRESHED).count() == 1


@pytest.mark.parametrize("credential", ["x" * (jose.MAX_TOKEN + 10), "not.a.jws~", "~~"])
def test_an_unreadable_stored_credential_cannot_be_shared(family: Family, credential: str) -> None:
    document = driving_licence(family)
    Document.objects.filter(pk=document.pk).update(credential=credential)
    with pytest.raises(Conflict) as caught:
        services.create_share(
            family.father, number=document.number, claims=["full_name"], valid_minutes=15
        )
    assert caught.value.code == "credential_unreadable"
    assert not Share.objects.exists()
