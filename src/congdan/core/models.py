"""Agencies, officer accounts and API tokens.

An officer belongs to an agency; the agency's jurisdiction (a current province or
commune) bounds what the officer sees and changes (``core.jurisdiction``).
"""

from __future__ import annotations

import hashlib
import secrets
from typing import TYPE_CHECKING, ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.permissions import Role

if TYPE_CHECKING:
    from datetime import datetime


class AgencyKind(models.TextChoices):
    POLICE = "police", _("Công an")
    JUSTICE = "justice", _("Tư pháp")
    SOCIAL_INSURANCE = "social_insurance", _("Bảo hiểm xã hội")
    TRANSPORT = "transport", _("Giao thông vận tải")
    PEOPLES_COMMITTEE = "peoples_committee", _("Ủy ban nhân dân")
    MINISTRY = "ministry", _("Bộ, ngành trung ương")
    OTHER = "other", _("Khác")


class Agency(models.Model):
    code = models.CharField(_("mã cơ quan"), max_length=40, unique=True)
    name = models.CharField(_("tên cơ quan"), max_length=255)
    kind = models.CharField(_("loại"), max_length=32, choices=AgencyKind.choices)
    # Null jurisdiction = national (only meaningful for stewards and admins).
    jurisdiction = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("địa bàn quản lý"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
    )
    active = models.BooleanField(_("đang hoạt động"), default=True)

    class Meta:
        verbose_name = _("cơ quan")
        verbose_name_plural = _("cơ quan")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Position(models.TextChoices):
    """An officer's post in the processing of dossiers; blank acts at every step (a small
    commune office where one officer receives, checks and signs)."""

    ANY = "", _("Mọi bước")
    COUNTER = "counter", _("Bộ phận một cửa (tiếp nhận)")
    SPECIALIST = "specialist", _("Chuyên viên xử lý")
    LEADER = "leader", _("Lãnh đạo (phê duyệt)")


class User(AbstractUser):
    role = models.CharField(_("vai trò"), max_length=16, choices=Role.choices, blank=True)
    position = models.CharField(
        _("vị trí xử lý hồ sơ"), max_length=16, choices=Position.choices, blank=True
    )
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("cơ quan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="members",
    )
    objects: ClassVar[UserManager[User]] = UserManager()  # type: ignore[assignment]  # django-stubs types the manager with Self

    class Meta:
        verbose_name = _("người dùng")
        verbose_name_plural = _("người dùng")

    @property
    def organisation_label(self) -> str:
        return self.agency.code if self.agency_id and self.agency else ""


class ApiTokenQuerySet(models.QuerySet["ApiToken"]):
    def usable(self) -> ApiTokenQuerySet:
        now = timezone.now()
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now)
        )


class ApiToken(models.Model):
    """A bearer token for the REST API. Only its SHA-256 is stored; shown once."""

    PREFIX_LEN = 8

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("tên"), max_length=100)
    prefix = models.CharField(max_length=PREFIX_LEN, db_index=True)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        verbose_name = _("mã truy cập API")
        verbose_name_plural = _("mã truy cập API")

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.name})"

    @staticmethod
    def hash_key(key: str) -> str:
        return hashlib.sha256(key.encode()).hexdigest()

    @staticmethod
    def new_key() -> str:
        return "cd_" + secrets.token_urlsafe(32)

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class OutboxMessage(models.Model):
    """A message delivered by the local notification backend (DEBUG / demo only).

    The outbox *is* the delivery channel in development: a one-time code stored here is
    the message the citizen would have received by SMS. Production uses a gateway backend
    and this table stays empty (settings refuse the outbox with DEBUG and demo off).
    """

    channel = models.CharField(max_length=16)  # "sms" or "email"
    recipient = models.CharField(max_length=255)
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("tin nhắn (hộp thư thử nghiệm)")
        verbose_name_plural = _("tin nhắn (hộp thư thử nghiệm)")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"
