"""Result documents in the citizen's wallet (kho dữ liệu điện tử cá nhân).

An agency issues a document to a person when a procedure ends (a birth certificate, a
residence confirmation …). Its number is a DigiLocker-style URI
``<issuer agency code>-<doc_type>-<serial>``; its content is signed (JWS compact, RS256,
``identity.keys``) so that anyone holding the signed JSON can check it was issued here
and has not been changed. A document is never deleted: revoking it keeps the row.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


class DocumentKind(models.TextChoices):
    ISSUED = "issued", _("Do cơ quan cấp")
    UPLOADED = "uploaded", _("Bản chụp do công dân tải lên")


class DocumentStatus(models.TextChoices):
    """Stored status. "Expired" is not stored: it follows from ``valid_until``
    (``Document.effective_status``)."""

    VALID = "valid", _("Còn hiệu lực")
    SUSPENDED = "suspended", _("Tạm đình chỉ")
    REVOKED = "revoked", _("Đã thu hồi")


# What pages and filters show, including the derived "expired".
EXPIRED = "expired"
STATUS_LABELS = {**dict(DocumentStatus.choices), EXPIRED: _("Hết hạn")}


class CredentialFormat(models.TextChoices):
    SD_JWT_VC = "dc+sd-jwt", _("SD-JWT VC (tiết lộ chọn lọc)")
    JWS = "jws", _("JWS (toàn bộ nội dung)")


class UploadState(models.TextChoices):
    UNVERIFIED = "unverified", _("Chưa xác thực")
    VERIFIED = "verified", _("Đã xác thực")
    REJECTED = "rejected", _("Không xác thực được")


class IssuerKey(models.Model):
    """An agency's document-signing key (ES256, P-256). The newest key without
    ``retired_at`` signs; every key, retired or not, stays in the agency's JWKS so that
    documents it signed keep verifying (docs/wallet.md, decision 0009)."""

    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, related_name="wallet_keys")
    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    public_jwk = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    # A compromised key leaves the JWKS at once: documents it signed stop verifying
    # (``unknown_key``) and must be issued again.
    compromised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("khóa ký giấy tờ")
        verbose_name_plural = _("khóa ký giấy tờ")
        ordering = ["agency", "-created_at", "-id"]

    def __str__(self) -> str:
        return self.kid


class StatusList(models.Model):
    """A Token Status List (draft-ietf-oauth-status-list) of one issuer: 2 bits per
    document (0 valid, 1 revoked, 2 suspended), at a random index."""

    agency = models.ForeignKey(
        "core.Agency", on_delete=models.PROTECT, related_name="wallet_status_lists"
    )
    number = models.PositiveIntegerField()
    size = models.PositiveIntegerField(default=131072)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["agency", "number"], name="wallet_statuslist_number")
        ]

    def __str__(self) -> str:
        return f"{self.agency_id}/{self.number}"


def upload_path(instance: Document, filename: str) -> str:
    # Never the uploaded name: a random name under the holder's folder.
    return f"wallet/{instance.holder_id}/{secrets.token_hex(16)}"


class Document(models.Model):
    kind = models.CharField(
        _("nguồn"), max_length=8, choices=DocumentKind.choices, default=DocumentKind.ISSUED
    )
    # Integrated documents (ID card, health insurance card, driving licence …) are shown
    # like cards on a phone.
    integrated = models.BooleanField(_("giấy tờ tích hợp"), default=False)
    holder = models.ForeignKey(
        "registry.Person",
        verbose_name=_("người được cấp"),
        on_delete=models.PROTECT,
        related_name="documents",
    )
    # A code from the procedure spec, e.g. "birth_certificate".
    doc_type = models.CharField(_("loại giấy tờ"), max_length=40)
    title_vi = models.CharField(_("tên giấy tờ (tiếng Việt)"), max_length=200)
    title_en = models.CharField(_("tên giấy tờ (tiếng Anh)"), max_length=200)
    number = models.CharField(_("số giấy tờ"), max_length=120, unique=True)
    # None for an uploaded scan: ``claimed_issuer`` is what the paper says.
    issuer = models.ForeignKey(
        "core.Agency",
        verbose_name=_("cơ quan cấp"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    claimed_issuer = models.CharField(_("cơ quan cấp (ghi trên giấy)"), max_length=200, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người cấp"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    issued_at = models.DateTimeField(_("ngày cấp"), default=timezone.now)
    valid_until = models.DateField(_("có giá trị đến"), null=True, blank=True)
    # The document's fields (child's name, ID number, card number …), JSON values only.
    data = models.JSONField(_("nội dung"), default=dict, blank=True)
    # Where it came from, e.g. the dossier code.
    source_ref = models.CharField(_("hồ sơ nguồn"), max_length=80, blank=True)
    status = models.CharField(
        _("trạng thái"),
        max_length=10,
        choices=DocumentStatus.choices,
        default=DocumentStatus.VALID,
    )
    # The issued credential as the wallet keeps it: SD-JWT VC with every disclosure
    # (``<JWT>~<d1>~…~``) or a compact JWS; empty for an uploaded scan.
    credential = models.TextField(_("chứng thư số"), blank=True)
    credential_format = models.CharField(
        max_length=10, choices=CredentialFormat.choices, blank=True
    )
    status_list = models.ForeignKey(
        StatusList, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status_index = models.PositiveIntegerField(null=True, blank=True)
    suspended_at = models.DateTimeField(_("ngày tạm đình chỉ"), null=True, blank=True)
    suspended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    suspension_reason = models.CharField(_("lý do tạm đình chỉ"), max_length=300, blank=True)
    # An uploaded scan: the file (stored under a random name), what it is, and whether
    # an officer has checked it against the original or the registry.
    file = models.FileField(_("tệp"), upload_to=upload_path, blank=True)
    content_type = models.CharField(max_length=40, blank=True)
    file_size = models.PositiveIntegerField(null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    upload_state = models.CharField(
        _("xác thực bản chụp"), max_length=10, choices=UploadState.choices, blank=True
    )
    checked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    checked_at = models.DateTimeField(null=True, blank=True)
    check_note = models.CharField(_("ghi chú xác thực"), max_length=300, blank=True)
    revoked_at = models.DateTimeField(_("ngày thu hồi"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    revocation_reason = models.CharField(_("lý do thu hồi"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("giấy tờ điện tử")
        verbose_name_plural = _("giấy tờ điện tử")
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["holder", "issued_at"], name="wallet_doc_holder"),
            # A status list is built from its few non-valid entries: without this index
            # that read scans every document of the list (65,536 when full).
            models.Index(
                fields=["status_list", "status_index"],
                condition=~models.Q(status="valid"),
                name="wallet_doc_not_valid",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="valid", revoked_at__isnull=True)
                | models.Q(status="suspended", suspended_at__isnull=False)
                | models.Q(status="revoked", revoked_at__isnull=False),
                name="wallet_doc_status_dates",
            ),
            models.UniqueConstraint(
                fields=["status_list", "status_index"], name="wallet_doc_status_index"
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def title(self) -> str:
        """The title in the active language (Vietnamese unless English is active)."""
        lang = translation.get_language() or "vi"
        return self.title_en if lang.startswith("en") and self.title_en else self.title_vi

    @property
    def is_valid(self) -> bool:
        return self.effective_status == DocumentStatus.VALID

    @property
    def is_expired(self) -> bool:
        return self.valid_until is not None and self.valid_until < timezone.localdate()

    @property
    def effective_status(self) -> str:
        """valid, suspended, revoked, or expired (a valid document past ``valid_until``)."""
        if self.status == DocumentStatus.VALID and self.is_expired:
            return EXPIRED
        return str(self.status)

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.effective_status, self.effective_status))


class Share(models.Model):
    """A time-limited share of chosen fields of a document: a link (``/v/<token>/``) and,
    when it fits, a QR code carrying the presentation itself for offline checking."""

    token = models.CharField(max_length=64, unique=True)
    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="shares")
    # Who shared: the holder, or a parent sharing a minor's document.
    shared_by = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    claims = models.JSONField(_("trường được chia sẻ"), default=list)
    # ``<issuer JWT>~<chosen disclosures>~<KB-JWT>``, bound to this share (aud = its URL).
    presentation = models.TextField()
    fits_qr = models.BooleanField(default=False)
    note = models.CharField(_("chia sẻ cho"), max_length=120, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("chia sẻ giấy tờ")
        verbose_name_plural = _("chia sẻ giấy tờ")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["document", "created_at"], name="wallet_share_doc")]

    def __str__(self) -> str:
        return f"share {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class EventKind(models.TextChoices):
    ISSUED = "issued", _("Cấp giấy tờ")
    UPLOADED = "uploaded", _("Tải lên bản chụp")
    UPLOAD_VERIFIED = "upload_verified", _("Xác thực bản chụp")
    UPLOAD_REJECTED = "upload_rejected", _("Không xác thực được bản chụp")
    SUSPENDED = "suspended", _("Tạm đình chỉ")
    REINSTATED = "reinstated", _("Khôi phục hiệu lực")
    REVOKED = "revoked", _("Thu hồi")
    SHARED = "shared", _("Chia sẻ")
    SHARE_REVOKED = "share_revoked", _("Thu hồi chia sẻ")
    VERIFIED = "verified", _("Được xác minh")
    PULLED = "pulled", _("Tổ chức lấy giấy tờ (có đồng ý)")
    ATTACHED = "attached", _("Dùng trong hồ sơ thủ tục")
    REFRESHED = "refreshed", _("Cập nhật chứng thư (đủ tuổi mới)")


class DocumentEvent(models.Model):
    """A document's history as its holder sees it (issue, status changes, shares,
    verifications …). Accesses by others are also in the access log (data tracker)."""

    document = models.ForeignKey(Document, on_delete=models.PROTECT, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    # Who: an officer's username, an organisation, "verifier" … never a secret.
    actor_label = models.CharField(max_length=150, blank=True)
    share = models.ForeignKey(
        Share, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["document", "at"], name="wallet_event_doc")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d}"


class PullConsent(models.Model):
    """A citizen lets a requester's system (a client-credentials OIDC client) pull their
    documents of the given types, for a purpose, until a date (DigiLocker's consent)."""

    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="wallet_consents"
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    doc_types = models.JSONField(_("loại giấy tờ"), default=list)
    purpose = models.CharField(_("mục đích"), max_length=200)
    granted_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at", "-id"]

    def __str__(self) -> str:
        return f"consent {self.pk}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()


class TrustedIssuer(models.Model):
    """Another installation's issuer our verifier accepts, with its JWKS as last fetched
    (used when the issuer cannot be reached: offline verification). Our own agencies are
    trusted without a row."""

    issuer = models.URLField(_("định danh bên cấp (iss)"), max_length=300, unique=True)
    name = models.CharField(_("tên"), max_length=200)
    active = models.BooleanField(default=True)
    jwks = models.JSONField(default=dict, blank=True)
    jwks_fetched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bên cấp tin cậy")
        verbose_name_plural = _("bên cấp tin cậy")

    def __str__(self) -> str:
        return self.name


class StatusListCache(models.Model):
    """A status list token fetched from another installation, for offline checking."""

    uri = models.URLField(max_length=400, unique=True)
    token = models.TextField()
    fetched_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.uri
