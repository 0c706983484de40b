"""The population registry: persons, households, residence, identity cards, civil events.

Persons are never deleted (``PROTECT`` everywhere, no delete in services or admin), so a
personal ID number, once issued, is never reused. ``residence_commune`` and
``residence_province`` are denormalised from the current permanent residence so that
jurisdiction scoping and commune search are one indexed column; the registry services
keep them in step.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from congdan.core.text import fold


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class DatePrecision(models.TextChoices):
    DAY = "day", _("Ngày")
    MONTH = "month", _("Tháng")
    YEAR = "year", _("Năm")


class VitalStatus(models.TextChoices):
    ALIVE = "alive", _("Còn sống")
    DECEASED = "deceased", _("Đã chết")
    MISSING = "missing", _("Mất tích")


class RecordStatus(models.TextChoices):
    ACTIVE = "active", _("Đang sử dụng")
    RETIRED = "retired", _("Đã hủy (hợp nhất)")


class Ethnicity(models.Model):
    """The 54 recognised ethnic groups (data: registry/data/ethnicities.json)."""

    code = models.CharField(_("mã"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=60)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=60)

    class Meta:
        verbose_name = _("dân tộc")
        verbose_name_plural = _("dân tộc")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Religion(models.Model):
    """Recognised religions (data: registry/data/religions.json); code 00 = none."""

    code = models.CharField(_("mã"), max_length=2, unique=True)
    name = models.CharField(_("tên"), max_length=80)
    name_en = models.CharField(_("tên tiếng Anh"), max_length=80)

    class Meta:
        verbose_name = _("tôn giáo")
        verbose_name_plural = _("tôn giáo")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Person(models.Model):
    id_number = models.CharField(_("số định danh cá nhân"), max_length=12, unique=True)
    full_name = models.CharField(_("họ, chữ đệm và tên"), max_length=150)
    # Folded (no diacritics, lower case) copy of full_name for search; kept by save().
    name_search = models.CharField(max_length=150, editable=False)
    other_names = models.CharField(_("tên gọi khác"), max_length=200, blank=True)
    birth_date = models.DateField(_("ngày sinh"))
    birth_date_precision = models.CharField(
        _("độ chính xác ngày sinh"),
        max_length=5,
        choices=DatePrecision.choices,
        default=DatePrecision.DAY,
    )
    sex = models.CharField(_("giới tính"), max_length=1, choices=Sex.choices)
    ethnicity = models.ForeignKey(
        Ethnicity, verbose_name=_("dân tộc"), on_delete=models.PROTECT, related_name="+"
    )
    religion = models.ForeignKey(
        Religion,
        verbose_name=_("tôn giáo"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    nationality = models.CharField(_("quốc tịch"), max_length=2, default="VN")
    # Province where the birth was registered; its id_code is digits 1-3 of id_number.
    birth_registration_province = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("tỉnh nơi đăng ký khai sinh"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    birth_registration_place = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("nơi đăng ký khai sinh"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    home_town = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("quê quán"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    father = models.ForeignKey(
        "self",
        verbose_name=_("cha"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    mother = models.ForeignKey(
        "self",
        verbose_name=_("mẹ"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    spouse = models.ForeignKey(
        "self",
        verbose_name=_("vợ/chồng"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    vital_status = models.CharField(
        _("tình trạng"), max_length=8, choices=VitalStatus.choices, default=VitalStatus.ALIVE
    )
    death_date = models.DateField(_("ngày chết"), null=True, blank=True)
    status = models.CharField(
        _("trạng thái bản ghi"),
        max_length=8,
        choices=RecordStatus.choices,
        default=RecordStatus.ACTIVE,
    )
    residence_commune = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("xã/phường thường trú"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    residence_province = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("tỉnh/thành phố thường trú"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("ngày tạo"), default=timezone.now)
    updated_at = models.DateTimeField(_("ngày cập nhật"), default=timezone.now)

    class Meta:
        verbose_name = _("công dân")
        verbose_name_plural = _("công dân")
        indexes = [
            # Prefix and equality search on the folded name, optionally with birth date.
            models.Index(fields=["name_search", "birth_date"], name="reg_person_name"),
            models.Index(fields=["residence_commune", "name_search"], name="reg_person_commune"),
            models.Index(fields=["residence_province", "name_search"], name="reg_person_prov"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(id_number__regex=r"^[0-9]{12}$"), name="reg_person_id_number_digits"
            ),
            models.CheckConstraint(
                condition=Q(death_date__isnull=True) | Q(death_date__gte=models.F("birth_date")),
                name="reg_person_death_after_birth",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.id_number})"

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_search = fold(self.full_name)
        super().save(*args, **kwargs)  # type: ignore[arg-type]  # passthrough to Model.save

    @property
    def is_deceased(self) -> bool:
        return self.vital_status == VitalStatus.DECEASED


class Relationship(models.TextChoices):
    HEAD = "head", _("Chủ hộ")
    SPOUSE = "spouse", _("Vợ/chồng")
    CHILD = "child", _("Con")
    PARENT = "parent", _("Cha/mẹ")
    GRANDCHILD = "grandchild", _("Cháu")
    GRANDPARENT = "grandparent", _("Ông/bà")
    SIBLING = "sibling", _("Anh/chị/em")
    CHILD_IN_LAW = "child_in_law", _("Con dâu/con rể")
    OTHER_RELATIVE = "relative", _("Họ hàng khác")
    OTHER = "other", _("Khác")


class Household(models.Model):
    code = models.CharField(_("số hộ"), max_length=20, unique=True)
    address = models.ForeignKey(
        "geo.Address", verbose_name=_("địa chỉ"), on_delete=models.PROTECT, related_name="+"
    )
    commune = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("xã/phường"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    dissolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hộ gia đình")
        verbose_name_plural = _("hộ gia đình")
        indexes = [models.Index(fields=["commune"], name="reg_household_commune")]

    def __str__(self) -> str:
        return self.code


class HouseholdMembership(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="memberships")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="memberships")
    relationship = models.CharField(
        _("quan hệ với chủ hộ"), max_length=16, choices=Relationship.choices
    )
    since = models.DateField(_("từ ngày"))
    until = models.DateField(_("đến ngày"), null=True, blank=True)

    class Meta:
        verbose_name = _("thành viên hộ")
        verbose_name_plural = _("thành viên hộ")
        constraints = [
            # A person belongs to at most one household at a time ...
            models.UniqueConstraint(
                fields=["person"], condition=Q(until__isnull=True), name="reg_member_one_household"
            ),
            # ... and a household has at most one current head.
            models.UniqueConstraint(
                fields=["household"],
                condition=Q(until__isnull=True, relationship="head"),
                name="reg_member_one_head",
            ),
        ]
        indexes = [models.Index(fields=["household", "until"], name="reg_member_household")]

    def __str__(self) -> str:
        return f"{self.person_id} in {self.household_id} ({self.relationship})"


class ResidenceKind(models.TextChoices):
    PERMANENT = "permanent", _("Thường trú")
    TEMPORARY = "temporary", _("Tạm trú")
    ABSENCE = "absence", _("Tạm vắng")


class Residence(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="residences")
    kind = models.CharField(_("loại cư trú"), max_length=10, choices=ResidenceKind.choices)
    address = models.ForeignKey(
        "geo.Address", verbose_name=_("địa chỉ"), on_delete=models.PROTECT, related_name="+"
    )
    # Today's commune of the address (denormalised for jurisdiction queries).
    commune = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("xã/phường"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, null=True, blank=True, related_name="residences"
    )
    start_date = models.DateField(_("từ ngày"))
    end_date = models.DateField(_("đến ngày"), null=True, blank=True)
    # Set when a residence ends before its planned end (moved, deceased, cancelled).
    ended_on = models.DateField(_("kết thúc ngày"), null=True, blank=True)
    reason = models.CharField(_("lý do"), max_length=300, blank=True)
    registered_by = models.ForeignKey(
        "core.Agency", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("cư trú")
        verbose_name_plural = _("cư trú")
        ordering = ["-start_date", "-id"]
        indexes = [
            models.Index(fields=["person", "kind", "ended_on"], name="reg_residence_person"),
            models.Index(fields=["commune", "kind", "ended_on"], name="reg_residence_commune"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="reg_residence_period",
            ),
            models.CheckConstraint(
                condition=~Q(kind="temporary") | Q(end_date__isnull=False),
                name="reg_residence_temporary_has_end",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.person_id} {self.start_date}"


class CardType(models.TextChoices):
    CCCD_CHIP = "cccd_chip", _("Căn cước công dân gắn chip")
    CAN_CUOC = "can_cuoc", _("Thẻ căn cước")


class CardStatus(models.TextChoices):
    VALID = "valid", _("Còn hiệu lực")
    EXPIRED = "expired", _("Hết hạn")
    REPLACED = "replaced", _("Đã cấp đổi")
    LOST = "lost", _("Báo mất")
    REVOKED = "revoked", _("Thu hồi")


class IdentityCard(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="cards")
    # The card number is the personal ID number (Law on Identity 2023).
    number = models.CharField(_("số thẻ"), max_length=12)
    card_type = models.CharField(_("loại thẻ"), max_length=10, choices=CardType.choices)
    issue_date = models.DateField(_("ngày cấp"))
    # Null when the card is valid for life (issued at 58 or later).
    expiry_date = models.DateField(_("có giá trị đến"), null=True, blank=True)
    issuing_authority = models.CharField(_("nơi cấp"), max_length=200)
    status = models.CharField(
        _("trạng thái"), max_length=10, choices=CardStatus.choices, default=CardStatus.VALID
    )

    class Meta:
        verbose_name = _("thẻ căn cước")
        verbose_name_plural = _("thẻ căn cước")
        ordering = ["-issue_date"]
        indexes = [models.Index(fields=["person", "status"], name="reg_card_person")]

    def __str__(self) -> str:
        return f"{self.number} ({self.issue_date})"


class CivilEventKind(models.TextChoices):
    BIRTH = "birth", _("Khai sinh")
    DEATH = "death", _("Khai tử")
    MARRIAGE = "marriage", _("Kết hôn")
    DIVORCE = "divorce", _("Ly hôn")
    NAME_CHANGE = "name_change", _("Thay đổi họ, tên")
    RESIDENCE_CHANGE = "residence_change", _("Thay đổi nơi cư trú")
    TEMPORARY_RESIDENCE = "temporary_residence", _("Đăng ký tạm trú")
    TEMPORARY_ABSENCE = "temporary_absence", _("Khai báo tạm vắng")
    CORRECTION = "correction", _("Cải chính, bổ sung thông tin")
    CARD_ISSUE = "card_issue", _("Cấp thẻ căn cước")


class CivilEvent(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="civil_events")
    kind = models.CharField(_("loại sự kiện"), max_length=24, choices=CivilEventKind.choices)
    event_date = models.DateField(_("ngày xảy ra"))
    legal_basis = models.CharField(_("căn cứ pháp lý"), max_length=200, blank=True)
    source_agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("cơ quan"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    document_ref = models.CharField(_("số văn bản/giấy tờ"), max_length=120, blank=True)
    related_person = models.ForeignKey(
        Person, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    details = models.JSONField(_("chi tiết"), default=dict, blank=True)
    recorded_by = models.ForeignKey(
        "core.User", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("sự kiện hộ tịch, cư trú")
        verbose_name_plural = _("sự kiện hộ tịch, cư trú")
        ordering = ["-event_date", "-id"]
        indexes = [models.Index(fields=["person", "event_date"], name="reg_event_person")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.event_date}"
