"""Fail-closed behaviour found in review: strict base64url, deeply nested JSON, status
lists that cannot be read, issuers outside their competence, key-binding times in the
future, compromised keys, oversized document data, age claims that grow with the holder,
and idempotent pushes."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import pytest
from django.utils import timezone

from congdan.core.errors import ValidationFailed
from congdan.core.models import AgencyKind
from congdan.registry.models import Person
from congdan.wallet import credentials, jose, keys, sdjwt, services, verifier
from congdan.wallet.models import Document, DocumentEvent, EventKind, StatusList
from congdan.wallet.sources import LocalKeys
from tests import factories
from tests.wallet.conftest import Family
from tests.wallet.test_verifier import check_local, id_card, make_c06, present


def _code(text: str) -> str:
    return check_local(text).code


# --- parsing --------------------------------------------------------------------------


def test_base64url_is_strict() -> None:
    assert jose.b64d("QUJD") == b"ABC"
    for bad in ("QU!!!!JD", "QUJD=", "QU+D", "QU/D", "QUJDQ", "QUJ D"):
        with pytest.raises(jose.JoseError):
            jose.b64d(bad)


def test_a_junk_character_in_a_presentation_is_malformed(family: Family) -> None:
    text = present(id_card(family.father), ["full_name"])
    jwt, rest = text.split(".", 1)
    assert _code(jwt[:10] + "!" + jwt[10:] + "." + rest) == "malformed"


def test_deeply_nested_json_is_malformed_not_a_crash(db: None) -> None:
    deep = jose.b64e(b"[" * 50_000)
    header = jose.b64e(b'{"alg":"ES256"}')
    for text in (f"{deep}.{jose.b64e(b'{}')}.AAAA", f"{header}.{deep}.AAAA"):
        assert _code(text) == "malformed"


def test_a_nested_key_binding_jwt_is_refused(family: Family) -> None:
    text = present(id_card(family.father), ["full_name"])
    head, _kb = text.rsplit("~", 1)
    deep = jose.b64e(b"[" * 50_000)
    assert _code(f"{head}~{deep}.{deep}.AAAA") == "wrong_holder"


# --- status lists fail closed ---------------------------------------------------------


def test_an_unresolvable_status_list_of_ours_fails(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    StatusList.objects.filter(pk=document.status_list_id).update(number=999)
    verdict = check_local(text)
    assert (verdict.valid, verdict.code) == (False, "status_unknown")


class _BadList:
    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        return self.payload


@pytest.mark.parametrize(
    "payload",
    [
        {"status_list": {"bits": 2, "lst": "not base64!"}},
        {"status_list": {"bits": 3, "lst": "eJwDAAAAAAE"}},
        {"status_list": {"bits": 2, "lst": jose.b64e(b"\x78\x9c\x03\x00\x00\x00\x00\x01")}},
        {"status_list": "nonsense"},
    ],
)
def test_a_bad_status_list_fails(family: Family, payload: dict[str, Any]) -> None:
    text = present(id_card(family.father), ["full_name"])
    verdict = verifier.verify(text, keys=LocalKeys(), statuses=_BadList(payload))
    assert (verdict.valid, verdict.code) == (False, "status_invalid")


def test_offline_on_purpose_is_not_checked_but_valid(family: Family) -> None:
    text = present(id_card(family.father), ["full_name"])
    verdict = verifier.verify(text, keys=LocalKeys(), statuses=None)
    assert verdict.valid
    assert next(c for c in verdict.checks if c.name == "status").ok is None


# --- competence and times --------------------------------------------------------------


def test_an_agency_cannot_issue_a_type_outside_its_competence(family: Family) -> None:
    """A justice office issuing an ID card is refused at issue …"""
    with pytest.raises(ValidationFailed) as exc:
        id_card(family.father, agency=family.agency)
    assert exc.value.code == "issuer_not_competent"


def test_the_verifier_refuses_a_type_outside_the_issuers_competence(family: Family) -> None:
    """… and a credential made anyway (e.g. before the rule, or by a leaked key) fails."""
    document = id_card(family.father)
    Document.objects.filter(pk=document.pk).update(issuer=family.agency)
    type(document.issuer).objects.filter(pk=document.issuer_id).update(kind=AgencyKind.JUSTICE)
    assert _code(present(document, ["full_name"])) == "unauthorised_issuer"


def test_a_key_binding_jwt_from_the_future_fails(family: Family) -> None:
    document = id_card(family.father)
    holder_key = keys.holder_key(family.father.id_number)
    parsed = sdjwt.split(document.credential)
    sd_jwt = parsed.jwt + "~" + sdjwt.disclosure_names(document.credential)["full_name"] + "~"
    kb = jose.sign(
        {"typ": sdjwt.TYP_KB},
        {
            "iat": int(time.time()) + 3600,
            "aud": "x",
            "nonce": "y",
            "sd_hash": jose.sha256_b64(sd_jwt),
        },
        holder_key,
    )
    assert _code(sd_jwt + kb) == "bad_presentation_time"


def test_a_compromised_key_leaves_the_jwks(family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name"])
    old_kid = sdjwt.split(text).header["kid"]
    keys.rotate(document.issuer, compromised=True)
    assert old_kid not in {k["kid"] for k in keys.jwks(document.issuer)["keys"]}
    assert _code(text) == "unknown_key"
    # A plain rotation keeps the documents the (new) key signed verifying.
    fresh = id_card(family.father)
    keys.rotate(fresh.issuer)
    assert check_local(present(fresh, ["full_name"])).valid


# --- data size, age claims, idempotent pushes ---------------------------------------------


def test_oversized_document_data_is_refused(family: Family) -> None:
    with pytest.raises(ValidationFailed) as exc:
        services.create_issued(
            actor=None,
            actor_label="test",
            holder=family.father,
            doc_type="note",
            title_vi="Ghi chú",
            title_en="Note",
            issuer=family.agency,
            data={"blob": "A" * 70_000},
            source_ref="",
        )
    assert exc.value.code == "data_too_large"
    assert not Document.objects.filter(doc_type="note").exists()


def test_age_claims_are_refreshed_when_the_holder_comes_of_age(family: Family) -> None:
    teen: Person = factories.make_person(
        family.father.residence_commune,
        full_name="Nguyễn Văn Tuấn",
        birth_date=timezone.localdate().replace(year=timezone.localdate().year - 19),
    )
    document = id_card(teen)
    assert "age_over_18" in credentials.disclosable(document)
    # As if it had been issued when the holder was 15: no "over 16" or "over 18".
    facts = credentials.Claims(
        doc_type=document.doc_type,
        number=document.number,
        issued_at=document.issued_at,
        valid_until=document.valid_until,
        data=document.data,
        holder_id_number=teen.id_number,
        status_index=document.status_index or 0,
        status_uri=keys.status_list_uri(document.issuer, document.status_list.number),
        ages_on=timezone.localdate() - dt.timedelta(days=4 * 365),
    )
    old, _format = credentials.sign(credentials.signer_for(document.issuer), facts)
    Document.objects.filter(pk=document.pk).update(credential=old)
    document.refresh_from_db()
    assert "age_over_18" not in credentials.disclosable(document)
    assert services.refresh_age_claims(document)
    document.refresh_from_db()
    assert "age_over_18" in credentials.disclosable(document)
    assert DocumentEvent.objects.filter(document=document, kind=EventKind.REFRESHED).exists()
    assert check_local(present(document, ["age_over_18"])).claims == {"age_over_18": True}
    assert not services.refresh_age_claims(document)  # nothing more to add


def test_a_failing_sms_gateway_does_not_undo_or_break_an_issue(
    family: Family, monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise ConnectionError("gateway down")

    monkeypatch.setattr("congdan.wallet.services.issuing.send_sms", broken)
    with django_capture_on_commit_callbacks(execute=True):
        document = id_card(family.father, agency=make_c06())
    assert Document.objects.filter(pk=document.pk).exists()


# --- numbering --------------------------------------------------------------------------


def test_a_number_already_used_is_drawn_again(
    family: Family, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two documents drawing the same serial: the second draws again (inside a
    savepoint, so the caller's transaction goes on) instead of failing."""
    first = id_card(family.father)
    serial = first.number.rsplit("-", 1)[1]
    draws = iter([serial.lower(), "00000000abcd"])
    monkeypatch.setattr("congdan.wallet.services.issuing.secrets.token_hex", lambda n: next(draws))
    second = id_card(family.father)
    assert second.number.endswith("-00000000ABCD")
    assert Document.objects.filter(doc_type="id_card").count() == 2
