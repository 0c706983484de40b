"""Document types the wallet knows: titles, the credential format, field labels, and how
the integrated documents (ID card, health insurance card …) look as cards.

A procedure may issue a type not listed here (its spec names it): it is then a selectively
disclosable SD-JWT VC whose fields are shown under their labels below or their code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

VCT_PREFIX = "urn:vn:congdan:doc:"
# Ages at which an "over N" claim is added (when reached at issuance) to a document that
# carries a birth date: a holder can prove "over 18" without the date.
AGE_THRESHOLDS = (14, 16, 18)


@dataclass(frozen=True)
class DocType:
    code: str
    title_vi: str
    title_en: str
    # True: SD-JWT VC (fields disclosed one by one). False: compact JWS, shown whole
    # (a judicial record certificate is presented in full by law).
    selective: bool = True
    integrated: bool = False
    # Fields in the order a card shows them; the first ones go on the card's face.
    fields: tuple[str, ...] = ()
    # Card colour (CSS class suffix) for integrated documents.
    colour: str = "grey"
    # The agency that issues it in the seed (core.Agency code).
    issuer_code: str = ""
    # Agency kinds (core.AgencyKind values) competent to issue it; empty: any agency.
    issuer_kinds: tuple[str, ...] = ()

    @property
    def vct(self) -> str:
        return VCT_PREFIX + self.code


def _t(vi: str, en: str) -> tuple[str, str]:
    return vi, en


INTEGRATED: dict[str, DocType] = {
    d.code: d
    for d in (
        DocType(
            "id_card",
            *_t("Thẻ căn cước", "Identity card"),
            integrated=True,
            fields=(
                "full_name",
                "id_number",
                "birth_date",
                "sex",
                "nationality",
                "home_town",
                "address",
                "card_number",
                "issue_date",
                "portrait",
            ),
            colour="blue",
            issuer_code="C06",
            issuer_kinds=("police",),
        ),
        DocType(
            "health_insurance_card",
            *_t("Thẻ bảo hiểm y tế", "Health insurance card"),
            integrated=True,
            fields=(
                "full_name",
                "social_insurance_number",
                "birth_date",
                "sex",
                "address",
                "primary_care_facility",
                "benefit_level",
                "valid_from",
            ),
            colour="green",
            issuer_code="BHXH",
            issuer_kinds=("social_insurance",),
        ),
        DocType(
            "driving_licence",
            *_t("Giấy phép lái xe", "Driving licence"),
            integrated=True,
            fields=(
                "full_name",
                "licence_number",
                "birth_date",
                "nationality",
                "address",
                "licence_class",
                "issue_date",
                "portrait",
            ),
            colour="pink",
            issuer_code="C08",
            issuer_kinds=("police", "transport"),
        ),
        DocType(
            "vehicle_registration",
            *_t("Giấy chứng nhận đăng ký xe", "Vehicle registration certificate"),
            integrated=True,
            fields=(
                "owner_name",
                "plate_number",
                "vehicle_kind",
                "brand",
                "model",
                "colour",
                "engine_number",
                "chassis_number",
                "registration_date",
            ),
            colour="amber",
            issuer_code="C08",
            issuer_kinds=("police",),
        ),
        DocType(
            "vaccination_certificate",
            *_t("Chứng nhận tiêm chủng", "Vaccination certificate"),
            integrated=True,
            fields=("full_name", "birth_date", "vaccine", "doses", "last_dose_date"),
            colour="teal",
            issuer_code="BYT",
            issuer_kinds=("ministry", "other"),
        ),
        DocType(
            "judicial_record_certificate",
            *_t("Phiếu lý lịch tư pháp", "Judicial record certificate"),
            selective=False,
            integrated=True,
            fields=("full_name", "id_number", "birth_date", "criminal_record", "issue_date"),
            colour="grey",
            issuer_code="STP",
            issuer_kinds=("justice",),
        ),
        DocType(
            "residence_confirmation",
            *_t("Xác nhận thông tin về cư trú", "Residence confirmation"),
            selective=False,
            integrated=True,
            fields=("full_name", "id_number", "address", "residence_kind", "since"),
            colour="grey",
            issuer_code="CAX",
            issuer_kinds=("police",),
        ),
    )
}


def competent(code: str, agency_kind: str) -> bool:
    """Whether an agency of this kind may issue documents of this type (an ID card only
    by the police, a health insurance card only by social insurance …)."""
    known = INTEGRATED.get(code)
    return known is None or not known.issuer_kinds or agency_kind in known.issuer_kinds


def doc_type(code: str, title_vi: str = "", title_en: str = "") -> DocType:
    """The known type, or a selectively disclosable one for a procedure's own type."""
    known = INTEGRATED.get(code)
    if known is not None:
        return known
    return DocType(code, title_vi or code, title_en or code)


FIELD_LABELS: dict[str, Promise] = {
    "full_name": _("Họ, chữ đệm và tên"),
    "id_number": _("Số định danh cá nhân"),
    "birth_date": _("Ngày sinh"),
    "sex": _("Giới tính"),
    "birth_place": _("Nơi sinh"),
    "ethnicity": _("Dân tộc"),
    "nationality": _("Quốc tịch"),
    "home_town": _("Quê quán"),
    "father_name": _("Họ tên cha"),
    "mother_name": _("Họ tên mẹ"),
    "card_number": _("Số thẻ"),
    "issue_date": _("Ngày cấp"),
    "address": _("Nơi thường trú"),
    "registration_place": _("Nơi đăng ký"),
    "registration_date": _("Ngày đăng ký"),
    "valid_from": _("Có giá trị từ"),
    "valid_until": _("Có giá trị đến"),
    "procedure": _("Thủ tục"),
    "dossier": _("Hồ sơ"),
    "child_id_number": _("Số định danh cá nhân của trẻ"),
    "household_code": _("Số hộ"),
    "social_insurance_number": _("Mã số bảo hiểm xã hội"),
    "primary_care_facility": _("Nơi đăng ký khám chữa bệnh ban đầu"),
    "benefit_level": _("Mức hưởng"),
    "licence_number": _("Số giấy phép lái xe"),
    "licence_class": _("Hạng"),
    "owner_name": _("Chủ xe"),
    "plate_number": _("Biển số"),
    "vehicle_kind": _("Loại xe"),
    "brand": _("Nhãn hiệu"),
    "model": _("Số loại"),
    "colour": _("Màu sơn"),
    "engine_number": _("Số máy"),
    "chassis_number": _("Số khung"),
    "vaccine": _("Vắc xin"),
    "doses": _("Số mũi đã tiêm"),
    "last_dose_date": _("Ngày tiêm mũi gần nhất"),
    "criminal_record": _("Tình trạng án tích"),
    "residence_kind": _("Hình thức cư trú"),
    "since": _("Từ ngày"),
    "portrait": _("Ảnh chân dung"),
    "age_over_14": _("Đủ 14 tuổi trở lên"),
    "age_over_16": _("Đủ 16 tuổi trở lên"),
    "age_over_18": _("Đủ 18 tuổi trở lên"),
    # Claims in clear in every credential.
    "document_number": _("Số giấy tờ"),
}


def field_label(name: str) -> Any:
    return FIELD_LABELS.get(name, name.replace("_", " "))
