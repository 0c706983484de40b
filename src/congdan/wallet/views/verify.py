"""Public verifier pages: paste a presentation (or a share link) and read the verdict,
open a share link, and the offline verifier that runs in the browser.

No login. Views parse, call ``wallet.verification``, render; bad input is a Vietnamese
message on the page (HTTP 400), never a 500. Verifying (POST on the page, opening a share
link) is throttled per client address: over ``WALLET_VERIFY_RATE`` a minute the answer is
a 429 page with Retry-After.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from congdan.core.errors import ValidationFailed
from congdan.core.models import Agency
from congdan.identity.lockout import client_ip
from congdan.registry.models import Sex
from congdan.wallet import doctypes, keys, verification, verifier
from congdan.wallet.models import Document, IssuerKey, StatusList
from congdan.wallet.verifier import Verdict

PORTRAIT = re.compile(r"data:image/(png|jpeg|webp);base64,[A-Za-z0-9+/=]+")

CHECK_LABELS: dict[str, Any] = {
    "format": _("Định dạng dữ liệu"),
    "issuer": _("Bên cấp nằm trong danh sách tin cậy"),
    "keys": _("Khóa công khai của bên cấp"),
    "signature": _("Chữ ký số của bên cấp"),
    "disclosures": _("Các trường được tiết lộ khớp với chữ ký"),
    "holder": _("Chữ ký của người giữ giấy tờ (ràng buộc chủ sở hữu)"),
    "share": _("Lượt chia sẻ"),
    "status": _("Trạng thái (thu hồi, tạm đình chỉ)"),
    "validity": _("Thời hạn hiệu lực"),
}
STATUS_LABELS: dict[str, Any] = {
    "valid": _("Còn hiệu lực"),
    "revoked": _("Đã thu hồi"),
    "suspended": _("Tạm đình chỉ"),
    "unknown": _("Chưa kiểm tra được trạng thái"),
}


class VerifyForm(forms.Form):
    presentation = forms.CharField(
        label=_("Nội dung mã QR hoặc đường dẫn chia sẻ"),
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "autocomplete": "off"}),
        max_length=verification.MAX_INPUT,
        error_messages={
            "required": _("Dán nội dung mã QR hoặc đường dẫn chia sẻ cần xác minh."),
            "max_length": _(
                "Nội dung quá dài (tối đa %(limit_value)d ký tự): đây không phải mã QR giấy tờ."
            ),
        },
    )
    verifier = forms.CharField(
        label=_("Đơn vị xác minh (không bắt buộc)"),
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"maxlength": verification.MAX_LABEL}),
        error_messages={
            "null_characters_not_allowed": _(
                "Tên đơn vị xác minh có ký tự điều khiển không được phép."
            )
        },
        help_text=_("Ví dụ: Khách sạn Sông Hàn. Người giữ giấy tờ thấy tên này trong nhật ký."),
    )

    def clean_verifier(self) -> str:
        try:
            return verification.clean_label(self.cleaned_data.get("verifier", ""))
        except ValidationFailed as exc:
            raise forms.ValidationError(str(exc.message), code=exc.code) from exc


def _display(name: str, value: Any) -> dict[str, Any]:
    """One disclosed claim as the page shows it."""
    shown: dict[str, Any] = {"name": name, "label": doctypes.field_label(name), "image": ""}
    if name == "portrait" and isinstance(value, str) and PORTRAIT.fullmatch(value):
        shown["image"] = value
        shown["value"] = ""
    elif name == "sex" and value in Sex.values:
        shown["value"] = Sex(value).label
    elif isinstance(value, bool):
        shown["value"] = _("Có") if value else _("Không")
    elif value is None or value == "":
        shown["value"] = "—"
    elif isinstance(value, dict | list):
        shown["value"] = json.dumps(value, ensure_ascii=False)
    elif isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        try:
            shown["value"] = dt.date.fromisoformat(value).strftime("%d/%m/%Y")
        except ValueError:
            shown["value"] = value
    else:
        shown["value"] = value
    return shown


def _when(epoch: int | None, *, end_of_day: bool = False) -> dt.datetime | None:
    if epoch is None:
        return None
    # ``exp`` is the first second after the last valid day (Vietnam time).
    return dt.datetime.fromtimestamp(epoch - (1 if end_of_day else 0), tz=dt.UTC)


def _title(kind: doctypes.DocType) -> str:
    lang = translation.get_language() or "vi"
    return kind.title_en if lang.startswith("en") else kind.title_vi


def _doc_title(verdict: Verdict) -> str:
    code = verdict.vct.removeprefix(doctypes.VCT_PREFIX) if verdict.vct else ""
    known = doctypes.INTEGRATED.get(code)
    if known is not None:
        return _title(known)
    if verdict.document_number:
        document = (
            Document.objects.select_related("issuer").filter(number=verdict.document_number).first()
        )
        if (
            document is not None
            and document.issuer is not None
            and keys.issuer_id(document.issuer) == verdict.issuer
        ):
            return document.title
    return code.replace("_", " ")


def _context(verdict: Verdict) -> dict[str, Any]:
    checks = [
        {
            "name": check.name,
            "label": CHECK_LABELS.get(check.name, check.name),
            "ok": check.ok,
            "detail": check.detail,
        }
        for check in verdict.checks
    ]
    holder = next((c for c in verdict.checks if c.name == "holder"), None)
    status_check = next((c for c in verdict.checks if c.name == "status"), None)
    keys_cached = next((c.detail for c in verdict.checks if c.name == "keys" and c.ok), "")
    # A withdrawn, expired or foreign share: the verdict and its reason, nothing else
    # (``verification.redacted`` has emptied the verdict already; the templates check too).
    if not verdict.valid and verdict.code in verification.REDACTED:
        return {"verdict": verdict, "redacted": True, "checks": checks}
    return {
        "verdict": verdict,
        "redacted": False,
        "checks": checks,
        "claims": [_display(name, value) for name, value in verdict.claims.items()],
        "doc_title": _doc_title(verdict) if verdict.vct or verdict.document_number else "",
        "issued_at": _when(verdict.issued_at),
        "expires_at": _when(verdict.expires_at, end_of_day=True),
        "status_label": STATUS_LABELS.get(verdict.status, verdict.status),
        "status_offline": status_check is not None and status_check.ok is None,
        "holder_ok": None if holder is None else holder.ok,
        "keys_cached": keys_cached,
    }


def _limited(request: HttpRequest) -> HttpResponse | None:
    """The 429 page when this client address verified too often this minute, else None."""
    wait = verification.throttle(client_ip(request))
    if not wait:
        return None
    response = render(request, "wallet/verify_limited.html", {"wait": wait}, status=429)
    response["Retry-After"] = str(wait)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The public verifier: paste, verify, read the verdict."""
    if request.method != "POST":
        return render(request, "wallet/verify.html", {"form": VerifyForm()})
    limited = _limited(request)
    if limited is not None:
        return limited
    form = VerifyForm(request.POST)
    if not form.is_valid():
        return render(request, "wallet/verify.html", {"form": form}, status=400)
    verdict = verification.verify_presentation(
        form.cleaned_data["presentation"],
        channel_label="page",
        verifier_label=form.cleaned_data["verifier"],
    )
    status = 400 if verdict.code == "malformed" else 200
    return render(
        request,
        "wallet/verify.html",
        {
            "form": VerifyForm(initial={"verifier": form.cleaned_data["verifier"]}),
            **_context(verdict),
        },
        status=status,
    )


@never_cache
@require_GET
def share_link(request: HttpRequest, token: str) -> HttpResponse:
    """A share link: the stored presentation verified now (revoked or expired: the
    failing verdict and no data)."""
    limited = _limited(request)
    if limited is not None:
        return limited
    share, verdict = verification.verify_share(token, channel_label="link")
    if share is None:
        return render(request, "wallet/verify_share.html", {"not_found": True}, status=404)
    return render(request, "wallet/verify_share.html", {"share": share, **_context(verdict)})


def _issuers() -> list[dict[str, Any]]:
    """Our agencies that have signing keys, with their key and status list URLs."""
    agency_ids = IssuerKey.objects.values("agency_id").distinct()
    lists: dict[int, list[int]] = {}
    for agency_id, number in StatusList.objects.filter(agency_id__in=agency_ids).values_list(
        "agency_id", "number"
    ):
        lists.setdefault(agency_id, []).append(number)
    return [
        {
            "iss": keys.issuer_id(agency),
            "name": agency.name,
            "jwks_uri": keys.jwks_uri(agency),
            "status_lists": [
                keys.status_list_uri(agency, n) for n in sorted(lists.get(agency.pk, []))
            ],
        }
        for agency in Agency.objects.filter(pk__in=agency_ids).order_by("code")
    ]


def _offline_strings() -> dict[str, Any]:
    return {
        "valid": _("Hợp lệ"),
        "invalid": _("Không hợp lệ"),
        "malformed": _(
            "Không đọc được dữ liệu: mã QR hoặc chuỗi xác minh bị cắt cụt hoặc sai định dạng."
        ),
        "unknown_issuer": _("Bên cấp không có trong danh sách tin cậy (chưa tải khóa)."),
        "unknown_key": _("Khóa ký không thuộc bên cấp (không có trong JWKS đã lưu)."),
        "bad_signature": _("Chữ ký số của bên cấp không hợp lệ: nội dung đã bị sửa đổi."),
        "tampered": _("Trường được tiết lộ không khớp với chữ ký của bên cấp: đã bị sửa đổi."),
        "no_holder_binding": _("Thiếu chữ ký của người giữ giấy tờ."),
        "wrong_holder": _("Chữ ký của người xuất trình không khớp với người được cấp giấy tờ."),
        "revoked": _("Giấy tờ đã bị cơ quan cấp thu hồi."),
        "suspended": _("Giấy tờ đang bị cơ quan cấp tạm đình chỉ."),
        "expired": _("Giấy tờ đã hết hạn."),
        "presentation_expired": _("Lượt chia sẻ này đã hết hạn."),
        "bad_presentation_time": verifier.FAILURES["bad_presentation_time"],
        "status_invalid": verifier.FAILURES["status_invalid"],
        "status_offline": _("trạng thái chưa kiểm tra (ngoại tuyến)"),
        "status_valid": _("Còn hiệu lực (theo danh sách trạng thái)"),
        "status_cached": _("danh sách trạng thái tải lúc"),
        "keys_loaded": _("Đã lưu khóa của %(n)s bên cấp, tải lúc %(when)s."),
        "keys_none": _("Chưa lưu khóa nào: hãy mở trang này khi có mạng trước."),
        "keys_offline": _("Không có mạng: dùng khóa đã lưu lúc %(when)s."),
        "issuer": _("Bên cấp"),
        "document_number": _("Số giấy tờ"),
        "document_type": _("Loại giấy tờ"),
        "issued_at": _("Ngày cấp"),
        "expires_at": _("Có giá trị đến"),
        "status": _("Trạng thái"),
        "holder": _("Người xuất trình là chủ giấy tờ"),
        "yes": _("Có"),
        "no": _("Không"),
        "disclosed": _("Các trường được chia sẻ"),
    }


@require_GET
def verify_offline(request: HttpRequest) -> HttpResponse:
    """The offline verifier: the page caches our issuers' keys and status lists in the
    browser while online, then verifies a pasted presentation without the network."""
    labels = {name: str(label) for name, label in doctypes.FIELD_LABELS.items()}
    types = {kind.vct: _title(kind) for kind in doctypes.INTEGRATED.values()}
    return render(
        request,
        "wallet/verify_offline.html",
        {
            "offline_config": {
                "issuers": _issuers(),
                "labels": labels,
                "types": types,
                "sexes": {value: str(label) for value, label in Sex.choices},
                "strings": {k: str(v) for k, v in _offline_strings().items()},
            },
            "online_url": reverse("wallet:verify"),
        },
    )
