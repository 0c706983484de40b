"""Helpers of the notification, relationship and batch tests: civil events, ageing rows
past the feed lag, and a real local HTTP receiver for webhooks.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F
from django.utils import timezone

from congdan.exchange.models import Relationship
from congdan.registry.models import CivilEvent, Person

# --- civil events ----------------------------------------------------------------------------


def event(person: Person, kind: str, *, ago: float = 60.0, **extra: Any) -> CivilEvent:
    """A civil event recorded ``ago`` seconds ago (as the registry's services write it)."""
    return CivilEvent.objects.create(
        person=person,
        kind=kind,
        event_date=timezone.localdate(),
        recorded_at=timezone.now() - dt.timedelta(seconds=ago),
        **extra,
    )


def age_everything(seconds: float = 60.0) -> None:
    """Move every event and relationship ``seconds`` into the past (past the feed lag),
    keeping their order in time."""
    delta = dt.timedelta(seconds=seconds)
    CivilEvent.objects.update(recorded_at=F("recorded_at") - delta)
    Relationship.objects.update(created_at=F("created_at") - delta)


# --- a webhook receiver ----------------------------------------------------------------------


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers POSTs with the statuses queued in ``answers`` (then 200) and keeps what
    it received."""

    url: str
    received: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    redirect_to: str = ""


@contextmanager
def receiver() -> Iterator[Receiver]:
    server_box: dict[str, Receiver] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            state = server_box["r"]
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            state.received.append(Received(self.path, dict(self.headers.items()), body))
            status = state.answers.pop(0) if state.answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", state.redirect_to or "/elsewhere")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/hooks/congdan")
    server_box["r"] = state
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
