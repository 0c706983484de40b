"""Administrative units (old and current) and addresses.

Two schemes coexist: ``legacy`` (63 provinces, districts, communes, in force until
30 June 2025) and ``2025`` (34 provinces, 3,321 communes, two-tier government from
1 July 2025). A legacy unit links to its successor in the current scheme, so a record
made before the change keeps its meaning and still resolves to today's unit.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from congdan.core.text import fold


class Scheme(models.TextChoices):
    LEGACY = "legacy", _("Trước 01/7/2025")
    CURRENT = "2025", _("Từ 01/7/2025")


class Level(models.TextChoices):
    PROVINCE = "province", _("Cấp tỉnh")
    DISTRICT = "district", _("Cấp huyện")
    COMMUNE = "commune", _("Cấp xã")


class AdministrativeUnitQuerySet(models.QuerySet["AdministrativeUnit"]):
    def current(self) -> AdministrativeUnitQuerySet:
        return self.filter(scheme=Scheme.CURRENT)

    def provinces(self) -> AdministrativeUnitQuerySet:
        return self.filter(level=Level.PROVINCE)

    def communes(self) -> AdministrativeUnitQuerySet:
        return self.filter(level=Level.COMMUNE)


class AdministrativeUnit(models.Model):
    code = models.CharField(_("mã"), max_length=10)
    name = models.CharField(_("tên"), max_length=120)
    name_search = models.CharField(max_length=120, editable=False, db_index=True)
    # "Tỉnh", "Thành phố", "Phường", "Xã", "Đặc khu", "Quận", "Huyện", "Thị trấn" ...
    division_type = models.CharField(_("loại đơn vị"), max_length=40, blank=True)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    scheme = models.CharField(_("hệ thống"), max_length=8, choices=Scheme.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Province code used in digits 1-3 of personal ID numbers (legacy provinces only:
    # 001 Hà Nội ... 096 Cà Mau; the codes stay valid after the 2025 merger).
    id_code = models.CharField(_("mã trong số định danh"), max_length=3, blank=True)
    valid_from = models.DateField(_("hiệu lực từ"), null=True, blank=True)
    valid_to = models.DateField(_("hiệu lực đến"), null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        verbose_name=_("đơn vị kế thừa"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="predecessors",
    )
    # True when the legacy commune was split between several current communes: the
    # successor is the one part the conversion data marks as the default.
    successor_partial = models.BooleanField(_("kế thừa một phần"), default=False)

    objects = AdministrativeUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("đơn vị hành chính")
        verbose_name_plural = _("đơn vị hành chính")
        ordering = ["scheme", "level", "code"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "level", "code"], name="geo_unit_unique_code")
        ]
        indexes = [models.Index(fields=["scheme", "level", "parent"], name="geo_unit_tree")]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_search = fold(self.name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passthrough to Model.save

    @property
    def is_current(self) -> bool:
        return self.scheme == Scheme.CURRENT


class Address(models.Model):
    """An address as written, its structured units, and today's commune."""

    text = models.CharField(_("địa chỉ (như khai)"), max_length=400)
    street = models.CharField(_("số nhà, đường, thôn/tổ"), max_length=200, blank=True)
    commune = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("xã/phường (như khai)"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    district = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("quận/huyện (như khai)"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    province = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("tỉnh/thành phố (như khai)"),
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    current_commune = models.ForeignKey(
        AdministrativeUnit,
        verbose_name=_("xã/phường hiện nay"),
        on_delete=models.PROTECT,
        related_name="addresses",
        null=True,
        blank=True,
    )

    class Meta:
        verbose_name = _("địa chỉ")
        verbose_name_plural = _("địa chỉ")

    def __str__(self) -> str:
        return self.text
