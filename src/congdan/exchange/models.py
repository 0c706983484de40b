"""Member organisations, the data-service catalogue, access grants, citizens' consents,
relationships for change notifications, webhooks and batch jobs.

Identifiers follow X-Road: a member is ``INSTANCE/CLASS/CODE`` (``VN/COM/VCB``), a
subsystem ``INSTANCE/CLASS/CODE/SUBSYSTEM`` (``VN/COM/VCB/ekyc``); the GovStack
``Information-Mediator-Client`` header carries the same string.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class MemberClass(models.TextChoices):
    GOV = "GOV", _("Cơ quan nhà nước")
    COM = "COM", _("Doanh nghiệp")
    NGO = "NGO", _("Tổ chức phi lợi nhuận")


class MemberKind(models.TextChoices):
    MINISTRY = "ministry", _("Bộ, ngành")
    PROVINCE = "province", _("Tỉnh, thành phố")
    INVESTIGATION = "investigation", _("Cơ quan điều tra")
    BANK = "bank", _("Ngân hàng, tổ chức tín dụng")
    TELECOM = "telecom", _("Nhà mạng viễn thông")
    AIRLINE = "airline", _("Hãng hàng không")
    INSURER = "insurer", _("Bảo hiểm")
    OTHER = "other", _("Khác")


class MemberStatus(models.TextChoices):
    ACTIVE = "active", _("Đang hoạt động")
    SUSPENDED = "suspended", _("Tạm ngừng")
    TERMINATED = "terminated", _("Đã chấm dứt")


class Member(models.Model):
    """An organisation that exchanges data with the registry (a ministry, a bank …)."""

    code = models.SlugField(_("mã thành viên"), max_length=40, unique=True)
    member_class = models.CharField(
        _("nhóm thành viên"), max_length=3, choices=MemberClass.choices, default=MemberClass.GOV
    )
    kind = models.CharField(_("loại"), max_length=16, choices=MemberKind.choices)
    name = models.CharField(_("tên tổ chức"), max_length=255)
    status = models.CharField(
        _("trạng thái"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("cơ quan trong hệ thống"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tổ chức thành viên")
        verbose_name_plural = _("tổ chức thành viên")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def identifier(self) -> str:
        return f"{settings.EXCHANGE_INSTANCE}/{self.member_class}/{self.code}"

    @property
    def is_active(self) -> bool:
        return self.status == MemberStatus.ACTIVE


class Contact(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("họ tên"), max_length=120)
    role = models.CharField(_("vai trò"), max_length=120, blank=True)
    email = models.EmailField(_("thư điện tử"), blank=True)
    phone = models.CharField(_("điện thoại"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("người liên hệ")
        verbose_name_plural = _("người liên hệ")

    def __str__(self) -> str:
        return self.name


class Subsystem(models.Model):
    """One information system of a member; it holds the machine credentials (an OAuth2
    client-credentials application of our provider)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="subsystems")
    code = models.SlugField(_("mã hệ thống"), max_length=40)
    name = models.CharField(_("tên hệ thống"), max_length=255)
    status = models.CharField(
        _("trạng thái"), max_length=12, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )
    application = models.OneToOneField(
        settings.OAUTH2_PROVIDER_APPLICATION_MODEL,
        verbose_name=_("ứng dụng (client credentials)"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="exchange_subsystem",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hệ thống thành viên")
        verbose_name_plural = _("hệ thống thành viên")
        constraints = [
            models.UniqueConstraint(fields=["member", "code"], name="exchange_subsystem_code")
        ]

    def __str__(self) -> str:
        return f"{self.member.code}/{self.code}"

    @property
    def identifier(self) -> str:
        return f"{self.member.identifier}/{self.code}"


class ServiceKind(models.TextChoices):
    LOOKUP = "lookup", _("Tra cứu")
    VERIFY = "verify", _("Xác thực (khớp/không khớp)")
    EVENTS = "events", _("Thông báo thay đổi")


class DataService(models.Model):
    """A data service of the catalogue (``person-basic``, ``verify-identity`` …)."""

    code = models.SlugField(_("mã dịch vụ"), max_length=40, unique=True)
    kind = models.CharField(_("loại"), max_length=8, choices=ServiceKind.choices)
    name = models.CharField(_("tên dịch vụ"), max_length=200)
    description = models.TextField(_("mô tả"), blank=True)
    fields = models.JSONField(_("trường dữ liệu có thể trả về"), default=list)
    active = models.BooleanField(_("đang cung cấp"), default=True)

    class Meta:
        verbose_name = _("dịch vụ dữ liệu")
        verbose_name_plural = _("dịch vụ dữ liệu")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class ServicePurpose(models.Model):
    """A purpose a service may be used for, with its legal basis."""

    service = models.ForeignKey(DataService, on_delete=models.CASCADE, related_name="purposes")
    code = models.SlugField(_("mã mục đích"), max_length=60)
    name = models.CharField(_("mục đích"), max_length=200)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=300)
    requires_consent = models.BooleanField(_("cần sự đồng ý của công dân"), default=False)
    # Investigations: the access stays hidden from the citizen's data tracker this many
    # days (0: shown at once).
    hidden_days = models.PositiveIntegerField(_("số ngày ẩn khỏi công dân"), default=0)

    class Meta:
        verbose_name = _("mục đích sử dụng")
        verbose_name_plural = _("mục đích sử dụng")
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="exchange_purpose_code")
        ]

    def __str__(self) -> str:
        return f"{self.service.code}:{self.code}"


class AccessGrant(models.Model):
    """Organisation × service × purpose × fields, with validity dates."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="grants")
    # Empty: every subsystem of the member.
    subsystem = models.ForeignKey(
        Subsystem, on_delete=models.PROTECT, null=True, blank=True, related_name="grants"
    )
    service = models.ForeignKey(DataService, on_delete=models.PROTECT, related_name="grants")
    purpose = models.ForeignKey(ServicePurpose, on_delete=models.PROTECT, related_name="grants")
    fields = models.JSONField(_("trường được phép"), default=list)
    valid_from = models.DateField(_("hiệu lực từ"), default=timezone.localdate)
    valid_until = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    note = models.CharField(_("ghi chú / văn bản cho phép"), max_length=300, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(_("thu hồi lúc"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(_("lý do thu hồi"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("quyền khai thác dữ liệu")
        verbose_name_plural = _("quyền khai thác dữ liệu")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["member", "service"], name="exchange_grant_member")]

    def __str__(self) -> str:
        return f"{self.member.code} → {self.service.code} ({self.purpose.code})"

    def is_valid_on(self, day: object) -> bool:
        return (
            self.revoked_at is None
            and self.valid_from <= day  # type: ignore[operator]  # a date
            and (self.valid_until is None or day <= self.valid_until)  # type: ignore[operator]
        )


class Consent(models.Model):
    """A citizen's consent for a member to use a service for a purpose, for a period."""

    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="consents")
    service = models.ForeignKey(DataService, on_delete=models.PROTECT, related_name="+")
    purpose = models.ForeignKey(ServicePurpose, on_delete=models.PROTECT, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(_("hiệu lực đến"))
    revoked_at = models.DateTimeField(_("rút lại lúc"), null=True, blank=True)

    class Meta:
        verbose_name = _("sự đồng ý chia sẻ dữ liệu")
        verbose_name_plural = _("sự đồng ý chia sẻ dữ liệu")
        ordering = ["-granted_at"]
        indexes = [
            models.Index(fields=["person", "member", "purpose"], name="exchange_consent_lookup")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} → {self.member.code} ({self.purpose.code})"

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.valid_until > timezone.now()


class Relationship(models.Model):
    """A member's recorded relationship with a person (a customer, an insured person …):
    what entitles it to change notifications about that person."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="relationships")
    person = models.ForeignKey("registry.Person", on_delete=models.PROTECT, related_name="+")
    reference = models.CharField(_("mã khách hàng/hợp đồng"), max_length=80, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("quan hệ với công dân")
        verbose_name_plural = _("quan hệ với công dân")
        constraints = [
            models.UniqueConstraint(
                fields=["member", "person"],
                condition=Q(ended_at__isnull=True),
                name="exchange_relationship_active",
            )
        ]
        indexes = [models.Index(fields=["person"], name="exchange_relationship_person")]

    def __str__(self) -> str:
        return f"{self.member.code} ~ {self.person_id}"


class WebhookEndpoint(models.Model):
    """Where a member receives signed change notifications."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="webhooks")
    url = models.URLField(_("địa chỉ nhận"), max_length=500)
    # HMAC-SHA256 key of the ``X-Congdan-Signature`` header; shown once when created.
    secret = models.CharField(max_length=128)
    active = models.BooleanField(_("đang dùng"), default=True)
    # The last civil event considered for this endpoint (events after it are pending).
    cursor = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("địa chỉ nhận thông báo")
        verbose_name_plural = _("địa chỉ nhận thông báo")

    def __str__(self) -> str:
        return f"{self.member.code} → {self.url}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Đang chờ gửi")
    DELIVERED = "delivered", _("Đã gửi")
    FAILED = "failed", _("Gửi không thành công (hết số lần thử)")


class Delivery(models.Model):
    """One change notification to one endpoint, with its retries."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="+")
    event_id = models.BigIntegerField()  # registry.CivilEvent id
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("lượt gửi thông báo")
        verbose_name_plural = _("lượt gửi thông báo")
        constraints = [
            models.UniqueConstraint(fields=["endpoint", "event_id"], name="exchange_delivery_once")
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=Q(status="pending"),
                name="exchange_delivery_due",
            )
        ]

    def __str__(self) -> str:
        return f"event {self.event_id} → {self.endpoint_id} ({self.status})"


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang xử lý")
    DONE = "done", _("Hoàn thành")
    FAILED = "failed", _("Lỗi")


class BatchJob(models.Model):
    """A batch verification: uploaded rows → background job → downloadable result."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    subsystem = models.ForeignKey(Subsystem, on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey(DataService, on_delete=models.PROTECT, related_name="+")
    purpose = models.ForeignKey(ServicePurpose, on_delete=models.PROTECT, related_name="+")
    input_format = models.CharField(max_length=4)  # csv | json
    input_file = models.FileField(upload_to="exchange/batch/in/")
    result_file = models.FileField(upload_to="exchange/batch/out/", blank=True)
    status = models.CharField(max_length=8, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    matched = models.PositiveIntegerField(default=0)
    error = models.CharField(max_length=300, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("lô xác thực")
        verbose_name_plural = _("lô xác thực")
        indexes = [models.Index(fields=["status", "created_at"], name="exchange_job_queue")]

    def __str__(self) -> str:
        return str(self.public_id)


class RateCounter(models.Model):
    """Request counts per key and window: the rate limiter's embedded (database) store."""

    key = models.CharField(max_length=120)
    window_start = models.BigIntegerField()  # seconds since the epoch
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["key", "window_start"], name="exchange_rate_window")
        ]

    def __str__(self) -> str:
        return f"{self.key}@{self.window_start}: {self.count}"


class RateLimit(models.Model):
    """Requests per minute for a member on a service (no row: the default)."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="rate_limits")
    service = models.ForeignKey(DataService, on_delete=models.CASCADE, related_name="+")
    per_minute = models.PositiveIntegerField(_("số yêu cầu mỗi phút"))

    class Meta:
        verbose_name = _("giới hạn tần suất")
        verbose_name_plural = _("giới hạn tần suất")
        constraints = [
            models.UniqueConstraint(fields=["member", "service"], name="exchange_rate_limit")
        ]

    def __str__(self) -> str:
        return f"{self.member_id}/{self.service_id}: {self.per_minute}/min"
