"""Programme monitoring: daily aggregates (facts) the KPIs are computed from, targets,
the Decision 766 index weights, paper dossiers counted at one-stop counters, and the
task tracker of the working groups.

Facts are derived data: ``monitoring.facts.refresh_day`` recomputes one day from the
raw tables (dossiers, accounts, cards, the access log), so a dashboard over millions of
dossiers reads a few thousand rows. Facts are keyed by day and the finest unit
(commune, agency, procedure); provinces are the communes' parents.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class DossierFact(models.Model):
    """Dossier counts of one day for one commune × agency × procedure."""

    day = models.DateField(_("ngày"))
    province = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    commune = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    agency = models.ForeignKey("core.Agency", on_delete=models.PROTECT, null=True, related_name="+")
    procedure_code = models.CharField(max_length=60)
    # Received that day: every channel (online, counter, paper counted at the counter).
    received = models.PositiveIntegerField(default=0)
    received_online = models.PositiveIntegerField(default=0)
    # Online dossiers of procedures offered fully online (toàn trình).
    received_fully_online = models.PositiveIntegerField(default=0)
    # Received as data or scans (not paper only).
    digitised = models.PositiveIntegerField(default=0)
    # Decided that day (result issued or refused), and of those on or before the deadline.
    decided = models.PositiveIntegerField(default=0)
    decided_on_time = models.PositiveIntegerField(default=0)
    # Results issued that day as signed electronic documents.
    results_issued = models.PositiveIntegerField(default=0)
    results_digitised = models.PositiveIntegerField(default=0)
    # Open and past their deadline at the end of the day (a snapshot).
    overdue_open = models.PositiveIntegerField(default=0)
    # Received with a fee, and of those paid online.
    with_fee = models.PositiveIntegerField(default=0)
    paid_online = models.PositiveIntegerField(default=0)
    # Ratings given that day.
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveIntegerField(default=0)
    rating_satisfied = models.PositiveIntegerField(default=0)  # rated 4 or 5

    class Meta:
        verbose_name = _("số liệu hồ sơ theo ngày")
        verbose_name_plural = _("số liệu hồ sơ theo ngày")
        constraints = [
            # NULL (no commune, no agency) counts as one value: an index on expressions
            # rather than nulls_distinct=False, which SQLite cannot enforce.
            models.UniqueConstraint(
                F("day"),
                Coalesce("commune", Value(0)),
                Coalesce("agency", Value(0)),
                F("procedure_code"),
                name="monitoring_dossier_fact_key",
            )
        ]
        indexes = [
            models.Index(fields=["day", "province"], name="monitoring_dossier_day_prov"),
            models.Index(fields=["commune", "day"], name="monitoring_dossier_commune"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.commune_id} {self.procedure_code}"


class PopulationFact(models.Model):
    """Coverage of one commune at the end of one day (a snapshot)."""

    day = models.DateField(_("ngày"))
    province = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    commune = models.ForeignKey(
        "geo.AdministrativeUnit", on_delete=models.PROTECT, null=True, related_name="+"
    )
    residents = models.PositiveIntegerField(default=0)  # alive, permanent residents
    adults = models.PositiveIntegerField(default=0)  # of those, 14 and older
    eid_level1 = models.PositiveIntegerField(default=0)  # adults with an active level-1 account
    eid_level2 = models.PositiveIntegerField(default=0)  # adults with an active level-2 account
    chip_cards = models.PositiveIntegerField(default=0)  # adults with a valid chip ID card

    class Meta:
        verbose_name = _("số liệu dân cư theo ngày")
        verbose_name_plural = _("số liệu dân cư theo ngày")
        constraints = [
            models.UniqueConstraint(
                F("day"), Coalesce("commune", Value(0)), name="monitoring_population_fact_key"
            )
        ]
        indexes = [models.Index(fields=["day", "province"], name="monitoring_pop_day_prov")]

    def __str__(self) -> str:
        return f"{self.day} {self.commune_id}"


class LookupFact(models.Model):
    """Reads of citizens' data on one day by one organisation for one purpose."""

    day = models.DateField(_("ngày"))
    channel = models.CharField(max_length=8)
    organisation = models.CharField(max_length=80)
    service = models.CharField(max_length=80)
    purpose = models.CharField(max_length=200)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("số lượt khai thác dữ liệu theo ngày")
        verbose_name_plural = _("số lượt khai thác dữ liệu theo ngày")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "channel", "organisation", "service", "purpose"],
                name="monitoring_lookup_fact_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.organisation} {self.purpose}: {self.count}"


class RefreshedDay(models.Model):
    """Which days' facts are up to date, and when they were computed."""

    day = models.DateField(unique=True)
    refreshed_at = models.DateTimeField(default=timezone.now)
    stale = models.BooleanField(default=False)  # raw data of the day changed since

    def __str__(self) -> str:
        return f"{self.day} ({'stale' if self.stale else 'fresh'})"


class PaperDossierCount(models.Model):
    """Dossiers received on paper at a one-stop counter and not entered as data: counted
    by the counter officer per day and procedure, so the online rate has a true
    denominator (counter mode)."""

    day = models.DateField(_("ngày"))
    commune = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("xã/phường"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    agency = models.ForeignKey(
        "core.Agency", verbose_name=_("cơ quan"), on_delete=models.PROTECT, related_name="+"
    )
    procedure_code = models.CharField(_("thủ tục"), max_length=60)
    count = models.PositiveIntegerField(_("số hồ sơ giấy"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("hồ sơ giấy tại bộ phận một cửa")
        verbose_name_plural = _("hồ sơ giấy tại bộ phận một cửa")
        constraints = [
            models.UniqueConstraint(
                fields=["day", "commune", "agency", "procedure_code"],
                name="monitoring_paper_count_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.procedure_code}: {self.count}"


class Target(models.Model):
    """A target for a KPI in a unit (none: national) and a year, e.g. online dossier
    rate ≥ 40 % in 2026."""

    kpi = models.CharField(_("chỉ tiêu"), max_length=60)
    unit = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("địa bàn"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    year = models.PositiveSmallIntegerField(_("năm"))
    value = models.DecimalField(_("mục tiêu"), max_digits=7, decimal_places=2)
    # Traffic light: green at or beyond the target, amber within this many points.
    amber_margin = models.DecimalField(
        _("ngưỡng vàng (điểm)"), max_digits=5, decimal_places=2, default=10
    )
    note = models.CharField(_("căn cứ"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("mục tiêu")
        verbose_name_plural = _("mục tiêu")
        constraints = [
            models.UniqueConstraint(
                F("kpi"), Coalesce("unit", Value(0)), F("year"), name="monitoring_target_key"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kpi} {self.year}: {self.value}"


class IndexWeight(models.Model):
    """The weight of one group of the Decision 766 service index (configurable data)."""

    group = models.CharField(_("nhóm chỉ số"), max_length=40, unique=True)
    weight = models.DecimalField(_("trọng số (điểm)"), max_digits=5, decimal_places=2)

    class Meta:
        verbose_name = _("trọng số Bộ chỉ số 766")
        verbose_name_plural = _("trọng số Bộ chỉ số 766")

    def __str__(self) -> str:
        return f"{self.group}: {self.weight}"


# --- the programme's task tracker ------------------------------------------------------


class Level(models.TextChoices):
    PROVINCE = "province", _("Cấp tỉnh")
    COMMUNE = "commune", _("Cấp xã")
    VILLAGE = "village", _("Cấp thôn, tổ dân phố")


class WorkingGroup(models.Model):
    """A working group of Đề án 06 (tổ công tác) at province, commune or village level."""

    name = models.CharField(_("tên tổ công tác"), max_length=200)
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    unit = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("địa bàn"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    village = models.CharField(_("thôn, tổ dân phố"), max_length=120, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("tổ cấp trên"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("tổ công tác")
        verbose_name_plural = _("tổ công tác")

    def __str__(self) -> str:
        return self.name


class GroupRole(models.TextChoices):
    HEAD = "head", _("Tổ trưởng")
    DEPUTY = "deputy", _("Tổ phó")
    MEMBER = "member", _("Thành viên")


class GroupMember(models.Model):
    group = models.ForeignKey(WorkingGroup, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    name = models.CharField(_("họ tên"), max_length=150)
    position = models.CharField(_("chức vụ, đơn vị"), max_length=200, blank=True)
    role = models.CharField(_("vai trò"), max_length=8, choices=GroupRole.choices)
    phone = models.CharField(_("điện thoại"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("thành viên tổ công tác")
        verbose_name_plural = _("thành viên tổ công tác")

    def __str__(self) -> str:
        return self.name


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", _("Chưa triển khai")
    IN_PROGRESS = "in_progress", _("Đang triển khai")
    WAITING = "waiting", _("Chờ hướng dẫn của trung ương")
    DONE = "done", _("Hoàn thành")
    CANCELLED = "cancelled", _("Không thực hiện")


class ProgrammeTask(models.Model):
    """A task of the programme: what, by which legal source, owned by which agency, by
    when, how far."""

    code = models.CharField(_("mã nhiệm vụ"), max_length=40, unique=True)
    title = models.CharField(_("nhiệm vụ"), max_length=500)
    legal_source = models.CharField(_("văn bản giao"), max_length=300, blank=True)
    owner_agency = models.ForeignKey(
        "core.Agency",
        verbose_name=_("cơ quan chủ trì"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    level = models.CharField(_("cấp"), max_length=10, choices=Level.choices)
    unit = models.ForeignKey(
        "geo.AdministrativeUnit",
        verbose_name=_("địa bàn"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    group = models.ForeignKey(
        WorkingGroup,
        verbose_name=_("tổ công tác"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tasks",
    )
    deadline = models.DateField(_("thời hạn"), null=True, blank=True)
    status = models.CharField(
        _("tình trạng"),
        max_length=12,
        choices=TaskStatus.choices,
        default=TaskStatus.NOT_STARTED,
    )
    progress = models.PositiveSmallIntegerField(_("tiến độ (%)"), default=0)
    completed_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("nhiệm vụ Đề án 06")
        verbose_name_plural = _("nhiệm vụ Đề án 06")
        indexes = [
            models.Index(fields=["owner_agency", "status"], name="monitoring_task_agency"),
            models.Index(fields=["unit", "deadline"], name="monitoring_task_unit"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title[:60]}"


class TaskNote(models.Model):
    """A progress note on a task."""

    task = models.ForeignKey(ProgrammeTask, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)
    text = models.TextField(_("nội dung"))
    status = models.CharField(max_length=12, choices=TaskStatus.choices)
    progress = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_id} {self.at:%Y-%m-%d}"


class TaskEvidence(models.Model):
    """A file proving progress (a report, minutes, a photo)."""

    task = models.ForeignKey(ProgrammeTask, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to="monitoring/evidence/")
    name = models.CharField(_("tên tệp"), max_length=200)
    content_type = models.CharField(max_length=80)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name
