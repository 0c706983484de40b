"""Payments of fees, their history, receipts, and the sandbox gateway's own ledger.

A ``Payment`` is what we asked a payer to pay for one thing (``purpose`` + ``purpose_ref``,
e.g. a dossier and its code). Money is integer đồng. Its status moves only through
``payments.services``:

    pending ─┬─> paid ──> refunded
             ├─> failed
             ├─> cancelled
             └─> expired

At most one payment per ``(purpose, purpose_ref)`` is pending at a time (a partial unique
index), so a second click on "pay" never opens a second charge. ``PaymentEvent`` keeps
each step (never a signature or a key). ``SandboxTransaction`` is the *bank side* of the
built-in sandbox gateway: it is not our record of the payment and is read only by
``gateways.sandbox``.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def validate_local_path(value: str) -> None:
    """A path on this site only ("/…", not "//host…" nor a URL): no open redirect."""
    if (
        not value.startswith("/")
        or value.startswith("//")
        or "\\" in value
        or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value)
    ):
        raise ValidationError(
            _("Đường dẫn quay lại phải là một đường dẫn trong trang (bắt đầu bằng “/”)."),
            code="return_path",
        )


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Chờ thanh toán")
    PAID = "paid", _("Đã thanh toán")
    FAILED = "failed", _("Thanh toán không thành công")
    CANCELLED = "cancelled", _("Đã hủy")
    EXPIRED = "expired", _("Đã hết hạn")
    REFUNDED = "refunded", _("Đã hoàn tiền")


class Payment(models.Model):
    reference = models.CharField(_("mã thanh toán"), max_length=20, unique=True)
    purpose = models.CharField(_("mục đích"), max_length=40)
    purpose_ref = models.CharField(_("mã đối tượng thanh toán"), max_length=64)
    payer_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("người thanh toán"),
        on_delete=models.PROTECT,
        related_name="payments",
    )
    payer_person = models.ForeignKey(
        "registry.Person",
        verbose_name=_("công dân"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payments",
    )
    amount = models.BigIntegerField(_("số tiền (đồng)"))
    description = models.CharField(_("nội dung"), max_length=255)
    status = models.CharField(
        _("trạng thái"),
        max_length=12,
        choices=PaymentStatus.choices,
        default=PaymentStatus.PENDING,
        db_index=True,
    )
    gateway = models.CharField(_("cổng thanh toán"), max_length=40)
    gateway_txn = models.CharField(_("mã giao dịch tại cổng"), max_length=64, blank=True)
    # Where the payer is sent to pay (the gateway's page for this payment).
    gateway_url = models.CharField(max_length=1000, blank=True)
    created_at = models.DateTimeField(_("tạo lúc"), default=timezone.now)
    expires_at = models.DateTimeField(_("hết hạn lúc"))
    paid_at = models.DateTimeField(_("thanh toán lúc"), null=True, blank=True)
    refunded_at = models.DateTimeField(_("hoàn tiền lúc"), null=True, blank=True)
    refund_reason = models.CharField(_("lý do hoàn tiền"), max_length=400, blank=True)
    receipt_number = models.CharField(
        _("số biên lai"), max_length=20, unique=True, null=True, blank=True
    )
    return_path = models.CharField(
        _("trang quay lại"), max_length=300, validators=[validate_local_path]
    )

    class Meta:
        verbose_name = _("khoản thanh toán")
        verbose_name_plural = _("khoản thanh toán")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["purpose", "purpose_ref"], name="payment_purpose_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["purpose", "purpose_ref"],
                condition=Q(status="pending"),
                name="payment_one_pending_per_ref",
            ),
        ]

    def __str__(self) -> str:
        return self.reference

    @property
    def is_final(self) -> bool:
        return self.status != PaymentStatus.PENDING


class PaymentEventKind(models.TextChoices):
    CREATED = "created", _("Tạo yêu cầu thanh toán")
    REUSED = "reused", _("Mở lại yêu cầu đang chờ")
    CALLBACK = "callback", _("Nhận kết quả từ cổng thanh toán")
    PAID = "paid", _("Đã thanh toán")
    FAILED = "failed", _("Thanh toán không thành công")
    CANCELLED = "cancelled", _("Người nộp đã hủy")
    EXPIRED = "expired", _("Hết hạn")
    REFUNDED = "refunded", _("Đã hoàn tiền")
    MISMATCH = "mismatch", _("Kết quả không khớp")


class PaymentEvent(models.Model):
    """One step in a payment's history. ``detail`` never holds a signature or a key."""

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=12, choices=PaymentEventKind.choices)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("diễn biến thanh toán")
        verbose_name_plural = _("diễn biến thanh toán")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.payment_id} {self.kind}"


class ReceiptSequence(models.Model):
    """The last receipt number given in a year: receipts are numbered without gaps."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("dãy số biên lai")
        verbose_name_plural = _("dãy số biên lai")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


# --- the sandbox gateway's ledger (the "bank side") -----------------------------------


class SandboxStatus(models.TextChoices):
    PENDING = "pending", _("Chờ thanh toán")
    PAID = "paid", _("Thành công")
    FAILED = "failed", _("Bị từ chối")
    CANCELLED = "cancelled", _("Đã hủy")
    EXPIRED = "expired", _("Hết hạn")
    REFUNDED = "refunded", _("Đã hoàn tiền")


class SandboxTransaction(models.Model):
    txn = models.CharField(max_length=32, unique=True)
    reference = models.CharField(max_length=20, db_index=True)
    amount = models.BigIntegerField()
    description = models.CharField(max_length=255)
    return_url = models.CharField(max_length=500)
    status = models.CharField(
        max_length=12, choices=SandboxStatus.choices, default=SandboxStatus.PENDING
    )
    response_code = models.CharField(max_length=4, blank=True)
    card_last4 = models.CharField(max_length=4, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    refunded_amount = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("giao dịch cổng thử nghiệm")
        verbose_name_plural = _("giao dịch cổng thử nghiệm")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.txn
