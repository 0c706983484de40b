from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from congdan.core.permissions import Perm, has_perm


def site(request: HttpRequest) -> dict[str, object]:
    """The site name, and which permission-gated links the navigation shows."""
    user = getattr(request, "user", None)
    return {
        "site_name": settings.CONGDAN_SITE_NAME,
        "can_admin_site": has_perm(user, Perm.ADMIN_SITE),
        "can_search": has_perm(user, Perm.PERSON_SEARCH),
        "can_verify_level2": has_perm(user, Perm.EID_LEVEL2_VERIFY),
        "can_read_persons": has_perm(user, Perm.PERSON_READ),
        "can_process_dossiers": has_perm(user, Perm.DOSSIER_PROCESS),
        "can_supervise_access": has_perm(user, Perm.ACCESS_LOG_SUPERVISE),
        "can_view_monitoring": has_perm(user, Perm.MONITORING_VIEW),
        "can_read_tasks": has_perm(user, Perm.TASK_READ),
        "can_count_paper": has_perm(user, Perm.PAPER_COUNT_RECORD),
    }
