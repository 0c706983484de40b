"""Appending to the access log and the change history.

Neither function opens a transaction: they join the caller's, so a change and its audit
record commit or roll back together.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone

from congdan.audit.models import AccessLogEntry, ChangeRecord, Channel, Outcome
from congdan.core.context import current_request_id

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from congdan.core.models import User

FieldChanges = dict[str, list[Any]]


def _actor_fields(actor: User | AnonymousUser | None) -> dict[str, Any]:
    if actor is None or not actor.is_authenticated:
        return {"actor": None, "actor_label": "system", "organisation": ""}
    agency = getattr(actor, "agency", None)
    return {
        "actor": actor,
        "actor_label": actor.get_username(),
        "organisation": agency.code if agency is not None else "",
    }


def log_access(
    actor: User | AnonymousUser | None,
    *,
    person_ids: Iterable[int],
    channel: Channel | str,
    view: str,
    fields: Sequence[str],
    purpose: str,
    on_behalf_of: tuple[str, str] | None = None,
    subsystem: str = "",
    outcome: Outcome | str = Outcome.OK,
    hidden_until: dt.date | None = None,
) -> int:
    """Append one entry per person read. Returns the number of entries written.

    ``on_behalf_of`` = (label, organisation) names a non-user reader, such as an OIDC
    client receiving claims (label ``oidc:<client_id>``); ``actor`` is then None.
    ``subsystem`` names the member's system (X-Road identifier), ``outcome`` what the
    reader got, ``hidden_until`` keeps an investigation's read out of the citizen's data
    tracker until that date.
    """
    ids = list(dict.fromkeys(person_ids))
    if not ids:
        return 0
    who = _actor_fields(actor)
    if on_behalf_of is not None:
        who = {**who, "actor_label": on_behalf_of[0][:150], "organisation": on_behalf_of[1][:80]}
    now = timezone.now()
    request_id = current_request_id()
    field_list = ",".join(fields)[:400]
    entries = [
        AccessLogEntry(
            at=now,
            person_id=pid,
            channel=channel,
            view=view[:80],
            fields=field_list,
            purpose=purpose[:200],
            request_id=request_id,
            subsystem=subsystem[:120],
            outcome=outcome,
            hidden_until=hidden_until,
            **who,
        )
        for pid in ids
    ]
    if len(entries) == 1:
        # One INSERT in autocommit: the lookup hot path skips BEGIN/COMMIT round trips.
        entries[0].save(force_insert=True)
    else:
        AccessLogEntry.objects.bulk_create(entries)
    return len(entries)


def to_jsonable(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, models.Model):
        return value.pk
    return value


def diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> FieldChanges:
    return {
        key: [to_jsonable(before.get(key)), to_jsonable(after[key])]
        for key in after
        if to_jsonable(before.get(key)) != to_jsonable(after[key])
    }


def record_change(
    actor: User | AnonymousUser | None,
    *,
    action: str,
    obj: models.Model,
    changes: FieldChanges,
    person_id: int | None = None,
    reason: str = "",
    legal_basis: str = "",
) -> ChangeRecord:
    return ChangeRecord.objects.create(
        action=action,
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        person_id=person_id,
        changes=changes,
        reason=reason[:400],
        legal_basis=legal_basis[:200],
        request_id=current_request_id(),
        **_actor_fields(actor),
    )


# The access log's columns, in the order the sealing digest and raw inserts use.
LOG_COLUMNS = (
    "at",
    "actor_id",
    "actor_label",
    "organisation",
    "person_id",
    "subsystem",
    "channel",
    "view",
    "fields",
    "purpose",
    "request_id",
    "outcome",
    "hidden_until",
)


def read_and_log_sql(
    select_sql: str,
    select_params: Sequence[Any],
    *,
    person_column: str,
    channel: Channel | str,
    view: str,
    fields: Sequence[str],
    purpose: str,
    on_behalf_of: tuple[str, str],
    subsystem: str = "",
    outcome: Outcome | str = Outcome.OK,
    hidden_until: dt.date | None = None,
) -> tuple[str, list[Any]]:
    """PostgreSQL: one statement that runs ``select_sql`` and appends an access-log entry
    (as ``log_access`` would, for a non-user reader) for each row it returns, through a
    data-modifying CTE — a read and its log entry in one round trip. The entry is written
    when, and only when, the row is read; both commit together.

    ``person_column``: the column of ``select_sql`` holding the person's id.
    """
    table = AccessLogEntry._meta.db_table
    columns = ", ".join(LOG_COLUMNS)
    values = ", ".join(["%s"] * 4 + [f"r.{person_column}"] + ["%s"] * 8)
    sql = (
        f"WITH r AS ({select_sql}), "  # noqa: S608 -- fixed identifiers; values are parameters
        f"l AS (INSERT INTO {table} ({columns}) SELECT {values} FROM r) "
        "SELECT * FROM r"
    )
    params = [
        *select_params,
        timezone.now(),
        None,
        on_behalf_of[0][:150],
        on_behalf_of[1][:80],
        subsystem[:120],
        str(channel),
        view[:80],
        ",".join(fields)[:400],
        purpose[:200],
        current_request_id(),
        str(outcome),
        hidden_until,
    ]
    return sql, params
