"""Dossiers (hồ sơ), linked-procedure bundles, their timeline and attachments.

The procedures themselves are data (``procedures/*.yaml``, see ``specs.py``); a dossier
names its procedure by code. A bundle (liên thông) is one application whose parts are
ordinary dossiers, each in the queue of its own agency, sharing the bundle's deadline.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DossierStatus(models.TextChoices):
    DRAFT = "draft", _("Bản nháp")
    WAITING = "waiting", _("Chờ thủ tục trước")
    AWAITING_PAYMENT = "awaiting_payment", _("Chờ thanh toán")
    SUBMITTED = "submitted", _("Đã nộp")
    RECEIVED = "received", _("Đã tiếp nhận")
    IN_PROCESSING = "in_processing", _("Đang xử lý")
    SUPPLEMENT_REQUESTED = "supplement_requested", _("Yêu cầu bổ sung")
    SUPPLEMENTED = "supplemented", _("Đã bổ sung")
    APPROVED = "approved", _("Đã phê duyệt")
    REJECTED = "rejected", _("Từ chối")
    RESULT_ISSUED = "result_issued", _("Đã trả kết quả")
    WITHDRAWN = "withdrawn", _("Đã rút")
    CANCELLED = "cancelled", _("Đã hủy")


# Statuses in which an agency still owes the citizen an answer (the deadline runs,
# except while a supplement is awaited).
OPEN_STATUSES = (
    DossierStatus.SUBMITTED,
    DossierStatus.RECEIVED,
    DossierStatus.IN_PROCESSING,
    DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.SUPPLEMENTED,
)
FINAL_STATUSES = (
    DossierStatus.REJECTED,
    DossierStatus.RESULT_ISSUED,
    DossierStatus.WITHDRAWN,
    DossierStatus.CANCELLED,
)


class Channel(models.TextChoices):
    ONLINE = "online", _("Trực tuyến")
    COUNTER = "counter", _("Tại bộ phận một cửa")


class BundleStatus(models.TextChoices):
    IN_PROGRESS = "in_progress", _("Đang giải quyết")
    COMPLETED = "completed", _("Hoàn thành")
    PARTLY_REJECTED = "partly_rejected", _("Hoàn thành một phần")
    REJECTED = "rejected", _("Từ chối")
    WITHDRAWN = "withdrawn", _("Đã rút")


class Bundle(models.Model):
    code = models.CharField(_("mã hồ sơ liên thông"), max_length=24, unique=True)
    bundle_code = models.CharField(_("nhóm thủ tục liên thông"), max_length=60)
    applicant = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("người nộp")
    )
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    status = models.CharField(
        _("trạng thái"), max_length=16, choices=BundleStatus.choices, default="in_progress"
    )
    data = models.JSONField(default=dict)
    submitted_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField(_("hạn giải quyết"))
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hồ sơ liên thông")
        verbose_name_plural = _("hồ sơ liên thông")
        ordering = ["-submitted_at"]

    def __str__(self) -> str:
        return self.code


class Dossier(models.Model):
    code = models.CharField(_("mã hồ sơ"), max_length=24, unique=True)
    procedure_code = models.CharField(_("thủ tục"), max_length=60, db_index=True)
    bundle = models.ForeignKey(
        Bundle, on_delete=models.PROTECT, null=True, blank=True, related_name="dossiers"
    )
    part_index = models.PositiveSmallIntegerField(default=0)
    applicant = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, related_name="+", verbose_name=_("người nộp")
    )
    applicant_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    # The person the dossier is about, when not the applicant (child, deceased, guest).
    subject = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    # Counter mode: the officer who filed for the citizen, and when the citizen's code
    # confirmed their consent.
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent_confirmed_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        _("trạng thái"), max_length=24, choices=DossierStatus.choices, default="draft"
    )
    data = models.JSONField(default=dict)
    # field name -> prefill source, for the fields the state filled in.
    prefilled = models.JSONField(default=dict)
    # Where the dossier is handled: agency kind, level and unit (commune or province).
    agency_kind = models.CharField(max_length=32)
    unit = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, related_name="+", null=True
    )
    agency = models.ForeignKey(
        "core.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    step_index = models.PositiveSmallIntegerField(default=0)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fee_amount = models.PositiveBigIntegerField(_("lệ phí (đồng)"), default=0)
    fee_detail = models.JSONField(default=dict)
    payment_reference = models.CharField(max_length=40, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    due_date = models.DateField(_("hạn giải quyết"), null=True, blank=True)
    paused_at = models.DateTimeField(null=True, blank=True)
    paused_working_days = models.PositiveIntegerField(default=0)
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("lý do"), blank=True)
    supplement_request = models.TextField(_("nội dung yêu cầu bổ sung"), blank=True)
    outputs = models.JSONField(default=dict)
    result_document = models.ForeignKey(
        "wallet.Document", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    idempotency_key = models.CharField(max_length=64, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rating_comment = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hồ sơ")
        verbose_name_plural = _("hồ sơ")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["agency_kind", "unit", "status"], name="proc_dossier_queue"),
            models.Index(fields=["applicant", "created_at"], name="proc_dossier_applicant"),
            models.Index(fields=["status", "due_date"], name="proc_dossier_due"),
            # The monitoring facts of a day read dossiers by these times.
            models.Index(fields=["submitted_at"], name="proc_dossier_submitted"),
            models.Index(fields=["decided_at"], name="proc_dossier_decided"),
            models.Index(fields=["updated_at"], name="proc_dossier_updated"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["applicant_user", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="proc_dossier_idempotent",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="proc_dossier_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return (
            self.is_open
            and self.paused_at is None
            and self.due_date is not None
            and self.due_date < timezone.localdate()
        )


class DossierEvent(models.Model):
    """One line of the timeline the citizen and the officers see."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    agency_name = models.CharField(max_length=255, blank=True)
    from_status = models.CharField(max_length=24, blank=True)
    to_status = models.CharField(max_length=24)
    step = models.CharField(max_length=60, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["dossier", "at"], name="proc_event_dossier"),
            models.Index(fields=["at"], name="proc_event_at"),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.from_status} -> {self.to_status}"


def attachment_path(instance: Attachment, filename: str) -> str:
    # The stored name never carries the uploaded name (which may hold personal data).
    return f"dossiers/{timezone.now():%Y/%m}/{instance.sha256[:2]}/{instance.sha256}"


class Attachment(models.Model):
    """A document of a dossier: an uploaded file, or a reference to a document of the
    applicant's (or their child's) wallet, in which case ``file`` is empty and ``sha256``
    is the digest of the credential (or of the verified scan) at the time of use."""

    dossier = models.ForeignKey(Dossier, on_delete=models.CASCADE, related_name="attachments")
    document_code = models.CharField(max_length=60)
    file = models.FileField(upload_to=attachment_path, blank=True)
    wallet_document = models.ForeignKey(
        "wallet.Document",
        verbose_name=_("giấy tờ trong Kho giấy tờ"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    original_name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=60)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.document_code} ({self.dossier_id})"
