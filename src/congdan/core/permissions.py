"""Permissions as an enum ``scope:resource:action`` and the roles that hold them.

Checked declaratively: ``@requires(Perm.X)`` on a service function or a view, and
``has_perm(user, Perm.X)`` where a template needs to know. Deny by default: a user
without a role, an inactive user or an anonymous one holds nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from django.db import models
from django.utils.translation import gettext_lazy as _

from congdan.core.errors import PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User


class Perm(StrEnum):
    PERSON_READ = "registry:person:read"
    PERSON_SEARCH = "registry:person:search"
    PERSON_HISTORY_READ = "registry:history:read"
    RESIDENCE_WRITE = "registry:residence:write"
    HOUSEHOLD_MOVE = "registry:household:move"
    DEATH_RECORD = "registry:death:record"
    PERSON_CORRECT = "registry:person:correct"
    PERSON_CREATE = "registry:person:create"
    ACCESS_LOG_READ = "audit:accesslog:read"
    API_TOKEN_MANAGE = "core:apitoken:manage"  # noqa: S105 -- a permission name, not a secret
    ADMIN_SITE = "core:admin:use"
    EID_LEVEL2_VERIFY = "identity:level2:verify"
    EID_ACCOUNT_MANAGE = "identity:account:manage"
    OIDC_CLIENT_MANAGE = "identity:client:manage"
    BIRTH_REGISTER = "registry:birth:register"
    DOSSIER_PROCESS = "procedures:dossier:process"
    DOSSIER_FILE_FOR_CITIZEN = "procedures:dossier:file_for_citizen"
    PAYMENT_REFUND = "payments:payment:refund"
    EXCHANGE_MANAGE = "exchange:grant:manage"
    ACCESS_LOG_SUPERVISE = "audit:accesslog:supervise"
    MONITORING_VIEW = "monitoring:kpi:view"
    TARGET_MANAGE = "monitoring:target:manage"
    TASK_READ = "monitoring:task:read"
    TASK_UPDATE = "monitoring:task:update"
    TASK_MANAGE = "monitoring:task:manage"
    PAPER_COUNT_RECORD = "monitoring:paper:record"


class Role(models.TextChoices):
    NONE = "", _("Không có vai trò")
    # What an officer may do depends on their agency's kind (police, justice …).
    OFFICER = "officer", _("Cán bộ cơ quan (theo loại cơ quan)")
    STEWARD = "steward", _("Cán bộ quản lý dữ liệu")
    DPO = "dpo", _("Cán bộ bảo vệ dữ liệu cá nhân")
    # Leaders of a province or commune (their agency's jurisdiction): the programme's KPIs,
    # targets and tasks.
    LEADER = "leader", _("Lãnh đạo, tổ công tác Đề án 06")
    ADMIN = "admin", _("Quản trị hệ thống")


# Every officer who processes dossiers at a one-stop counter (and counts the paper ones),
# and follows the programme tasks of their agency.
_DOSSIER_OFFICER = frozenset(
    {
        Perm.DOSSIER_PROCESS,
        Perm.DOSSIER_FILE_FOR_CITIZEN,
        Perm.PAYMENT_REFUND,
        Perm.PAPER_COUNT_RECORD,
        Perm.TASK_READ,
        Perm.TASK_UPDATE,
    }
)
# Police: population and residence (the registry's officers since issue 2).
_OFFICER = frozenset(
    {
        Perm.PERSON_READ,
        Perm.PERSON_SEARCH,
        Perm.PERSON_HISTORY_READ,
        Perm.RESIDENCE_WRITE,
        Perm.HOUSEHOLD_MOVE,
        Perm.DEATH_RECORD,
        Perm.API_TOKEN_MANAGE,
        Perm.EID_LEVEL2_VERIFY,
    }
    | _DOSSIER_OFFICER
)
# Justice (civil status): registers births and deaths of the persons it may see.
_JUSTICE_OFFICER = frozenset(
    {Perm.PERSON_READ, Perm.PERSON_SEARCH, Perm.BIRTH_REGISTER, Perm.DEATH_RECORD}
    | _DOSSIER_OFFICER
)
# Officers of agency kinds, keyed by ``core.AgencyKind`` value; unknown kinds process
# dossiers only.
OFFICER_PERMISSIONS: dict[str, frozenset[Perm]] = {
    "police": _OFFICER,
    "justice": _JUSTICE_OFFICER,
}
_STEWARD = frozenset(
    {
        Perm.PERSON_READ,
        Perm.PERSON_SEARCH,
        Perm.PERSON_HISTORY_READ,
        Perm.PERSON_CORRECT,
        Perm.PERSON_CREATE,
        Perm.ADMIN_SITE,
        Perm.API_TOKEN_MANAGE,
    }
)
# The data-protection officer: supervises who reads citizens' data, manages grants.
_DPO = frozenset(
    {Perm.ACCESS_LOG_READ, Perm.ACCESS_LOG_SUPERVISE, Perm.EXCHANGE_MANAGE, Perm.ADMIN_SITE}
)
_LEADER = frozenset(
    {
        Perm.MONITORING_VIEW,
        Perm.TARGET_MANAGE,
        Perm.TASK_READ,
        Perm.TASK_UPDATE,
        Perm.TASK_MANAGE,
    }
)
ROLE_PERMISSIONS: dict[str, frozenset[Perm]] = {
    Role.NONE: frozenset(),
    Role.DPO: _DPO,
    Role.LEADER: _LEADER,
    Role.OFFICER: _OFFICER,
    Role.STEWARD: _STEWARD,
    Role.ADMIN: frozenset(Perm),
}


def permissions_of(user: User | AnonymousUser | None) -> frozenset[Perm]:
    if user is None or not user.is_authenticated or not user.is_active:
        return frozenset()
    role = getattr(user, "role", "")
    if role == Role.OFFICER:
        agency = getattr(user, "agency", None)
        if agency is None or not agency.active:
            return frozenset()
        return OFFICER_PERMISSIONS.get(agency.kind, _DOSSIER_OFFICER)
    return ROLE_PERMISSIONS.get(role, frozenset())


def has_perm(user: User | AnonymousUser | None, perm: Perm) -> bool:
    return perm in permissions_of(user)


def check_perm(user: User | AnonymousUser | None, perm: Perm) -> None:
    if not has_perm(user, perm):
        raise PermissionDenied(
            _("Bạn không có quyền thực hiện thao tác này."), code="permission_denied"
        )


P = ParamSpec("P")
R = TypeVar("R")


def requires(
    perm: Perm,
) -> Callable[[Callable[Concatenate[Any, P], R]], Callable[Concatenate[Any, P], R]]:
    """Decorate a service whose first argument is the acting user."""

    def decorate(func: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
        @functools.wraps(func)
        def wrapper(actor: Any, /, *args: P.args, **kwargs: P.kwargs) -> R:
            check_perm(actor, perm)
            return func(actor, *args, **kwargs)

        wrapper.required_perm = perm  # type: ignore[attr-defined]  # introspected by tests
        return wrapper

    return decorate
