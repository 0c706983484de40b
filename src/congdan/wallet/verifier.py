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
        "Thiếu chữ ký của người giữ giấy tờ: không chứng minh được người xuất trình là chủ giấy tờ."
    ),
    "wrong_holder": _(
        "Chữ ký của người xuất trình không khớp với người được cấp giấy tờ (sai chủ sở hữu)."
    ),
    "wrong_audience": _("Bản xuất trình này được tạo cho nơi khác hoặc lần xác minh khác."),
    "unauthorised_issuer": _("Cơ quan này không có thẩm quyền cấp loại giấy tờ này."),
    "bad_presentation_time": _("Thời điểm tạo bản xuất trình không hợp lệ (ở tương lai)."),
    "revoked": _("Giấy tờ đã bị cơ quan cấp thu hồi."),
    "suspended": _("Giấy tờ đang bị cơ quan cấp tạm đình chỉ."),
    "status_invalid": _(
        "Danh sách trạng thái của bên cấp không hợp lệ: không xác nhận được giấy tờ còn hiệu lực."
    ),
    "status_unknown": _(
        "Không kiểm tra được trạng thái giấy tờ: bên cấp không trả lời và không có bản lưu "
        "còn hạn. Hãy thử lại khi có mạng."
    ),
    "expired": _("Giấy tờ đã hết hạn."),
    "not_yet_valid": _("Giấy tờ chưa có hiệu lực (thời điểm cấp ở tương lai)."),
    "presentation_expired": _("Lượt chia sẻ này đã hết hạn."),
    "share_revoked": _("Người giữ giấy tờ đã thu hồi lượt chia sẻ này."),
}


class KeySource(Protocol):
    """``jwks(iss)`` → the issuer's JWKS, or None when the issuer is not trusted. A source
    may also have ``competent(iss, vct) -> bool``: whether that issuer may issue that
    type (our own agencies: by agency kind, ``doctypes``)."""

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


def _note(checks: list[Check], name: str, ok: bool | None, detail: str = "") -> None:
    checks.append(Check(name, ok, detail))


def _check_format(verdict: Verdict, parsed: sdjwt.Parsed) -> str | None:
    header, payload = parsed.header, parsed.payload
    iss = payload.get("iss")
    problem = ""
    if header.get("typ") not in (sdjwt.TYP_SD_JWT_VC, sdjwt.TYP_JWT_VC):
        problem = "typ"
    elif not isinstance(iss, str) or not iss:
        problem = "iss"
    _note(verdict.checks, "format", not problem, problem)
    if problem:
        return "malformed"
    verdict.issuer = str(iss)
    verdict.vct = str(payload.get("vct", ""))
    return None


def _check_signature(verdict: Verdict, parsed: sdjwt.Parsed, keys: KeySource) -> str | None:
    """The issuer is trusted, the kid is one of its keys, the signature holds."""
    checks = verdict.checks
    jwks = keys.jwks(verdict.issuer)
    _note(checks, "issuer", jwks is not None, verdict.issuer)
    if jwks is None:
        return "unknown_issuer"
    try:
        key = _key(jwks, parsed.header.get("kid"))
    except JoseError:
        key = None
    if key is None:
        _note(checks, "signature", False, "kid")
        return "unknown_key"
    ok = jose.verify_signature(parsed.signing_input, parsed.signature, key)
    _note(checks, "signature", ok)
    if not ok:
        return "bad_signature"
    competent = getattr(keys, "competent", None)
    if competent is not None and not competent(verdict.issuer, verdict.vct):
        _note(checks, "issuer", False, "not competent for " + verdict.vct)
        return "unauthorised_issuer"
    return None


def _check_validity(verdict: Verdict, payload: dict[str, Any], now: int) -> str | None:
    iat, exp = payload.get("iat"), payload.get("exp")
    verdict.issued_at = iat if isinstance(iat, int) else None
    verdict.expires_at = exp if isinstance(exp, int) else None
    nbf = payload.get("nbf", iat)
    failure = None
    if isinstance(nbf, int) and nbf - CLOCK_SKEW > now:
        failure = "not_yet_valid"
    elif isinstance(exp, int) and exp + CLOCK_SKEW < now:
        failure = "expired"
    _note(verdict.checks, "validity", failure is None, failure or "")
    return failure


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
    try:
        parsed = sdjwt.split(text)
    except JoseError:
        _note(verdict.checks, "format", False)
        return _fail(verdict, "malformed")
    # 1. well formed, from a trusted issuer, signed by one of its keys
    failure = _check_format(verdict, parsed) or _check_signature(verdict, parsed, keys)
    if failure:
        return _fail(verdict, failure)
    # 2. the disclosures are the issuer's
    try:
        disclosed = sdjwt.disclosed_claims(parsed)
    except JoseError:
        _note(verdict.checks, "disclosures", False)
        return _fail(verdict, "tampered")
    _note(verdict.checks, "disclosures", True, str(len(disclosed)))
    payload = parsed.payload
    verdict.issuer_name = str(payload.get("issuer_name", ""))
    verdict.document_number = str(payload.get("document_number", ""))
    # 3. holder binding, 4. status, 5. validity period: all reported, the first failure
    # in FAILURES order decides.
    binding = HolderBinding(audience=audience, nonce=nonce, required=require_holder_binding)
    failures = [
        code
        for code in (
            _check_holder(verdict, parsed, now=now, binding=binding),
            _check_status(verdict, payload, statuses),
            _check_validity(verdict, payload, now),
        )
        if code
    ]
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


@dataclass(frozen=True)
class HolderBinding:
    """What the verifier expects of the key-binding JWT."""

    audience: str | None = None
    nonce: str | None = None
    required: bool = True


def _key_binding(parsed: sdjwt.Parsed) -> dict[str, Any] | None:
    """The KB-JWT's payload when it is signed by the key in ``cnf``, else None."""
    cnf = parsed.payload.get("cnf")
    try:
        holder_key = jose.public_key_from_jwk(cnf.get("jwk") if isinstance(cnf, dict) else None)
        kb_header, kb, kb_input, kb_signature = jose.parse(parsed.kb_jwt or "")
    except JoseError:
        return None
    if kb_header.get("typ") != sdjwt.TYP_KB:
        return None
    return kb if jose.verify_signature(kb_input, kb_signature, holder_key) else None


def _check_holder(
    verdict: Verdict, parsed: sdjwt.Parsed, *, now: int, binding: HolderBinding
) -> str | None:
    checks = verdict.checks
    if parsed.kb_jwt is None:
        _note(checks, "holder", False if binding.required else None, "missing")
        return "no_holder_binding" if binding.required else None
    kb = _key_binding(parsed)
    failure, detail = None, ""
    if kb is None:
        failure = "wrong_holder"
    elif kb.get("sd_hash") != jose.sha256_b64(parsed.sd_hash_input):
        # The holder signed other disclosures than the ones presented.
        failure, detail = "tampered", "sd_hash"
    elif (binding.audience is not None and kb.get("aud") != binding.audience) or (
        binding.nonce is not None and kb.get("nonce") != binding.nonce
    ):
        failure, detail = "wrong_audience", "aud"
    if kb is not None:
        verdict.audience = str(kb.get("aud", ""))
        verdict.nonce = str(kb.get("nonce", ""))
    _note(checks, "holder", failure is None, detail)
    if failure is not None or kb is None:
        return failure
    kb_iat = kb.get("iat")
    if not isinstance(kb_iat, int) or kb_iat - CLOCK_SKEW > now:
        _note(checks, "share", False, "iat")
        return "bad_presentation_time"
    kb_exp = kb.get("exp")
    if isinstance(kb_exp, int) and kb_exp + CLOCK_SKEW < now:
        _note(checks, "share", False, "exp")
        return "presentation_expired"
    return None


def _status_value(payload: dict[str, Any], statuses: StatusSource | None) -> int | str:
    """The status list entry of the credential, or why it could not be read."""
    reference = payload.get("status")
    entry = reference.get("status_list") if isinstance(reference, dict) else None
    if not isinstance(entry, dict):
        return "no status"
    uri, idx = entry.get("uri"), entry.get("idx")
    if not isinstance(uri, str) or not isinstance(idx, int) or statuses is None:
        return "not checked"
    try:
        token_payload = statuses.status_list(uri, str(payload.get("iss", "")))
        if token_payload is None:
            return "unreachable"
        lst = token_payload.get("status_list", {})
        return statuslist.decode_status(lst.get("lst", ""), lst.get("bits", 0), idx)
    except (JoseError, AttributeError, TypeError, ValueError):
        return "bad status list"


_STATUS_FAILURES = {statuslist.INVALID: "revoked", statuslist.SUSPENDED: "suspended"}
# Why a status could not be read → the failure, or None when that is acceptable: a
# credential without a status reference, or a verifier that checks offline on purpose
# (``statuses=None``). A list that cannot be fetched, or is not a valid list, fails
# closed.
_UNREAD_STATUS = {
    "no status": None,
    "not checked": None,
    "unreachable": "status_unknown",
    "bad status list": "status_invalid",
}


def _check_status(
    verdict: Verdict, payload: dict[str, Any], statuses: StatusSource | None
) -> str | None:
    value = _status_value(payload, statuses)
    if isinstance(value, str):  # not read: say why
        failure = _UNREAD_STATUS[value]
        _note(verdict.checks, "status", None if failure is None else False, value)
        return failure
    # 0 valid, 1 revoked, 2 suspended; any other value we do not understand: fail closed.
    failure = _STATUS_FAILURES.get(value, "status_invalid") if value else None
    verdict.status = {"revoked": "revoked", "suspended": "suspended", None: "valid"}.get(
        failure, "unknown"
    )
    _note(verdict.checks, "status", failure is None, failure or "")
    return failure
