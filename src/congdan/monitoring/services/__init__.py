"""The monitoring app's state changes (DESIGN rule 1), one module per concern:

- ``tasks``: the programme's tasks, progress notes, evidence files (and their scoping);
- ``groups``: working groups and their members;
- ``paper``: paper dossiers counted at one-stop counters (counter mode).
"""

from congdan.monitoring.services.groups import (
    add_member,
    create_group,
    delete_group,
    remove_member,
    update_group,
    update_member,
)
from congdan.monitoring.services.paper import record_paper_count
from congdan.monitoring.services.tasks import add_evidence, add_note, create_task, update_task

__all__ = [
    "add_evidence",
    "add_member",
    "add_note",
    "create_group",
    "create_task",
    "delete_group",
    "record_paper_count",
    "remove_member",
    "update_group",
    "update_member",
    "update_task",
]
