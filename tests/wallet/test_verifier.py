"""The verifier's verdicts on presentations: valid, tampered, revoked, suspended,
expired, wrong holder, undisclosed claims, offline with only a JWKS, key rotation,
malformed input and unknown issuers.

Helpers here (``make_c06``, ``id_card``, ``present``) are shared by the other
verification tests.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import time
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse

from congdan.core.models import Agency, AgencyKind
from congdan.core.permissions import Role
from congdan.registry.models import Person
from congdan.wallet import credentials, jose, keys, sdjwt, services, verifier
from congdan.wallet.models import Document, IssuerKey
from congdan.wallet.sources import LocalKeys, LocalStatuses
from tests import factories
from tests.wallet.conftest import Family, issue

if TYPE_CHECKING:
    from tests.conftest import World

AUD = "https://verifier.example/gate-3"
NONCE = "n-0123456789"
PORTRAIT = (
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4"
    "DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)


# --- helpers shared by the verification tests -----------------------------------------


def make_c06() -> Agency:
    agency, _created = Agency.objects.get_or_create(
        code="C06",
        defaults={
            "name": "Cục Cảnh sát quản lý hành chính về trật tự xã hội",
            "kind": AgencyKind.POLICE,
        },
    )
    return agency


def id_card(
    holder: Person,
    *,
    agency: Agency | None = None,
    valid_until: dt.date | None = dt.date(2040, 1, 1),
    portrait: bool = False,
) -> Document:
    data: dict[str, Any] = {
        "full_name": holder.full_name,
        "id_number": holder.id_number,
        "birth_date": holder.birth_date.isoformat(),
        "sex": holder.sex,
        "nationality": "Việt Nam",
        "home_town": "Xã Hòa Vang, Thành phố Đà Nẵng",
        "address": "Số 12 đường Lê Lợi, Phường Hải Châu, Thành phố Đà Nẵng",
        "card_number": holder.id_number,
        "issue_date": "2024-07-01",
    }
    if portrait:
        data["portrait"] = PORTRAIT
    return services.create_issued(
        actor=None,
        actor_label="test",
        holder=holder,
        doc_type="id_card",
        title_vi="Thẻ căn cước",
        title_en="Identity card",
        issuer=agency or make_c06(),
        data=data,
        source_ref="",
        valid_until=valid_until,
        integrated=True,
    )


def present(
    document: Document,
    claims: list[str],
    *,
    aud: str = AUD,
    nonce: str = NONCE,
    expires_in: int | None = 600,
) -> str:
    expires_at = (
        dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=expires_in)
        if expires_in is not None
        else None
    )
    return credentials.present(document, claims=claims, aud=aud, nonce=nonce, expires_at=expires_at)


def check_local(text: str, **options: Any) -> verifier.Verdict:
    return verifier.verify(text, keys=LocalKeys(), statuses=LocalStatuses(), **options)


def _check(verdict: verifier.Verdict, name: str) -> verifier.Check:
    return next(c for c in verdict.checks if c.name == name)


# --- valid ----------------------------------------------------------------------------


def test_a_valid_presentation(family: Family) -> None:
    document = id_card(family.father)
    verdict = check_local(present(document, ["full_name", "birth_date"]))
    assert verdict.valid, verdict
    assert verdict.code == "valid"
    assert verdict.claims == {
        "full_name": family.father.full_name,
        "birth_date": family.father.birth_date.isoformat(),
    }
    assert verdict.document_number == document.number
    assert verdict.issuer == keys.issuer_id(document.issuer)
    assert verdict.issuer_name == document.issuer.name
    assert verdict.status == "valid"
    assert verdict.audience == AUD and verdict.nonce == NONCE
    assert verdict.vct == "urn:vn:congdan:doc:id_card"
    assert all(c.ok for c in verdict.checks), verdict.checks


def test_undisclosed_claims_are_absent_from_the_verdict_and_the_text(family: Family) -> None:
    document = id_card(family.father, portrait=True)
    text = present(document, ["full_name", "birth_date"])
    verdict = check_local(text)
    assert verdict.valid
    assert set(verdict.claims) == {"full_name", "birth_date"}
    # The text itself: only two disclosures, and nothing else of the card in it.
    parsed = sdjwt.split(text)
    assert len(parsed.disclosures) == 2
    assert {jose.b64_json(d)[1] for d in parsed.disclosures} == {"full_name", "birth_date"}
    decoded = json.dumps(parsed.payload, ensure_ascii=False) + "".join(
        json.dumps(jose.b64_json(d), ensure_ascii=False) for d in parsed.disclosures
    )
    for hidden in ("id_number", "address", "home_town", "portrait", "card_number"):
        assert str(document.data[hidden]) not in decoded, hidden
        assert hidden not in decoded
    assert family.father.id_number not in text
    assert document.data["address"] not in text


def test_only_over_18_can_be_shown(family: Family) -> None:
    document = id_card(family.father)
    verdict = check_local(present(document, ["age_over_18"]))
    assert verdict.valid
    assert verdict.claims == {"age_over_18": True}


def test_a_jws_document_is_presented_whole(family: Family) -> None:
    document = services.create_issued(
        actor=None,
        actor_label="test",
        holder=family.father,
        doc_type="judicial_record_certificate",
        title_vi="Phiếu lý lịch tư pháp",
        title_en="Judicial record certificate",
        issuer=family.agency,
        data={"full_name": family.father.full_name, "criminal_record": "Không có án tích"},
        source_ref="",
    )
    assert document.credential_format == "jws"
    verdict = check_local(present(document, ["full_name"]))
    assert verdict.valid, verdict
    assert verdict.claims["criminal_record"] == "Không có án tích"
    assert verdict.claims["full_name"] == family.father.full_name


# --- tampering ------------------------------------------------------------------------


def _replace_part(text: str, index: int, new: str) -> str:
    parts = text.split("~")
    parts[index] = new
    return "~".join(parts)


def test_an_edited_disclosure_is_tampered(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name", "birth_date"])
    forged = sdjwt.disclosure("full_name", "Nguyễn Văn Giả")
    verdict = check_local(_replace_part(text, 1, forged))
    assert not verdict.valid
    assert verdict.code == "tampered"
    assert verdict.claims == {}


def test_an_added_forged_disclosure_is_tampered(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    parts = text.split("~")
    parts.insert(2, sdjwt.disclosure("age_over_18", True))
    verdict = check_local("~".join(parts))
    assert verdict.code == "tampered"


def test_a_disclosure_added_from_the_full_credential_breaks_the_holder_signature(
    family: Family,
) -> None:
    """A genuine disclosure the holder did not choose (taken from elsewhere) fails sd_hash."""
    document = id_card(family.father)
    text = present(document, ["full_name"])
    genuine = sdjwt.disclosure_names(document.credential)["id_number"]
    parts = text.split("~")
    parts.insert(2, genuine)
    verdict = check_local("~".join(parts))
    assert verdict.code == "tampered"
    assert verdict.claims == {}


def test_a_removed_disclosure_breaks_the_holder_signature(family: Family) -> None:
    document = id_card(family.father)
    parts = present(document, ["full_name", "birth_date"]).split("~")
    del parts[2]
    assert check_local("~".join(parts)).code == "tampered"


def test_a_changed_payload_byte_is_a_bad_signature(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    jwt = text.split("~")[0]
    header, payload, signature = jwt.split(".")
    claims = jose.b64_json(payload)
    claims["document_number"] = "C06-id_card-000000000000"
    verdict = check_local(_replace_part(text, 0, f"{header}.{jose.json_b64(claims)}.{signature}"))
    assert verdict.code == "bad_signature"
    # A flipped signature byte, too.
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    assert check_local(_replace_part(text, 0, f"{header}.{payload}.{flipped}")).code == (
        "bad_signature"
    )


def test_another_issuers_key_under_our_kid_is_a_bad_signature(family: Family) -> None:
    document = id_card(family.father)
    jwt = document.credential.split("~")[0]
    header, payload, _sig, _input = jose.parse(jwt)
    forged = jose.sign(header, payload, jose.generate_private_key())
    text = sdjwt.present(
        forged + "~",
        claims=[],
        holder_key=keys.holder_key(family.father.id_number),
        aud=AUD,
        nonce=NONCE,
        iat=int(time.time()),
    )
    assert check_local(text).code == "bad_signature"


# --- status ---------------------------------------------------------------------------


def test_revoked_suspended_reinstated(family: Family) -> None:
    document = issue(family, holder=family.father)
    text = present(document, ["full_name"])
    assert check_local(text).valid
    services.suspend_document(family.officer, number=document.number, reason="Đang xác minh")
    verdict = check_local(text)
    assert (verdict.valid, verdict.code, verdict.status) == (False, "suspended", "suspended")
    assert verdict.claims == {}
    services.reinstate_document(family.officer, number=document.number, reason="Đã xác minh")
    verdict = check_local(text)
    assert (verdict.valid, verdict.code, verdict.status) == (True, "valid", "valid")
    services.revoke_document(family.officer, number=document.number, reason="Cấp nhầm")
    verdict = check_local(text)
    assert (verdict.valid, verdict.code, verdict.status) == (False, "revoked", "revoked")
    assert str(verifier.FAILURES["revoked"]) == verdict.message


def test_an_expired_document(family: Family) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    document = id_card(family.father, valid_until=tomorrow)
    text = present(document, ["full_name"], expires_in=None)
    assert check_local(text).valid
    later = int(time.time()) + 3 * 86400
    verdict = check_local(text, now=later)
    assert (verdict.valid, verdict.code) == (False, "expired")
    assert _check(verdict, "validity").ok is False


def test_an_expired_presentation(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"], expires_in=120)
    verdict = check_local(text, now=int(time.time()) + 3600)
    assert verdict.code == "presentation_expired"


# --- holder binding -------------------------------------------------------------------


def test_a_presentation_signed_by_another_citizen_is_the_wrong_holder(
    world: World, family: Family
) -> None:
    document = id_card(family.father)
    text = sdjwt.present(
        document.credential,
        claims=["full_name"],
        holder_key=keys.holder_key(world.neighbour.id_number),
        aud=AUD,
        nonce=NONCE,
        iat=int(time.time()),
    )
    verdict = check_local(text)
    assert (verdict.valid, verdict.code) == (False, "wrong_holder")
    assert verdict.claims == {}


def test_a_presentation_without_key_binding(family: Family) -> None:
    document = id_card(family.father)
    names = sdjwt.disclosure_names(document.credential)
    jwt = document.credential.split("~")[0]
    bare = f"{jwt}~{names['full_name']}~"
    verdict = check_local(bare)
    assert (verdict.valid, verdict.code) == (False, "no_holder_binding")
    # The whole stored credential (every field) without a key binding: refused too.
    assert check_local(document.credential).code == "no_holder_binding"


def test_an_audience_mismatch(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    assert check_local(text, audience="https://other.example/").code == "wrong_audience"
    assert check_local(text, audience=AUD, nonce="other").code == "wrong_audience"
    assert check_local(text, audience=AUD, nonce=NONCE).valid


# --- offline, with only the JWKS ------------------------------------------------------


class DictKeys:
    """A key source that is nothing but JWKS fetched earlier (no database)."""

    def __init__(self, jwks_by_issuer: dict[str, dict[str, Any]]) -> None:
        self.jwks_by_issuer = jwks_by_issuer

    def jwks(self, iss: str) -> dict[str, Any] | None:
        return self.jwks_by_issuer.get(iss)


def test_offline_verification_with_only_the_jwks(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name", "birth_date"])
    agency = document.issuer
    response = client.get(reverse("wallet:issuer_jwks", args=[agency.code]))
    assert response.status_code == 200
    published = json.loads(response.content)
    iss = keys.issuer_id(agency)
    IssuerKey.objects.all().delete()  # nothing left to look keys up in
    verdict = verifier.verify(text, keys=DictKeys({iss: published}), statuses=None)
    assert verdict.valid, verdict
    assert verdict.claims == {
        "full_name": family.father.full_name,
        "birth_date": family.father.birth_date.isoformat(),
    }
    status = _check(verdict, "status")
    assert status.ok is None and status.detail == "not checked"
    assert verdict.status == "unknown"
    # The same source refuses a tampered copy and another issuer.
    forged = _replace_part(text, 1, sdjwt.disclosure("full_name", "Ai Đó"))
    assert verifier.verify(forged, keys=DictKeys({iss: published}), statuses=None).code == (
        "tampered"
    )
    assert verifier.verify(text, keys=DictKeys({}), statuses=None).code == "unknown_issuer"


# --- key rotation ---------------------------------------------------------------------


def test_key_rotation_keeps_old_documents_verifying(family: Family) -> None:
    old_document = id_card(family.father)
    old_kid = jose.parse(old_document.credential.split("~")[0])[0]["kid"]
    new_key = keys.rotate(old_document.issuer)
    assert new_key.kid != old_kid
    new_document = id_card(family.father)
    assert jose.parse(new_document.credential.split("~")[0])[0]["kid"] == new_key.kid
    assert check_local(present(old_document, ["full_name"])).valid
    assert check_local(present(new_document, ["full_name"])).valid
    keys.rotate(old_document.issuer)
    assert check_local(present(old_document, ["full_name"])).valid
    published = {k["kid"] for k in keys.jwks(old_document.issuer)["keys"]}
    assert {old_kid, new_key.kid} <= published


# --- bad input ------------------------------------------------------------------------


def test_truncated_presentations_never_raise(family: Family) -> None:
    document = id_card(family.father, portrait=True)
    text = present(document, ["full_name", "portrait"])
    jwt = text.split("~")[0]
    first_dot, second_dot = jwt.index("."), jwt.index(".", jwt.index(".") + 1)
    for cut in (1, 5, first_dot, first_dot + 7, second_dot - 3, second_dot):
        verdict = check_local(text[:cut])
        assert (verdict.valid, verdict.code) == (False, "malformed"), cut
        assert verdict.claims == {}
    for cut in range(second_dot + 1, len(text) - 1, max(1, len(text) // 37)):
        verdict = check_local(text[:cut])
        assert not verdict.valid, cut
        assert verdict.code in {
            "malformed",
            "bad_signature",
            "tampered",
            "no_holder_binding",
            "wrong_holder",
        }, (cut, verdict.code)
        assert verdict.claims == {}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "~",
        "~~~",
        "a.b.c",
        "a.b.c~d~e",
        "eyJ",
        "Nguyễn Văn A~Hà Nội~",
        "eyJhbGciOiJub25lIn0.eyJpc3MiOiJ4In0.",  # alg none
        "x" * 300_000,
        '{"presentation": 1}',
        "\x00\x01\x02~\xff",
    ],
)
def test_malformed_input_is_malformed(family: Family, text: str) -> None:
    verdict = check_local(text)
    assert (verdict.valid, verdict.code) == (False, "malformed")
    assert verdict.message == str(verifier.FAILURES["malformed"])


def test_random_bytes_are_malformed(family: Family) -> None:
    for size in (1, 16, 100, 2000):
        noise = os.urandom(size).decode("latin-1")
        assert check_local(noise).code == "malformed"
        assert check_local(jose.b64e(os.urandom(size))).code == "malformed"


def test_not_a_string_is_malformed() -> None:
    assert verifier.verify(None, keys=DictKeys({}), statuses=None).code == "malformed"  # type: ignore[arg-type]  # untrusted input of any type


def test_an_unknown_issuer(family: Family) -> None:
    stranger = jose.generate_private_key()
    holder = keys.holder_key(family.father.id_number)
    for iss in (
        "https://issuer.example/wallet/issuers/X",
        keys.issuer_id(family.agency) + "-NOPE",
        keys.issuer_id(family.agency).rsplit("/", 1)[0] + "/NOPE",
    ):
        credential = sdjwt.issue(
            header={"typ": sdjwt.TYP_SD_JWT_VC, "kid": "k1"},
            claims={"iss": iss, "iat": int(time.time()), "cnf": {"jwk": jose.public_jwk(holder)}},
            disclosable={"full_name": "Nguyễn Văn A"},
            key=stranger,
        )
        text = sdjwt.present(
            credential,
            claims=["full_name"],
            holder_key=holder,
            aud=AUD,
            nonce=NONCE,
            iat=int(time.time()),
        )
        verdict = check_local(text)
        assert (verdict.valid, verdict.code) == (False, "unknown_issuer"), iss
        assert verdict.claims == {}


def test_an_officer_of_another_agency_cannot_change_the_status(
    world: World, family: Family
) -> None:
    document = id_card(family.father)
    stranger = factories.make_user(Role.OFFICER, agency=family.agency)
    from congdan.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.revoke_document(stranger, number=document.number, reason="Sai")
    assert check_local(present(document, ["full_name"])).valid
