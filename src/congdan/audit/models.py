"""Change history and the append-only access log.

``AccessLogEntry`` is designed for hundreds of millions of rows: narrow, append-only
(updates and deletes refused by the model and, on PostgreSQL, by a trigger), no foreign
key constraints on the hot insert path, indexed by (person, time) for the citizen's data
tracker and by (actor, time) for supervision. On PostgreSQL it is partitioned by month
(migration 0009, docs/access-log.md); segments are sealed into a signed hash chain
(congdan.audit.sealing).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(RuntimeError):
    pass


class Channel(models.TextChoices):
    UI = "ui", _("Giao diện cán bộ")
    API = "api", _("API")
    ADMIN = "admin", _("Trang quản trị")
    SYSTEM = "system", _("Hệ thống")
    OIDC = "oidc", _("Xác thực cho ứng dụng kết nối (OpenID Connect)")
    PORTAL = "portal", _("Cổng dịch vụ công (hồ sơ của công dân)")
    WALLET = "wallet", _("Kho giấy tờ: chia sẻ, xác minh, lấy giấy tờ")
    EXCHANGE = "exchange", _("Chia sẻ dữ liệu với tổ chức thành viên")


class Outcome(models.TextChoices):
    OK = "ok", _("Đã cung cấp dữ liệu")
    VERIFIED = "verified", _("Chỉ trả lời khớp/không khớp")
    REFUSED = "refused", _("Bị từ chối")


class AccessLogEntry(models.Model):
    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
    )
    actor_label = models.CharField(_("người truy cập"), max_length=150)
    organisation = models.CharField(_("cơ quan/tổ chức"), max_length=80, blank=True)
    person = models.ForeignKey(
        "registry.Person",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    subsystem = models.CharField(_("hệ thống"), max_length=120, blank=True)
    channel = models.CharField(_("kênh"), max_length=8, choices=Channel.choices)
    view = models.CharField(_("màn hình/dịch vụ"), max_length=80)
    fields = models.CharField(_("trường dữ liệu"), max_length=400, blank=True)
    purpose = models.CharField(_("mục đích"), max_length=200)
    request_id = models.CharField(max_length=64, blank=True)
    outcome = models.CharField(
        _("kết quả"), max_length=8, choices=Outcome.choices, default=Outcome.OK
    )
    # Investigations: hidden from the citizen's data tracker until this date.
    hidden_until = models.DateField(_("ẩn với công dân đến"), null=True, blank=True)

    class Meta:
        verbose_name = _("nhật ký truy cập")
        verbose_name_plural = _("nhật ký truy cập")
        indexes = [
            models.Index(fields=["person", "at"], name="audit_access_person_at"),
            models.Index(fields=["actor", "at"], name="audit_access_actor_at"),
            # Supervision and anomaly rules read a day or a period across organisations.
            models.Index(fields=["at"], name="audit_access_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_label} → {self.person_id} ({self.view})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("access log entries cannot be changed")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("access log entries cannot be deleted")


class ChangeRecord(models.Model):
    """One state change: who, when, why, under which legal basis, old → new values.

    ``changes`` maps each changed field to ``[old, new]`` (JSON-serialisable values).
    Reading a record "as of" a date rewinds the changes made after it.
    """

    id = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(_("thời điểm"), default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(_("người thực hiện"), max_length=150)
    organisation = models.CharField(_("cơ quan"), max_length=80, blank=True)
    action = models.CharField(_("thao tác"), max_length=60)
    object_type = models.CharField(_("loại đối tượng"), max_length=60)
    object_id = models.BigIntegerField(_("mã đối tượng"))
    person = models.ForeignKey(
        "registry.Person", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(_("thay đổi"), default=dict)
    reason = models.CharField(_("lý do"), max_length=400, blank=True)
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=200, blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("lịch sử thay đổi")
        verbose_name_plural = _("lịch sử thay đổi")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "at"], name="audit_change_object"),
            models.Index(fields=["person", "at"], name="audit_change_person"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise AppendOnlyError("change records cannot be changed")
        super().save(*args, **kwargs)


class AccessLogSeal(models.Model):
    """One sealed segment of the access log: the entries of one calendar month (UTC)
    with ``id`` in (the previous seal of that month's ``last_id``, ``last_id``].

    Seals form one hash chain (ordered by id: ``prev_hash`` is the previous seal's
    ``seal_hash``) and each is signed with Ed25519 (congdan.audit.sealing,
    docs/access-log.md). Rows are written only by ``sealing.seal_pending``; the one
    later change is ``pruned_at``, set when retention removes the month's entries.
    """

    id = models.BigAutoField(primary_key=True)
    month = models.DateField(_("tháng"))  # first day of the month (UTC)
    first_id = models.BigIntegerField(_("mã mục đầu"))
    last_id = models.BigIntegerField(_("mã mục cuối"))
    count = models.PositiveIntegerField(_("số mục"))
    # The last segment of a month: every entry of the month is sealed; later rows in it
    # can only be insertions.
    closed = models.BooleanField(_("đóng tháng"), default=False)
    entries_digest = models.CharField(_("mã băm các mục"), max_length=64)
    prev_hash = models.CharField(_("mã băm niêm phong trước"), max_length=64, unique=True)
    seal_hash = models.CharField(_("mã băm niêm phong"), max_length=64, unique=True)
    signature = models.CharField(_("chữ ký"), max_length=128)
    key_id = models.CharField(_("mã khóa"), max_length=32)
    sealed_at = models.DateTimeField(_("thời điểm niêm phong"))
    pruned_at = models.DateTimeField(_("thời điểm xóa theo hạn lưu trữ"), null=True, blank=True)

    class Meta:
        verbose_name = _("niêm phong nhật ký truy cập")
        verbose_name_plural = _("niêm phong nhật ký truy cập")
        indexes = [models.Index(fields=["month", "last_id"], name="audit_seal_month_last")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.month:%Y-%m} [{self.first_id}–{self.last_id}] ({self.count})"
