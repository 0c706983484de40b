"""Verifying a presentation (or a credential): the checks a bank, an airline or a hotel
runs, independent of where the keys and status lists come from.

``verify`` takes the text (what a QR code or a share link carries) and two sources:

- ``KeySource.jwks(iss)`` → the issuer's JWKS, or None when the issuer is not trusted;
- ``StatusSource.status_list(uri, iss)`` → the verified payload of the status list
  token, or None when it cannot be fetched (offline): the status is then "not checked".

The verdict lists every check with its outcome. Claims are returned only when the
signature and the disclosures verified, and they are exactly the disclosed ones: a
verifier never receives a field the holder did not choose.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from congdan.wallet import jose, sdjwt, statuslist
from congdan.wallet.jose import JoseError

CLOCK_SKEW = 60  # seconds of tolerance on iat / nbf / exp

# code → message, in the order a failure is reported when several apply.
FAILURES: dict[str, Promise] = {
    "malformed": _(
        "Không đọc được dữ liệu: mã QR hoặc chuỗi xác minh bị cắt cụt, sai định dạng hoặc "
        "không phải giấy tờ điện tử."
    ),
    "unknown_issuer": _("Bên cấp không có trong danh sách tin cậy của trang xác minh."),
    "unknown_key": _("Khóa ký không thuộc bên cấp (không có trong JWKS đã công bố)."),
    "bad_signature": _("Chữ ký số của bên cấp không hợp lệ: nội dung đã bị sửa đổi."),
    "tampered": _("Trường được tiết lộ không khớp với chữ ký của bên cấp: đã bị sửa đổi."),
    "no_holder_binding": _(
        "Thiếu chữ ký của người giữ giấy tờ: không chứng minh được người xuất trình là "
        "chủ giấy tờ."
    ),
    "wrong_holder": _(
        "Chữ ký của người xuất trình không khớp với người được cấp giấy tờ (sai chủ sở hữu)."
    ),
    "wrong_audience": _("Bản xuất trình này được tạo cho nơi khác hoặc lần xác minh khác."),
    "revoked": _("Giấy tờ đã bị cơ quan cấp thu hồi."),
    "suspended": _("Giấy tờ đang bị cơ quan cấp tạm đình chỉ."),
    "expired": _("Giấy tờ đã hết hạn."),
    "not_yet_valid": _("Giấy tờ chưa có hiệu lực (thời điểm cấp ở tương lai)."),
    "presentation_expired": _("Lượt chia sẻ này đã hết hạn."),
    "share_revoked": _("Người giữ giấy tờ đã thu hồi lượt chia sẻ này."),
}


class KeySource(Protocol):
    def jwks(self, iss: str) -> dict[str, Any] | None: ...


class StatusSource(Protocol):
    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None: ...


@dataclass
class Check:
    name: str
    ok: bool | None  # None: could not be checked (offline)
    detail: str = ""


@dataclass
class Verdict:
    valid: bool
    code: str
    message: str
    checks: list[Check] = field(default_factory=list)
    claims: dict[str, Any] = field(default_factory=dict)
    issuer: str = ""
    issuer_name: str = ""
    vct: str = ""
    document_number: str = ""
    issued_at: int | None = None
    expires_at: int | None = None
    status: str = "unknown"  # valid, revoked, suspended, unknown (not checked)
    # The key-binding JWT's audience and nonce (a share's URL and token).
    audience: str = ""
    nonce: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "code": self.code,
            "message": self.message,
            "issuer": self.issuer,
            "issuer_name": self.issuer_name,
            "vct": self.vct,
            "document_number": self.document_number,
            "issued_at": self.issued_at,
            "expires_at": self.expires_at,
            "status": self.status,
            "claims": self.claims,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in self.checks],
        }


def _fail(verdict: Verdict, code: str) -> Verdict:
    verdict.valid = False
    verdict.code = code
    verdict.message = str(FAILURES[code])
    verdict.claims = {}
    return verdict


def tampered(verdict: Verdict) -> Verdict:
    """Mark a verdict failed because the stored copy differs from what was signed."""
    verdict.checks.append(Check("disclosures", False, "stored copy differs"))
    return _fail(verdict, "tampered")


def _key(jwks: dict[str, Any], kid: Any) -> Any:
    for item in jwks.get("keys", []) if isinstance(jwks, dict) else []:
        if isinstance(item, dict) and item.get("kid") == kid:
            return jose.public_key_from_jwk(item)
    return None


def verify_status_token(token: str, uri: str, jwks: dict[str, Any], now: int) -> dict[str, Any]:
    """The payload of a status list token for ``uri`` signed by a key in ``jwks``;
    JoseError when it is not one."""
    header, payload, signing_input, signature = jose.parse(token)
    if header.get("typ") != statuslist.TYP:
        raise JoseError("bad_status_list", "not a status list token")
    key = _key(jwks, header.get("kid"))
    if key is None or not jose.verify_signature(signing_input, signature, key):
        raise JoseError("bad_status_list", "status list signature")
    if payload.get("sub") != uri:
        raise JoseError("bad_status_list", "status list for another URI")
    exp = payload.get("exp")
    if isinstance(exp, int) and exp + CLOCK_SKEW < now:
        raise JoseError("bad_status_list", "status list expired")
    return payload


def verify(
    text: str,
    *,
    keys: KeySource,
    statuses: StatusSource | None,
    now: int | None = None,
    audience: str | None = None,
    nonce: str | None = None,
    require_holder_binding: bool = True,
) -> Verdict:
    """Check ``text`` (``<JWT>~<disclosures>~<KB-JWT>``, or a bare credential with
    ``require_holder_binding=False``) and say what holds."""
    now = int(time.time()) if now is None else now
    verdict = Verdict(valid=False, code="", message="")
    checks = verdict.checks
    try:
        parsed = sdjwt.split(text)
    except JoseError:
        checks.append(Check("format", False))
        return _fail(verdict, "malformed")
    header, payload = parsed.header, parsed.payload
    if header.get("typ") not in (sdjwt.TYP_SD_JWT_VC, sdjwt.TYP_JWT_VC):
        checks.append(Check("format", False, "typ"))
        return _fail(verdict, "malformed")
    iss = payload.get("iss")
    if not isinstance(iss, str) or not iss:
        checks.append(Check("format", False, "iss"))
        return _fail(verdict, "malformed")
    checks.append(Check("format", True))
    verdict.issuer = iss
    verdict.vct = str(payload.get("vct", ""))

    # 1. the issuer and its signature
    jwks = keys.jwks(iss)
    if jwks is None:
        checks.append(Check("issuer", False, iss))
        return _fail(verdict, "unknown_issuer")
    checks.append(Check("issuer", True, iss))
    try:
        key = _key(jwks, header.get("kid"))
    except JoseError:
        key = None
    if key is None:
        checks.append(Check("signature", False, "kid"))
        return _fail(verdict, "unknown_key")
    if not jose.verify_signature(parsed.signing_input, parsed.signature, key):
        checks.append(Check("signature", False))
        return _fail(verdict, "bad_signature")
    checks.append(Check("signature", True))

    # 2. the disclosures are the issuer's
    try:
        disclosed = sdjwt.disclosed_claims(parsed)
    except JoseError:
        checks.append(Check("disclosures", False))
        return _fail(verdict, "tampered")
    checks.append(Check("disclosures", True, str(len(disclosed))))
    verdict.issuer_name = str(payload.get("issuer_name", ""))
    verdict.document_number = str(payload.get("document_number", ""))
    iat, exp = payload.get("iat"), payload.get("exp")
    verdict.issued_at = iat if isinstance(iat, int) else None
    verdict.expires_at = exp if isinstance(exp, int) else None

    failures: list[str] = []

    # 3. holder binding: the key-binding JWT is signed by the key in cnf
    failures += _check_holder(verdict, parsed, now, audience, nonce, require_holder_binding)

    # 4. status
    failures += _check_status(verdict, payload, iss, statuses, now)

    # 5. validity period
    nbf = payload.get("nbf", iat)
    if isinstance(nbf, int) and nbf - CLOCK_SKEW > now:
        checks.append(Check("validity", False, "nbf"))
        failures.append("not_yet_valid")
    elif isinstance(exp, int) and exp + CLOCK_SKEW < now:
        checks.append(Check("validity", False, "exp"))
        failures.append("expired")
    else:
        checks.append(Check("validity", True))

    if failures:
        order = list(FAILURES)
        return _fail(verdict, min(failures, key=order.index))
    verdict.valid = True
    verdict.code = "valid"
    verdict.message = str(_("Giấy tờ hợp lệ."))
    clear = {
        k: v
        for k, v in payload.items()
        if k not in sdjwt.RESERVED and k not in {"issuer_name", "document_number"}
    }
    verdict.claims = {**clear, **disclosed}
    return verdict


def _check_holder(
    verdict: Verdict,
    parsed: sdjwt.Parsed,
    now: int,
    audience: str | None,
    nonce: str | None,
    required: bool,
) -> list[str]:
    checks = verdict.checks
    if parsed.kb_jwt is None:
        if required:
            checks.append(Check("holder", False, "missing"))
            return ["no_holder_binding"]
        checks.append(Check("holder", None, "not presented"))
        return []
    cnf = parsed.payload.get("cnf")
    try:
        holder_key = jose.public_key_from_jwk(cnf.get("jwk") if isinstance(cnf, dict) else None)
        kb_header, kb, kb_input, kb_signature = jose.parse(parsed.kb_jwt)
    except JoseError:
        checks.append(Check("holder", False))
        return ["wrong_holder"]
    if kb_header.get("typ") != sdjwt.TYP_KB or not jose.verify_signature(
        kb_input, kb_signature, holder_key
    ):
        checks.append(Check("holder", False))
        return ["wrong_holder"]
    if kb.get("sd_hash") != jose.sha256_b64(parsed.sd_hash_input):
        # The holder signed other disclosures than the ones presented.
        checks.append(Check("holder", False, "sd_hash"))
        return ["tampered"]
    verdict.audience = str(kb.get("aud", ""))
    verdict.nonce = str(kb.get("nonce", ""))
    if (audience is not None and kb.get("aud") != audience) or (
        nonce is not None and kb.get("nonce") != nonce
    ):
        checks.append(Check("holder", False, "aud"))
        return ["wrong_audience"]
    checks.append(Check("holder", True))
    kb_exp = kb.get("exp")
    if isinstance(kb_exp, int) and kb_exp + CLOCK_SKEW < now:
        checks.append(Check("share", False, "exp"))
        return ["presentation_expired"]
    return []


def _check_status(
    verdict: Verdict,
    payload: dict[str, Any],
    iss: str,
    statuses: StatusSource | None,
    now: int,
) -> list[str]:
    checks = verdict.checks
    reference = payload.get("status")
    entry = reference.get("status_list") if isinstance(reference, dict) else None
    if not isinstance(entry, dict):
        checks.append(Check("status", None, "no status"))
        return []
    uri, idx = entry.get("uri"), entry.get("idx")
    if not isinstance(uri, str) or not isinstance(idx, int) or statuses is None:
        checks.append(Check("status", None, "not checked"))
        return []
    try:
        token_payload = statuses.status_list(uri, iss)
        if token_payload is None:
            checks.append(Check("status", None, "unreachable"))
            return []
        lst = token_payload.get("status_list", {})
        value = statuslist.decode_status(lst.get("lst", ""), lst.get("bits", 0), idx)
    except (JoseError, AttributeError, TypeError):
        checks.append(Check("status", None, "bad status list"))
        return []
    if value == statuslist.INVALID:
        verdict.status = "revoked"
        checks.append(Check("status", False, "revoked"))
        return ["revoked"]
    if value == statuslist.SUSPENDED:
        verdict.status = "suspended"
        checks.append(Check("status", False, "suspended"))
        return ["suspended"]
    verdict.status = "valid"
    checks.append(Check("status", True))
    return []
