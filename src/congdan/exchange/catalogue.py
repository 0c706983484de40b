"""The data-service catalogue: services, the fields each can return and the purposes
(with their legal basis) each may be used for.

The catalogue is code, loaded into the database by ``ensure_catalogue()`` (a data
migration and the demo seed call it), so that grants can point at its rows. Editing a
service here and re-running ``ensure_catalogue`` updates names, fields and purposes; it
never deletes a purpose a grant uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

# Legal bases cited by several purposes.
LAW_IDENTITY = "Luật Căn cước 2023, Điều 10; Nghị định 70/2024/NĐ-CP"
LAW_PERSONAL_DATA = "Luật Bảo vệ dữ liệu cá nhân 2025; Nghị định 13/2023/NĐ-CP, Điều 11 (sự đồng ý)"
LAW_BANKING = "Luật Các tổ chức tín dụng 2024; Thông tư 17/2024/TT-NHNN (mở tài khoản thanh toán)"
LAW_TELECOM = "Nghị định 163/2024/NĐ-CP (thông tin thuê bao di động)"
LAW_AVIATION = "Thông tư 42/2023/TT-BGTVT (giấy tờ đi tàu bay)"
LAW_HEALTH_INSURANCE = "Luật Bảo hiểm y tế 2024; Nghị định 75/2023/NĐ-CP"
LAW_PUBLIC_SERVICE = (
    "Luật Căn cước 2023, Điều 10; Nghị định 45/2020/NĐ-CP (thủ tục trên môi trường điện tử)"
)
LAW_INVESTIGATION = (
    "Bộ luật Tố tụng hình sự 2015, Điều 88; Luật Tổ chức cơ quan điều tra hình sự 2015"
)


@dataclass(frozen=True)
class Purpose:
    code: str
    name: Any  # lazy translation
    legal_basis: str
    requires_consent: bool = False
    hidden_days: int = 0


@dataclass(frozen=True)
class Service:
    code: str
    kind: str  # lookup | verify | events
    name: Any
    description: Any
    fields: tuple[str, ...]
    purposes: tuple[Purpose, ...]


PUBLIC_SERVICE = Purpose(
    "public_service", _("Giải quyết thủ tục hành chính, dịch vụ công"), LAW_PUBLIC_SERVICE
)
INVESTIGATION = Purpose(
    "criminal_investigation",
    _("Điều tra, xử lý vụ án hình sự"),
    LAW_INVESTIGATION,
    hidden_days=180,
)
KYC_FULL_PROFILE = Purpose(
    "kyc_full_profile",
    _("Định danh khách hàng (eKYC) – hồ sơ đầy đủ, khi công dân đồng ý"),
    f"{LAW_BANKING}; {LAW_PERSONAL_DATA}",
    requires_consent=True,
)
KYC_ACCOUNT_OPENING = Purpose(
    "kyc_account_opening", _("Xác thực thông tin khi mở tài khoản ngân hàng"), LAW_BANKING
)
SUBSCRIBER_REGISTRATION = Purpose(
    "subscriber_registration", _("Xác thực thông tin thuê bao di động"), LAW_TELECOM
)
BOARDING_CHECK = Purpose("boarding_check", _("Kiểm tra giấy tờ khi làm thủ tục bay"), LAW_AVIATION)
HEALTH_INSURANCE = Purpose(
    "health_insurance", _("Cấp, gia hạn, thanh toán bảo hiểm y tế"), LAW_HEALTH_INSURANCE
)
CUSTOMER_UPDATE = Purpose(
    "customer_update",
    _("Cập nhật thông tin khách hàng khi có thay đổi, khi công dân đồng ý"),
    f"{LAW_BANKING}; {LAW_PERSONAL_DATA}",
    requires_consent=True,
)

# Field names of each service, as returned by the API and written to the access log.
PERSON_BASIC_FIELDS = (
    "id_number",
    "full_name",
    "other_names",
    "birth_date",
    "sex",
    "nationality",
    "ethnicity",
    "religion",
    "home_town",
    "vital_status",
    "death_date",
)
PERSON_RESIDENCE_FIELDS = (
    "permanent_address",
    "permanent_commune",
    "permanent_province",
    "permanent_since",
    "temporary_address",
    "temporary_until",
)
HOUSEHOLD_FIELDS = ("household_number", "head_name", "relation_to_head", "members")
CARD_STATUS_FIELDS = ("card_number", "card_status", "card_issue_date", "card_expiry_date")
# Attributes verify-identity compares; it answers match / no_match, never the data.
VERIFY_FIELDS = ("full_name", "birth_date", "sex", "permanent_commune", "card_number")
EVENT_KINDS = ("death", "residence_change", "name_change")

SERVICES: tuple[Service, ...] = (
    Service(
        "person-basic",
        "lookup",
        _("Thông tin cơ bản của công dân"),
        _("Họ tên, ngày sinh, giới tính, quốc tịch, dân tộc, tôn giáo, quê quán, tình trạng."),
        PERSON_BASIC_FIELDS,
        (PUBLIC_SERVICE, KYC_FULL_PROFILE, HEALTH_INSURANCE, INVESTIGATION),
    ),
    Service(
        "person-residence",
        "lookup",
        _("Nơi cư trú"),
        _("Nơi thường trú, nơi tạm trú và thời hạn."),
        PERSON_RESIDENCE_FIELDS,
        (PUBLIC_SERVICE, KYC_FULL_PROFILE, HEALTH_INSURANCE, INVESTIGATION),
    ),
    Service(
        "household",
        "lookup",
        _("Hộ gia đình"),
        _("Số hộ, chủ hộ, quan hệ với chủ hộ, các thành viên."),
        HOUSEHOLD_FIELDS,
        (PUBLIC_SERVICE, INVESTIGATION),
    ),
    Service(
        "card-status",
        "lookup",
        _("Tình trạng thẻ căn cước"),
        _("Số thẻ, còn hiệu lực hay không, ngày cấp, ngày hết hạn."),
        CARD_STATUS_FIELDS,
        (PUBLIC_SERVICE, KYC_ACCOUNT_OPENING, SUBSCRIBER_REGISTRATION, BOARDING_CHECK),
    ),
    Service(
        "verify-identity",
        "verify",
        _("Xác thực thông tin công dân"),
        _(
            "So khớp thông tin tổ chức gửi đến với Cơ sở dữ liệu quốc gia về dân cư; chỉ trả "
            "lời khớp/không khớp cho từng thông tin, không trả dữ liệu."
        ),
        VERIFY_FIELDS,
        (PUBLIC_SERVICE, KYC_ACCOUNT_OPENING, SUBSCRIBER_REGISTRATION, BOARDING_CHECK),
    ),
    Service(
        "person-events",
        "events",
        _("Thông báo thay đổi"),
        _(
            "Thông báo khi công dân có quan hệ với tổ chức qua đời, thay đổi nơi cư trú hoặc "
            "họ tên (webhook có chữ ký hoặc nguồn tin kéo về theo con trỏ)."
        ),
        EVENT_KINDS,
        (PUBLIC_SERVICE, HEALTH_INSURANCE, CUSTOMER_UPDATE),
    ),
)
SERVICE_BY_CODE = {service.code: service for service in SERVICES}


def ensure_catalogue(apps: Any = None) -> int:
    """Create or update the catalogue's rows. Returns the number of services written.

    ``apps``: a migration's app registry (historical models), or None for the real ones.
    """
    if apps is None:
        from django.apps import apps as django_apps  # noqa: PLC0415 -- the live registry

        apps = django_apps
    service_model = apps.get_model("exchange", "DataService")
    purpose_model = apps.get_model("exchange", "ServicePurpose")
    for spec in SERVICES:
        service, _created = service_model.objects.update_or_create(
            code=spec.code,
            defaults={
                "kind": spec.kind,
                "name": str(spec.name),
                "description": str(spec.description),
                "fields": list(spec.fields),
            },
        )
        for purpose in spec.purposes:
            purpose_model.objects.update_or_create(
                service=service,
                code=purpose.code,
                defaults={
                    "name": str(purpose.name),
                    "legal_basis": purpose.legal_basis,
                    "requires_consent": purpose.requires_consent,
                    "hidden_days": purpose.hidden_days,
                },
            )
    return len(SERVICES)
