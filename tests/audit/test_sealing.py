"""Sealing the access log into a signed hash chain, and detecting tampering.

Tampering is done the way an intruder with database access would: raw SQL, with the
append-only triggers switched off for the statement.
"""

from __future__ import annotations

import datetime as dt
import importlib
from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.db.models import Max
from django.test import Client
from django.utils import timezone

from congdan import cli
from congdan.audit import sealing
from congdan.audit.models import AccessLogEntry, AccessLogSeal, Channel
from congdan.audit.sealing import add_months, month_bounds, month_of
from tests.conftest import World

pytestmark = pytest.mark.django_db

NOW = timezone.now()
THIS_MONTH = month_of(NOW)
JAN = add_months(THIS_MONTH, -3)  # "January", "February": two months in the past
FEB = add_months(THIS_MONTH, -2)

_seal_trigger = importlib.import_module("congdan.audit.migrations.0010_seal_append_only")


def at(month: dt.date, day: int = 1, hour: int = 12) -> dt.datetime:
    return month_bounds(month)[0] + dt.timedelta(days=day - 1, hours=hour)


def add(when: dt.datetime, *, purpose: str = "official_duty", **extra: Any) -> AccessLogEntry:
    entry = AccessLogEntry(
        at=when,
        actor_label="officer",
        organisation="CA-48",
        person_id=1,
        channel=Channel.EXCHANGE,
        view="person-basic",
        fields="full_name,date_of_birth",
        purpose=purpose,
        subsystem="VN/COM/VCB/ekyc",
        request_id="req-1",
        **extra,
    )
    entry.save(force_insert=True)
    return entry


def seal_all() -> int:
    total = 0
    while sealed := sealing.seal_pending():
        total += sealed
    return total


@contextmanager
def triggers_off(table: str) -> Iterator[None]:
    """What an intruder does first: switch the append-only trigger off."""
    vendor = connection.vendor
    with connection.cursor() as cursor:
        if vendor == "postgresql":
            trigger = "audit_access_append_only"
            if table == "audit_accesslogseal":
                trigger = "audit_seal_append_only"
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}")
        elif table == "audit_accesslogseal":
            cursor.execute("DROP TRIGGER audit_seal_append_only")
        else:
            cursor.execute("DROP TRIGGER audit_access_append_only")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if vendor == "postgresql":
                trigger = "audit_access_append_only"
                if table == "audit_accesslogseal":
                    trigger = "audit_seal_append_only"
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {trigger}")
            elif table == "audit_accesslogseal":
                cursor.execute(_seal_trigger.SQLITE_UP)
            else:
                cursor.execute(_seal_trigger.SQLITE_ENTRY_TRIGGER)


def raw(sql: str, params: list[Any], table: str = "audit_accesslogentry") -> int:
    with triggers_off(table), connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def kinds_of(report: sealing.Report) -> set[tuple[str, int | None]]:
    return {(p.kind, p.seal_id) for p in report.problems}


@pytest.fixture
def log() -> dict[str, list[AccessLogEntry]]:
    """Three entries in JAN, two in FEB (interleaved ids), one just now."""
    jan = [add(at(JAN, 3)), add(at(JAN, 4))]
    feb = [add(at(FEB, 1))]
    jan.append(add(at(JAN, 31, hour=23)))
    feb.append(add(at(FEB, 2), hidden_until=dt.date(2030, 1, 1)))
    recent = [add(timezone.now())]
    return {"jan": jan, "feb": feb, "recent": recent}


def jan_seal() -> AccessLogSeal:
    return AccessLogSeal.objects.get(month=JAN)


# --- the canonical form ---------------------------------------------------------------


def test_row_fields_are_every_column() -> None:
    columns = {f.attname for f in AccessLogEntry._meta.concrete_fields}
    assert set(sealing.ROW_FIELDS) == columns
    assert len(sealing.ROW_FIELDS) == len(columns)


def test_canonical_row_is_unambiguous() -> None:
    a = sealing.canonical_row((1, NOW, None, "a,b", "", 2))
    b = sealing.canonical_row((1, NOW, None, "a", ",b", 2))
    assert a != b
    assert a.endswith(b"\n")
    assert sealing.canonical_row(("Nguyễn",)) == '["Nguyễn"]\n'.encode()


# --- sealing --------------------------------------------------------------------------


def test_seals_old_entries_month_by_month(log: dict[str, list[AccessLogEntry]]) -> None:
    # Five entries; the month between FEB and this one is empty and is closed as one
    # item; the entry made just now is too young.
    assert sealing.seal_pending() == 6
    seals = list(AccessLogSeal.objects.order_by("id"))
    by_month = {s.month: s for s in seals}
    jan, feb = by_month[JAN], by_month[FEB]
    assert (jan.count, jan.first_id, jan.last_id, jan.closed) == (
        3,
        log["jan"][0].pk,
        log["jan"][2].pk,
        True,
    )
    assert (feb.count, feb.closed) == (2, True)
    # The month between FEB and this one has no entries: an empty closing seal.
    empty = by_month[add_months(THIS_MONTH, -1)]
    assert (empty.count, empty.closed) == (0, True)
    assert THIS_MONTH not in by_month
    # One chain, ordered by id, every seal signed with the current key.
    public = sealing.signing_key().public_key()
    prev = sealing.GENESIS
    for seal in seals:
        assert seal.prev_hash == prev
        assert seal.seal_hash == sealing.compute_seal_hash(seal)
        assert seal.key_id == sealing.key_id_of(public)
        public.verify(bytes.fromhex(seal.signature), bytes.fromhex(seal.seal_hash))
        prev = seal.seal_hash
    assert sealing.seal_pending() == 0  # idempotent

    report = sealing.verify()
    assert report.ok, report.problems
    assert (report.segments_checked, report.entries_checked) == (len(seals), 5)
    assert report.unsealed == {f"{THIS_MONTH:%Y-%m}": 1}
    assert report.head == seals[-1].seal_hash


def test_this_month_is_sealed_but_left_open(log: dict[str, list[AccessLogEntry]]) -> None:
    assert sealing.seal_pending(now=timezone.now() + dt.timedelta(hours=1)) == 6 + 1
    current = AccessLogSeal.objects.get(month=THIS_MONTH)
    assert (current.count, current.closed) == (1, False)
    later = add(timezone.now() + dt.timedelta(minutes=1))
    assert sealing.seal_pending(now=timezone.now() + dt.timedelta(hours=1)) == 1
    newest = AccessLogSeal.objects.order_by("-id").first()
    assert newest is not None
    assert (newest.month, newest.first_id, newest.count) == (THIS_MONTH, later.pk, 1)
    assert sealing.verify().ok


def test_a_young_entry_stops_the_segment() -> None:
    """Entries are sealed in id order up to the first one still inside the delay, so a
    later, older entry never leaves a hole in the sealed range."""
    now = timezone.now()
    old = add(now - dt.timedelta(hours=1))
    young = add(now)
    older = add(now - dt.timedelta(hours=2))  # committed late, with an older time
    assert sealing.seal_pending() == 1
    seal = AccessLogSeal.objects.get()
    assert (seal.first_id, seal.last_id) == (old.pk, old.pk)
    assert sealing.seal_pending(now=timezone.now() + dt.timedelta(hours=1)) == 2
    assert AccessLogSeal.objects.order_by("-id").values_list("last_id", flat=True)[0] == older.pk
    assert young.pk < older.pk
    assert sealing.verify().ok


def test_segments_are_bounded() -> None:
    entries = [add(at(JAN, day)) for day in range(1, 6)]
    assert sealing.seal_pending(max_rows=2, max_segments=2) == 4
    assert sealing.seal_pending(max_rows=2) == 1 + 2  # and the empty months after JAN
    jan = list(AccessLogSeal.objects.filter(month=JAN).order_by("id"))
    assert [(s.first_id, s.last_id, s.count) for s in jan] == [
        (entries[0].pk, entries[1].pk, 2),
        (entries[2].pk, entries[3].pk, 2),
        (entries[4].pk, entries[4].pk, 1),
    ]
    assert not jan[0].closed and jan[-1].closed
    assert sealing.verify().ok


def test_streams_many_entries_across_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sealing, "CHUNK_ROWS", 7)
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            at=at(JAN, 1 + i % 28),
            actor_label="bulk",
            person_id=i,
            channel=Channel.API,
            view="v",
            purpose="p",
        )
        for i in range(100)
    )
    assert seal_all() == 100 + 2  # and two empty months closed
    assert AccessLogSeal.objects.get(month=JAN).count == 100
    assert sealing.verify().entries_checked == 100


def test_nothing_to_seal_on_an_empty_log() -> None:
    assert sealing.seal_pending() == 0
    report = sealing.verify()
    assert report.ok
    assert report.seals == 0


# --- tampering with entries -----------------------------------------------------------


def test_edited_entry_is_found(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    victim = log["jan"][1]
    assert raw("UPDATE audit_accesslogentry SET purpose = %s WHERE id = %s", ["x", victim.pk])
    report = sealing.verify()
    assert kinds_of(report) == {("digest", jan_seal().pk)}
    problem = report.problems[0]
    assert (problem.month, problem.first_id, problem.last_id) == (
        f"{JAN:%Y-%m}",
        log["jan"][0].pk,
        log["jan"][2].pk,
    )


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("hidden_until", None),  # an investigation's read made visible, or hidden
        ("outcome", "refused"),
        ("subsystem", "VN/COM/OTHER/x"),
        ("at", "shift"),  # moved within its month
    ],
)
def test_every_column_is_sealed(
    log: dict[str, list[AccessLogEntry]], column: str, value: object
) -> None:
    seal_all()
    victim = log["feb"][1]
    if value == "shift":
        value = victim.at + dt.timedelta(seconds=1)
    sql = f"UPDATE audit_accesslogentry SET {column} = %s WHERE id = %s"  # noqa: S608 -- column from the parametrize list
    raw(sql, [value, victim.pk])
    assert kinds_of(sealing.verify()) == {("digest", AccessLogSeal.objects.get(month=FEB).pk)}


def test_deleted_entry_is_found(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    assert raw("DELETE FROM audit_accesslogentry WHERE id = %s", [log["jan"][0].pk])
    report = sealing.verify()
    assert kinds_of(report) == {("count", jan_seal().pk)}
    assert "2 entries found, 3 sealed" in str(report.problems[0])


def test_entry_moved_to_another_month_is_found(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    raw(
        "UPDATE audit_accesslogentry SET at = %s WHERE id = %s",
        [at(FEB, 5), log["jan"][1].pk],
    )
    kinds = kinds_of(sealing.verify())
    assert ("count", jan_seal().pk) in kinds


def test_entry_inserted_inside_a_sealed_range_is_found() -> None:
    base = (AccessLogEntry.objects.aggregate(m=Max("id"))["m"] or 0) + 1_000_000
    add(at(JAN, 2), id=base)
    add(at(JAN, 4), id=base + 2)
    seal_all()
    assert jan_seal().count == 2
    add(at(JAN, 3), id=base + 1)  # the insert an intruder makes, with a chosen id
    report = sealing.verify()
    assert kinds_of(report) == {("count", jan_seal().pk)}
    assert "3 entries found, 2 sealed (entries inserted)" in str(report.problems[0])


def test_entry_inserted_into_a_closed_month_is_found(
    log: dict[str, list[AccessLogEntry]],
) -> None:
    seal_all()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO audit_accesslogentry (at, actor_label, organisation, person_id,"
            " subsystem, channel, view, fields, purpose, request_id, outcome)"
            " VALUES (%s, 'ghost', '', 9, '', 'api', 'v', '', 'p', '', 'ok')",
            [at(JAN, 15)],
        )
    report = sealing.verify()
    assert kinds_of(report) == {("after_close", jan_seal().pk)}
    # The sealer leaves a closed month alone: the insertion stays visible.
    sealing.seal_pending(now=timezone.now() + dt.timedelta(days=1))
    assert kinds_of(sealing.verify()) == {("after_close", jan_seal().pk)}


def test_entry_backdated_before_the_first_sealed_month_is_found(
    log: dict[str, list[AccessLogEntry]],
) -> None:
    seal_all()
    add(at(add_months(JAN, -7), 9))
    report = sealing.verify()
    assert [p.kind for p in report.problems] == ["unsealed_month"]
    assert report.problems[0].month == f"{add_months(JAN, -7):%Y-%m}"


def test_verify_one_month(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    raw("UPDATE audit_accesslogentry SET purpose = %s WHERE id = %s", ["x", log["jan"][0].pk])
    feb = sealing.verify(month=FEB)
    assert feb.ok
    assert (feb.segments_checked, feb.entries_checked) == (1, 2)
    assert not sealing.verify(month=JAN).ok


# --- tampering with seals -------------------------------------------------------------


def test_forged_seal_fails_on_the_signature(log: dict[str, list[AccessLogEntry]]) -> None:
    """An intruder edits an entry and rewrites the seal's digest and hash to match: the
    signature, made with a key they do not have, gives it away."""
    seal_all()
    raw("UPDATE audit_accesslogentry SET purpose = %s WHERE id = %s", ["x", log["jan"][0].pk])
    seal = jan_seal()
    digest = sealing.hashlib.sha256()
    for row in sealing._rows(JAN, 0, seal.last_id):
        digest.update(sealing.canonical_row(row))
    seal.entries_digest = digest.hexdigest()
    forged_hash = sealing.compute_seal_hash(seal)
    raw(
        "UPDATE audit_accesslogseal SET entries_digest = %s, seal_hash = %s WHERE id = %s",
        [seal.entries_digest, forged_hash, seal.pk],
        table="audit_accesslogseal",
    )
    kinds = kinds_of(sealing.verify())
    assert ("signature", seal.pk) in kinds
    assert ("digest", seal.pk) not in kinds  # the digest now matches; the seal does not
    next_seal = AccessLogSeal.objects.filter(id__gt=seal.pk).order_by("id").first()
    assert next_seal is not None
    assert ("chain", next_seal.pk) in kinds


def test_seal_edited_without_rehash_fails_on_its_hash(
    log: dict[str, list[AccessLogEntry]],
) -> None:
    seal_all()
    seal = jan_seal()
    raw(
        "UPDATE audit_accesslogseal SET count = 2 WHERE id = %s",
        [seal.pk],
        table="audit_accesslogseal",
    )
    kinds = kinds_of(sealing.verify())
    assert {("seal_hash", seal.pk), ("count", seal.pk)} <= kinds


def test_deleted_seal_breaks_the_chain() -> None:
    entries = [add(at(JAN, day)) for day in range(1, 7)]
    sealing.seal_pending(max_rows=2)
    first, middle, last = AccessLogSeal.objects.filter(month=JAN).order_by("id")[:3]
    assert raw(
        "DELETE FROM audit_accesslogseal WHERE id = %s", [middle.pk], table="audit_accesslogseal"
    )
    report = sealing.verify()
    assert ("chain", last.pk) in kinds_of(report)
    # The deleted segment's entries now fall into the next segment's range.
    assert ("count", last.pk) in kinds_of(report)
    assert ("chain", first.pk) not in kinds_of(report)
    assert len(entries) == 6


def test_removed_newest_seal_is_found_against_an_anchor(
    log: dict[str, list[AccessLogEntry]],
) -> None:
    seal_all()
    head = sealing.verify().head
    newest = AccessLogSeal.objects.order_by("-id").first()
    assert newest is not None
    raw("DELETE FROM audit_accesslogseal WHERE id = %s", [newest.pk], table="audit_accesslogseal")
    assert sealing.verify().ok  # truncating the chain's end is invisible without an anchor
    report = sealing.verify(anchor=head)
    assert [p.kind for p in report.problems] == ["anchor"]
    # An anchor that is still in the chain (it grew since) is fine.
    seal_all()
    assert sealing.verify(anchor=jan_seal().seal_hash).ok


def test_seals_signed_with_an_earlier_key(
    log: dict[str, list[AccessLogEntry]], settings: object
) -> None:
    seal_all()
    old_key = sealing.signing_key().public_key()
    settings.ACCESS_LOG_SEAL_SECRET = "a-new-secret-that-is-at-least-32-characters"  # type: ignore[attr-defined]  # pytest-django settings fixture
    assert sealing.key_id_of(sealing.signing_key().public_key()) != sealing.key_id_of(old_key)
    assert {p.kind for p in sealing.verify().problems} == {"unknown_key"}
    assert sealing.verify(public_keys=[old_key]).ok
    # New seals are signed with the new key; the chain goes on.
    add(at(THIS_MONTH, 1, hour=0))
    sealing.seal_pending(now=timezone.now() + dt.timedelta(days=1))
    assert sealing.verify(public_keys=[old_key]).ok


def test_the_database_refuses_changes_to_seals(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    seal = jan_seal()
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogSeal.objects.filter(pk=seal.pk).update(count=99)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogSeal.objects.filter(pk=seal.pk).update(pruned_at=timezone.now(), count=99)
    # Setting pruned_at once is what retention does.
    AccessLogSeal.objects.filter(pk=seal.pk).update(pruned_at=timezone.now())
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessLogSeal.objects.filter(pk=seal.pk).update(pruned_at=None)
    if connection.vendor == "postgresql":
        with pytest.raises(DatabaseError), transaction.atomic():
            AccessLogSeal.objects.filter(pk=seal.pk).delete()
    assert AccessLogSeal.objects.get(pk=seal.pk).count == 3


# --- the command ----------------------------------------------------------------------


def run(*args: str) -> str:
    out = StringIO()
    call_command("verify_access_log", *args, stdout=out)
    return out.getvalue()


def test_command_reports_a_clean_log(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    out = run()
    assert "segments checked (5 entries)" in out
    assert f"not yet sealed (normal, not an error): {THIS_MONTH:%Y-%m}: 1" in out
    assert "no tampering found" in out
    assert f"chain head: {sealing.verify().head}" in out


def test_command_fails_naming_the_segment(log: dict[str, list[AccessLogEntry]]) -> None:
    seal_all()
    raw("UPDATE audit_accesslogentry SET purpose = %s WHERE id = %s", ["x", log["jan"][2].pk])
    out = StringIO()
    with pytest.raises(CommandError, match="FAILED: 1 problem"):
        call_command("verify_access_log", stdout=out)
    seal = jan_seal()
    assert (
        f"PROBLEM [digest] segment #{seal.pk} ({JAN:%Y-%m}, ids {seal.first_id}–{seal.last_id})"
        in out.getvalue()
    )


@pytest.mark.parametrize("name", ["verify_access_log", "verify-access-log"])
def test_console_script_exits_non_zero(
    log: dict[str, list[AccessLogEntry]],
    name: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A command run from the console closes all connections when it ends; the test's
    # transaction lives on the connection, so keep it open.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    seal_all()
    cli.main(["congdan", name])
    assert "no tampering found" in capsys.readouterr().out
    raw("DELETE FROM audit_accesslogentry WHERE id = %s", [log["feb"][0].pk])
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["congdan", name, "--month", f"{FEB:%Y-%m}"])
    assert exit_info.value.code == 1
    assert "PROBLEM [count] segment #" in capsys.readouterr().out


def test_command_options(log: dict[str, list[AccessLogEntry]]) -> None:
    out = run("--show-key")
    public_hex = sealing.public_key_bytes(sealing.signing_key().public_key()).hex()
    assert public_hex in out
    assert sealing.key_id_of(sealing.signing_key().public_key()) in out
    seal_all()
    assert "1 segments checked (2 entries)" in run(
        "--month", f"{FEB:%Y-%m}", "--public-key", public_hex
    )
    with pytest.raises(CommandError, match="YYYY-MM"):
        run("--month", "2026-13")
    with pytest.raises(CommandError, match="64 hexadecimal"):
        run("--public-key", "zz")
    buffer = StringIO()
    with pytest.raises(CommandError, match="FAILED"):
        call_command("verify_access_log", "--anchor", "ab" * 32, stdout=buffer)
    assert "PROBLEM [anchor] the recorded seal " + "ab" * 32 + " is not in the chain" in (
        buffer.getvalue()
    )


# --- the admin ------------------------------------------------------------------------


def test_seals_are_shown_read_only_in_the_admin(
    world: World, log: dict[str, list[AccessLogEntry]]
) -> None:
    seal_all()
    seal = jan_seal()
    url = "/admin/audit/accesslogseal/"
    admin_client = Client()
    admin_client.force_login(world.admin)
    listing = admin_client.get(url)
    assert listing.status_code == 200
    assert seal.pk in [s.pk for s in listing.context["cl"].result_list]
    detail = admin_client.get(f"{url}{seal.pk}/change/")
    assert detail.status_code == 200
    assert seal.seal_hash in detail.content.decode()
    assert admin_client.post(f"{url}{seal.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.post(f"{url}{seal.pk}/change/", {"count": "1"}).status_code == 403
    steward_client = Client()
    steward_client.force_login(world.steward)
    assert steward_client.get(url).status_code == 403
    assert AccessLogSeal.objects.get(pk=seal.pk).count == 3
