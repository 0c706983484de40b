"""Result documents in the citizen's wallet (kho dữ liệu điện tử cá nhân).

An agency issues a document to a person when a procedure ends (a birth certificate, a
residence confirmation …). Its number is a DigiLocker-style URI
``<issuer agency code>-<doc_type>-<serial>``; its content is signed (JWS compact, RS256,
``identity.keys``) so that anyone holding the signed JSON can check it was issued here
and has not been changed. A document is never deleted: revoking it keeps the row.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _


class DocumentStatus(models.TextChoices):
    VALID = "valid", _("Còn hiệu lực")
    REVOKED = "revoked", _("Đã thu hồi")


class Document(models.Model):
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
    issuer = models.ForeignKey(
        "core.Agency", verbose_name=_("cơ quan cấp"), on_delete=models.PROTECT, related_name="+"
    )
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
        max_length=8,
        choices=DocumentStatus.choices,
        default=DocumentStatus.VALID,
    )
    # JWS compact serialisation (RS256, with kid) of the canonical JSON of the content.
    signature = models.TextField(_("chữ ký số"))
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
        indexes = [models.Index(fields=["holder", "issued_at"], name="wallet_doc_holder")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status="valid", revoked_at__isnull=True)
                | models.Q(status="revoked", revoked_at__isnull=False),
                name="wallet_doc_revoked_at",
            )
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
        return self.status == DocumentStatus.VALID
