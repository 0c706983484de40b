"""State changes of dossiers and bundles (DESIGN rule 1): the citizen's side in
``submission``, the officers' in ``processing``."""

from congdan.procedures.services.processing import (
    approve_dossier,
    assign_dossier,
    claim_dossier,
    complete_review,
    receive_dossier,
    reject_dossier,
    request_supplement,
)
from congdan.procedures.services.submission import (
    Submitted,
    payable,
    rate_dossier,
    record_payment,
    save_draft,
    send_consent_code,
    submit_application,
    supplement_dossier,
    withdraw_dossier,
)

__all__ = [
    "Submitted",
    "approve_dossier",
    "assign_dossier",
    "claim_dossier",
    "complete_review",
    "payable",
    "rate_dossier",
    "receive_dossier",
    "record_payment",
    "reject_dossier",
    "request_supplement",
    "save_draft",
    "send_consent_code",
    "submit_application",
    "supplement_dossier",
    "withdraw_dossier",
]
