"""Sign → verify round trips checked by an independent JOSE implementation (joserfc),
not by the code that signed: the issuer JWT against the JWKS the HTTP endpoint publishes,
the disclosure digests recomputed with hashlib, the key-binding JWT against ``cnf.jwk``,
and the status list token verified with joserfc and its bits decoded with zlib."""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from joserfc import jws
from joserfc.errors import BadSignatureError
from joserfc.jwk import ECKey, KeySet

from congdan.core.models import Agency
from congdan.wallet import services
from congdan.wallet.models import Document
from tests.wallet.conftest import Family
from tests.wallet.test_verifier import AUD, NONCE, id_card, present


def _b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _b64e(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _published_keys(client: Client, agency: Agency) -> KeySet:
    response = client.get(reverse("wallet:issuer_jwks", args=[agency.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/jwk-set+json"
    body = json.loads(response.content)
    assert all("d" not in key for key in body["keys"])  # never a private part
    return KeySet.import_key_set(body)


def _verify_jws(token: str, keyset: KeySet) -> tuple[dict[str, Any], dict[str, Any]]:
    header = json.loads(_b64d(token.split(".", maxsplit=1)[0]))
    key = keyset.get_by_kid(header["kid"])
    signature = jws.deserialize_compact(token, key, algorithms=["ES256"])
    return dict(signature.protected), json.loads(signature.payload)


def test_an_sd_jwt_presentation_verifies_with_joserfc(client: Client, family: Family) -> None:
    document = id_card(family.father)
    text = present(document, ["full_name", "birth_date"])
    issuer_jwt, *disclosures, kb_jwt = text.split("~")
    assert len(disclosures) == 2

    # 1. The issuer's signature, with the JWKS as published over HTTP.
    header, payload = _verify_jws(issuer_jwt, _published_keys(client, document.issuer))
    assert header["alg"] == "ES256"
    assert header["typ"] == "dc+sd-jwt"
    assert payload["document_number"] == document.number
    assert payload["vct"] == "urn:vn:congdan:doc:id_card"
    assert payload["_sd_alg"] == "sha-256"

    # 2. Each disclosure's digest is in _sd, recomputed with hashlib.
    revealed = {}
    for item in disclosures:
        digest = _b64e(hashlib.sha256(item.encode("ascii")).digest())
        assert digest in payload["_sd"]
        salt, name, value = json.loads(_b64d(item))
        assert len(_b64d(salt)) >= 16
        revealed[name] = value
    assert revealed == {
        "full_name": family.father.full_name,
        "birth_date": family.father.birth_date.isoformat(),
    }
    # Every other field is only a digest: more digests than disclosures.
    assert len(payload["_sd"]) > len(disclosures)

    # 3. The key-binding JWT, with the holder key in cnf.jwk.
    holder = ECKey.import_key(payload["cnf"]["jwk"])
    kb = jws.deserialize_compact(kb_jwt, holder, algorithms=["ES256"])
    kb_payload = json.loads(kb.payload)
    assert kb.protected["typ"] == "kb+jwt"
    assert kb_payload["aud"] == AUD and kb_payload["nonce"] == NONCE
    sd_jwt = "~".join([issuer_jwt, *disclosures]) + "~"
    assert kb_payload["sd_hash"] == _b64e(hashlib.sha256(sd_jwt.encode("ascii")).digest())

    # A stranger's key does not verify the holder's signature.
    with pytest.raises(BadSignatureError):
        jws.deserialize_compact(kb_jwt, ECKey.generate_key("P-256"), algorithms=["ES256"])


def test_the_status_list_verifies_with_joserfc_and_decodes_with_zlib(
    client: Client, family: Family
) -> None:
    keep = id_card(family.father)
    revoked = id_card(family.father)
    services.change_status(
        actor=None,
        actor_label="test",
        agency_id=revoked.issuer_id,
        number=revoked.number,
        change="revoke",
        reason="Mất thẻ",
    )
    _h, payload = _verify_jws(keep.credential.split("~")[0], _published_keys(client, keep.issuer))
    reference = payload["status"]["status_list"]
    path = reference["uri"].removeprefix(settings.CONGDAN_PUBLIC_URL)
    response = client.get(path)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/statuslist+jwt"
    header, token = _verify_jws(response.content.decode(), _published_keys(client, keep.issuer))
    assert header["typ"] == "statuslist+jwt"
    assert token["sub"] == reference["uri"]
    bits = token["status_list"]["bits"]
    data = zlib.decompress(_b64d(token["status_list"]["lst"]))

    def status_at(index: int) -> int:
        per_byte = 8 // bits
        return (data[index // per_byte] >> ((index % per_byte) * bits)) & ((1 << bits) - 1)

    revoked = Document.objects.get(pk=revoked.pk)
    assert status_at(keep.status_index) == 0
    assert status_at(revoked.status_index) == 1


def test_a_jws_document_verifies_with_joserfc(client: Client, family: Family) -> None:
    document = services.create_issued(
        actor=None,
        actor_label="test",
        holder=family.father,
        doc_type="judicial_record_certificate",
        title_vi="Phiếu lý lịch tư pháp",
        title_en="Judicial record certificate",
        issuer=family.agency,
        data={
            "full_name": family.father.full_name,
            "id_number": family.father.id_number,
            "criminal_record": "Không có án tích",
        },
        source_ref="",
    )
    assert document.credential_format == "jws"
    assert "~" not in document.credential
    header, payload = _verify_jws(document.credential, _published_keys(client, family.agency))
    assert header["typ"] == "vc+jwt"
    assert payload["criminal_record"] == "Không có án tích"
    assert payload["id_number"] == family.father.id_number
    assert "_sd" not in payload
    # Presented whole with a key binding: the KB-JWT verifies with cnf.jwk.
    text = present(document, [])
    credential, kb_jwt = text.split("~")
    assert credential == document.credential
    kb = jws.deserialize_compact(kb_jwt, ECKey.import_key(payload["cnf"]["jwk"]), ["ES256"])
    expected = _b64e(hashlib.sha256((credential + "~").encode("ascii")).digest())
    assert json.loads(kb.payload)["sd_hash"] == expected


def test_a_tampered_payload_fails_with_joserfc(client: Client, family: Family) -> None:
    document = id_card(family.father)
    issuer_jwt = document.credential.split("~")[0]
    header, payload, signature = issuer_jwt.split(".")
    claims = json.loads(_b64d(payload))
    claims["document_number"] = "C06-id_card-FFFFFFFFFFFF"
    forged = f"{header}.{_b64e(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(BadSignatureError):
        _verify_jws(forged, _published_keys(client, document.issuer))
