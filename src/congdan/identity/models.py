"""e-ID accounts, their levels and the records around logging in.

One ``EidAccount`` per person (and so per personal ID number), tied to a ``core.User``
whose username is the ID number. The account's status and level decide what the user
may do; ``core.User.is_active`` is false only once the account is deactivated.

OIDC relying parties are django-oauth-toolkit ``Application`` rows; ``ClientPolicy``
adds what an administrator allows them (scopes, required level, sector), ``Consent``
remembers what a citizen granted, ``SigningKey`` holds the ID-token keys.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class EidLevel(models.IntegerChoices):
    LEVEL1 = 1, _("Mức độ 1")
    LEVEL2 = 2, _("Mức độ 2")


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xác thực số điện thoại")
    ACTIVE = "active", _("Đang hoạt động")
    LOCKED = "locked", _("Đã khóa")
    SUSPENDED = "suspended", _("Tạm dừng")
    DEACTIVATED = "deactivated", _("Đã hủy (công dân đã chết)")


def portrait_path(instance: models.Model, filename: str) -> str:
    # Never the ID number or the uploaded name in the path: a random name only.
    return f"portraits/{uuid.uuid4().hex}.jpg"


class EidAccount(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="eid"
    )
    person = models.OneToOneField(
        "registry.Person", on_delete=models.PROTECT, related_name="eid_account"
    )
    # Stable public identifier: the OIDC subject for clients allowed the ID number.
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    level = models.PositiveSmallIntegerField(
        _("mức độ"), choices=EidLevel.choices, default=EidLevel.LEVEL1
    )
    status = models.CharField(
        _("trạng thái"), max_length=12, choices=AccountStatus.choices, db_index=True
    )
    status_reason = models.CharField(_("lý do"), max_length=255, blank=True)
    phone = models.CharField(_("số điện thoại"), max_length=15)
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    portrait = models.FileField(_("ảnh chân dung"), upload_to=portrait_path, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    activated_at = models.DateTimeField(null=True, blank=True)
    level2_at = models.DateTimeField(null=True, blank=True)
    status_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("tài khoản định danh điện tử")
        verbose_name_plural = _("tài khoản định danh điện tử")
        constraints = [
            models.CheckConstraint(condition=Q(level__in=[1, 2]), name="eid_level_1_or_2"),
        ]

    def __str__(self) -> str:
        return f"e-ID {self.user.get_username()} ({self.get_status_display()})"

    @property
    def is_usable(self) -> bool:
        return self.status == AccountStatus.ACTIVE

    def set_status(self, status: str, reason: str = "", *, also: tuple[str, ...] = ()) -> str:
        """Change the status (with its reason and time) and save it with the fields named
        in ``also``; returns the previous status. The caller holds the row lock and
        records the change."""
        before = self.status
        self.status = status
        self.status_reason = reason[:255]
        self.status_changed_at = timezone.now()
        self.save(update_fields=["status", "status_reason", "status_changed_at", *also])
        return before


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Chờ xác thực")
    APPROVED = "approved", _("Đã nâng mức độ 2")
    REJECTED = "rejected", _("Bị từ chối")
    CANCELLED = "cancelled", _("Đã hủy")


class Level2Verification(models.Model):
    """A request to reach level 2 and, once decided, the in-person verification record.

    Biometric matching is outside this project: the officer's attestation is the
    evidence (``evidence`` says so), with the portrait captured at the counter stored.
    """

    account = models.ForeignKey(EidAccount, on_delete=models.PROTECT, related_name="level2")
    # Where the citizen goes (a current commune): the queue of that jurisdiction's police.
    commune = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        max_length=10,
        choices=VerificationStatus.choices,
        default=VerificationStatus.PENDING,
        db_index=True,
    )
    requested_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    agency = models.ForeignKey(
        "core.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    card = models.ForeignKey(
        "registry.IdentityCard", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    card_number = models.CharField(max_length=12, blank=True)
    card_issue_date = models.DateField(null=True, blank=True)
    captured_portrait = models.FileField(upload_to=portrait_path, blank=True)
    evidence = models.CharField(max_length=40, default="officer_attestation")
    attestation = models.TextField(blank=True)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        verbose_name = _("yêu cầu nâng mức độ 2")
        verbose_name_plural = _("yêu cầu nâng mức độ 2")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=Q(status="pending"),
                name="eid_one_pending_level2",
            )
        ]
        indexes = [models.Index(fields=["commune", "status"], name="eid_level2_queue")]

    def __str__(self) -> str:
        return f"{self.account_id} → level 2 ({self.status})"


class CodePurpose(models.TextChoices):
    REGISTER = "register", _("Đăng ký tài khoản")
    LOGIN = "login", _("Đăng nhập")
    RESET = "reset", _("Đặt lại mật khẩu")
    PHONE = "phone", _("Đổi số điện thoại")
    CONSENT = "consent", _("Đồng ý nộp hồ sơ tại một cửa")


class OneTimeCode(models.Model):
    """A one-time code sent to a phone. Only an HMAC of the code is stored."""

    account = models.ForeignKey(EidAccount, on_delete=models.CASCADE, related_name="codes")
    purpose = models.CharField(max_length=10, choices=CodePurpose.choices)
    phone = models.CharField(max_length=15)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    consumed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["account", "purpose", "created_at"], name="eid_code_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.account_id}"


class LoginOutcome(models.TextChoices):
    SUCCESS = "success", _("Thành công")
    BAD_PASSWORD = "bad_password", _("Sai mật khẩu")
    BAD_CODE = "bad_code", _("Sai mã xác thực")
    LOCKED_OUT = "locked_out", _("Bị tạm khóa do nhập sai nhiều lần")
    ACCOUNT_LOCKED = "account_locked", _("Tài khoản đã khóa")


class LoginEvent(models.Model):
    """The citizen's login history (successes and failures on their account)."""

    account = models.ForeignKey(EidAccount, on_delete=models.CASCADE, related_name="logins")
    at = models.DateTimeField(default=timezone.now)
    outcome = models.CharField(max_length=16, choices=LoginOutcome.choices)
    method = models.CharField(max_length=20, blank=True)  # "pwd+totp", "pwd+sms"
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["account", "at"], name="eid_login_history")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.outcome} {self.at:%Y-%m-%d %H:%M}"


class UserSession(models.Model):
    """A logged-in browser session the citizen can see and end."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tracked_sessions"
    )
    session_key = models.CharField(max_length=40, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        indexes = [models.Index(fields=["user", "ended_at"], name="eid_session_user")]

    def __str__(self) -> str:
        return f"session of {self.user_id} from {self.created_at:%Y-%m-%d %H:%M}"


class ClientPolicy(models.Model):
    """What an administrator allows a relying party (a DOT Application)."""

    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="policy",
    )
    organisation = models.CharField(_("tổ chức"), max_length=255, blank=True)
    logo = models.FileField(_("biểu tượng"), upload_to="client-logos/", blank=True)
    allowed_scopes = models.JSONField(_("phạm vi được phép"), default=list)
    required_level = models.PositiveSmallIntegerField(
        _("mức độ tài khoản yêu cầu"), choices=EidLevel.choices, default=EidLevel.LEVEL1
    )
    # Pairwise subjects are derived per sector; clients of one organisation share one.
    sector_identifier = models.CharField(_("định danh khu vực (sector)"), max_length=255)
    # First-party clients (the portal itself) skip the consent page.
    first_party = models.BooleanField(_("ứng dụng của hệ thống"), default=False)
    # The agency a member system acts for: required for the ``wallet:issue`` scope (it
    # issues documents in that agency's name, signed with that agency's key).
    agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("cơ quan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        verbose_name = _("chính sách ứng dụng kết nối")
        verbose_name_plural = _("chính sách ứng dụng kết nối")

    def __str__(self) -> str:
        return f"policy of {self.application_id}"


class Consent(models.Model):
    """A citizen's consent to give a client a set of scopes; remembered until revoked."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="consents"
    )
    application = models.ForeignKey(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="consents",
    )
    scopes = models.JSONField(default=list)  # sorted list of scope names
    granted_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-granted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "application"],
                condition=Q(revoked_at__isnull=True),
                name="eid_one_live_consent",
            )
        ]

    def __str__(self) -> str:
        return f"consent {self.user_id} → {self.application_id}"


class SigningKey(models.Model):
    """An RSA key that signs ID tokens. The newest active key signs; retired keys stay
    published in the JWKS until ``retire_after`` (their last tokens have expired)."""

    kid = models.CharField(max_length=64, unique=True)
    private_pem = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    retired_at = models.DateTimeField(null=True, blank=True)
    retire_after = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.kid


class ReportStatus(models.TextChoices):
    OPEN = "open", _("Chờ xử lý")
    RESOLVED = "resolved", _("Đã điều chỉnh")
    REJECTED = "rejected", _("Không điều chỉnh")


class CorrectionRequest(models.Model):
    """A citizen's report that their registry data is wrong ("báo sai thông tin").

    It lands in the queue of the police of the citizen's residence commune; an officer
    (or a steward, who may correct) resolves it. The correction itself is a registry
    service (``registry.services.correct_person``), never this record.
    """

    account = models.ForeignKey(EidAccount, on_delete=models.PROTECT, related_name="reports")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    commune = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    fields = models.JSONField(_("thông tin sai"), default=list)
    message = models.TextField(_("nội dung"))
    status = models.CharField(
        max_length=10, choices=ReportStatus.choices, default=ReportStatus.OPEN, db_index=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(_("kết quả xử lý"), blank=True)

    class Meta:
        verbose_name = _("phản ánh sai thông tin")
        verbose_name_plural = _("phản ánh sai thông tin")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["commune", "status"], name="eid_report_queue")]

    def __str__(self) -> str:
        return f"report {self.pk} ({self.status})"
