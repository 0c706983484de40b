"""A document as a verifiable credential, and presentations of it.

Claims of every credential (in clear): ``iss`` (the issuing agency's URL), ``iat``,
``exp`` (end of ``valid_until``, Vietnam time) when it expires, ``vct``
(``urn:vn:congdan:doc:<doc_type>``), ``cnf.jwk`` (the holder's key), ``status``
(its place in the issuer's status list), ``document_number`` and ``issuer_name``.

The document's fields are selectively disclosable (SD-JWT VC) unless its type says the
claim set needs no hiding (compact JWS, everything in clear). A document with a birth
date also gets ``age_over_N: true`` for each threshold the holder had reached when it was
issued, so "over 18" can be shown without the date.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from congdan.wallet import doctypes, jose, keys, sdjwt
from congdan.wallet.models import CredentialFormat

if TYPE_CHECKING:
    from congdan.core.models import Agency
    from congdan.wallet.models import Document, StatusList

VN = ZoneInfo("Asia/Ho_Chi_Minh")
CLEAR_CLAIMS = frozenset({"document_number", "issuer_name"})
# Names a document's data may not use: they are the credential's own claims.
RESERVED_FIELDS = sdjwt.RESERVED | CLEAR_CLAIMS | {"_sd", "_sd_alg"}
# A QR code holds at most 2,953 bytes (version 40, level L); keep a margin for the
# scanner: a presentation longer than this is shared by link only.
QR_MAX = 2300


def _age_claims(data: dict[str, Any], on: dt.date) -> dict[str, bool]:
    raw = data.get("birth_date")
    if not isinstance(raw, str):
        return {}
    try:
        born = dt.date.fromisoformat(raw)
    except ValueError:
        return {}
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    return {f"age_over_{n}": True for n in doctypes.AGE_THRESHOLDS if age >= n}


def epoch_end_of(day: dt.date) -> int:
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=VN)
    return int(end.timestamp())


@dataclass(frozen=True)
class Signer:
    """What signing needs of one issuing agency. Plain strings, so a bulk issuer (the
    seed) looks it up once per run and can hand it to worker processes."""

    pem: str
    kid: str
    iss: str
    name: str


def signer_for(agency: Agency) -> Signer:
    key = keys.current_key(agency)
    return Signer(pem=key.private_pem, kid=key.kid, iss=keys.issuer_id(agency), name=agency.name)


@dataclass(frozen=True)
class Claims:
    """The facts of one document that its credential states."""

    doc_type: str
    number: str
    issued_at: dt.datetime
    valid_until: dt.date | None
    data: dict[str, Any]
    holder_id_number: str
    status_index: int
    status_uri: str
    title_vi: str = ""
    title_en: str = ""
    # The day the age claims are computed for; None: the issue day.
    ages_on: dt.date | None = None


def sign(signer: Signer, facts: Claims) -> tuple[str, str]:
    """(credential, format): the SD-JWT VC or compact JWS of ``facts``."""
    kind = doctypes.doc_type(facts.doc_type, facts.title_vi, facts.title_en)
    claims: dict[str, Any] = {
        "iss": signer.iss,
        "iat": int(facts.issued_at.timestamp()),
        "vct": kind.vct,
        "cnf": {"jwk": keys.holder_jwk(facts.holder_id_number)},
        "status": {"status_list": {"idx": facts.status_index, "uri": facts.status_uri}},
        "document_number": facts.number,
        "issuer_name": signer.name,
    }
    if facts.valid_until is not None:
        claims["exp"] = epoch_end_of(facts.valid_until)
    fields = {
        **facts.data,
        **_age_claims(facts.data, facts.ages_on or facts.issued_at.astimezone(VN).date()),
    }
    private = keys.private_key_of_pem(signer.pem)
    if kind.selective:
        header = {"typ": sdjwt.TYP_SD_JWT_VC, "kid": signer.kid}
        credential = sdjwt.issue(header=header, claims=claims, disclosable=fields, key=private)
        return credential, CredentialFormat.SD_JWT_VC.value
    header = {"typ": sdjwt.TYP_JWT_VC, "kid": signer.kid}
    return jose.sign(header, {**claims, **fields}, private), CredentialFormat.JWS.value


def build(
    document: Document,
    *,
    holder_id_number: str,
    status_list: StatusList,
    status_index: int,
) -> tuple[str, str]:
    """(credential, format) for a document about to be saved; signed with the issuer's
    current key. ``document.issuer`` must be set."""
    agency = document.issuer
    assert agency is not None  # noqa: S101 -- uploads are never signed; callers check
    return sign(
        signer_for(agency),
        Claims(
            doc_type=document.doc_type,
            number=document.number,
            issued_at=document.issued_at,
            valid_until=document.valid_until,
            data=document.data,
            holder_id_number=holder_id_number,
            status_index=status_index,
            status_uri=keys.status_list_uri(agency, status_list.number),
            title_vi=document.title_vi,
            title_en=document.title_en,
        ),
    )


def missing_age_claims(document: Document, on: dt.date) -> set[str]:
    """The ``age_over_N`` claims the holder qualifies for ``on`` that the stored
    credential lacks (the holder crossed a threshold after issue)."""
    if document.credential_format != CredentialFormat.SD_JWT_VC:
        return set()
    return set(_age_claims(document.data, on)) - set(disclosable(document))


def disclosable(document: Document) -> list[str]:
    """The claim names the holder can choose among (SD-JWT), in the credential's order;
    empty for a compact JWS, which is shown whole."""
    if document.credential_format != CredentialFormat.SD_JWT_VC or not document.credential:
        return []
    return list(sdjwt.disclosure_names(document.credential))


def all_claims(document: Document) -> dict[str, Any]:
    """Every claim of the credential a holder could show (data and age claims)."""
    if document.credential_format == CredentialFormat.JWS:
        _h, payload, _i, _s = jose.parse(document.credential)
        return {k: v for k, v in payload.items() if k not in sdjwt.RESERVED | CLEAR_CLAIMS}
    parsed = sdjwt.split(document.credential)
    return sdjwt.disclosed_claims(parsed)


def present(
    document: Document,
    *,
    claims: list[str],
    aud: str,
    nonce: str,
    expires_at: dt.datetime | None,
) -> str:
    """A presentation of ``claims`` bound to the holder's key, for audience ``aud``.

    A compact JWS credential is presented whole (``claims`` is ignored): ``<JWS>~<KB>``.
    """
    holder_key = keys.holder_key(document.holder.id_number)
    exp = int(expires_at.timestamp()) if expires_at is not None else None
    credential = document.credential
    if document.credential_format == CredentialFormat.JWS:
        credential = credential + "~"
        claims = []
    return sdjwt.present(
        credential,
        claims=claims,
        holder_key=holder_key,
        aud=aud,
        nonce=nonce,
        iat=int(time.time()),
        exp=exp,
    )
