"""Seed the integrated documents (ID card, health insurance card, driving licence …) of
the synthetic population into the wallet: ``congdan seed_documents``.

Fast and idempotent. The issuing agencies (codes of ``doctypes.INTEGRATED``) are made
when missing. Documents are signed like ``credentials.build`` does (same claims, same
formats) but with each agency's key, issuer URL and status-list URIs looked up once per
run rather than once per document; status indices are allocated in blocks
(``statuslist.allocate``); rows are written with ``bulk_create`` in batches, with one
``ISSUED`` event per document and one summary change record per run. No SMS. A person
who already has an integrated document of a type does not get another.

Who gets what (deterministic for a given ``--seed``):

- identity card: everyone alive with a valid identity card in the registry;
- health insurance card: about 90 % of persons;
- driving licence: about 35 % of adults; vehicle registration: about 30 % of adults;
- vaccination certificate: every child under 16 and about 15 % of adults;
- residence confirmation and judicial record certificate: demo citizens only
  (``ensure_demo_documents``), who also get a portrait on the ID card and licence.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import multiprocessing
import os
import random
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.db.models import DateField, DateTimeField, JSONField, Model, Q
from django.utils import timezone

from congdan.audit.services import record_change
from congdan.core.models import Agency, AgencyKind
from congdan.geo.models import AdministrativeUnit
from congdan.registry.models import (
    CardStatus,
    IdentityCard,
    Person,
    RecordStatus,
    Residence,
    ResidenceKind,
    VitalStatus,
)
from congdan.wallet import credentials, doctypes, keys, statuslist
from congdan.wallet.models import (
    Document,
    DocumentEvent,
    DocumentKind,
    DocumentStatus,
    EventKind,
    StatusList,
)

BATCH = 2000  # documents signed then written together
INSERT_ROWS = 500  # rows per INSERT statement (SQLite allows 32,766 parameters)
PERSON_CHUNK = 5000  # persons read per query
ALLOCATE_BLOCK = 10_000  # status indices allocated per call
POOL_FROM = 10_000  # persons from which documents are signed by worker processes
SEED_LABEL = "seed_documents"
SOURCE_REF = "seed"

# code → (name, kind, jurisdiction: "national" or "province")
AGENCIES: dict[str, tuple[str, str, str]] = {
    "C06": (
        "Cục Cảnh sát quản lý hành chính về trật tự xã hội (C06), Bộ Công an",
        AgencyKind.POLICE,
        "national",
    ),
    "BHXH": ("Bảo hiểm xã hội Việt Nam", AgencyKind.SOCIAL_INSURANCE, "national"),
    "C08": ("Cục Cảnh sát giao thông (C08), Bộ Công an", AgencyKind.POLICE, "national"),
    "BYT": ("Bộ Y tế", AgencyKind.MINISTRY, "national"),
    "STP": ("Sở Tư pháp", AgencyKind.JUSTICE, "province"),
    "CAX": ("Công an cấp xã", AgencyKind.POLICE, "province"),
}

NATIONALITIES = {"VN": "Việt Nam"}
PLATE_PREFIX = {"48": "43", "01": "29", "79": "51"}
VEHICLES = (
    ("Xe mô tô", "Honda", "Wave Alpha"),
    ("Xe mô tô", "Honda", "Vision"),
    ("Xe mô tô", "Yamaha", "Sirius"),
    ("Xe mô tô", "VinFast", "Evo200"),
    ("Ô tô con", "Toyota", "Vios"),
    ("Ô tô con", "Hyundai", "Accent"),
    ("Ô tô con", "VinFast", "VF 5"),
)
COLOURS = ("Đen", "Trắng", "Đỏ", "Xanh", "Bạc", "Xám")
VACCINES = ("Viêm gan B", "Sởi - Rubella", "Bại liệt (OPV)", "Cúm mùa", "COVID-19")


@dataclass
class Stats:
    created: Counter[str] = field(default_factory=Counter)
    persons: int = 0
    agencies_created: int = 0
    portraits_added: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.created.values())


# --- agencies -----------------------------------------------------------------------------


def ensure_agencies(province: AdministrativeUnit | None = None) -> tuple[dict[str, Agency], int]:
    """The issuing agencies by code, made when missing (existing rows are left as they
    are); with the number made."""
    found = {a.code: a for a in Agency.objects.filter(code__in=AGENCIES)}
    made = 0
    for code, (name, kind, scope) in AGENCIES.items():
        if code in found:
            continue
        jurisdiction = province if scope == "province" else None
        full_name = f"{name} {jurisdiction.name}" if jurisdiction is not None else name
        found[code], created = Agency.objects.get_or_create(
            code=code, defaults={"name": full_name, "kind": kind, "jurisdiction": jurisdiction}
        )
        made += int(created)
    return found, made


# --- signing: credentials.sign with the agencies' signers looked up once per run ----------

# agency code, claims
Job = tuple[str, credentials.Claims]

_WORKER_KEYS: dict[str, credentials.Signer] = {}


def _worker_init(signing_keys: dict[str, credentials.Signer]) -> None:
    _WORKER_KEYS.update(signing_keys)


def _sign_jobs(jobs: list[Job]) -> list[tuple[str, str]]:
    return [credentials.sign(_WORKER_KEYS[code], facts) for code, facts in jobs]


# --- what each person gets ----------------------------------------------------------------


@dataclass
class _Person:
    pk: int
    id_number: str
    full_name: str
    birth_date: dt.date
    sex: str
    nationality: str
    home_town: str
    address: str
    commune: str
    card: tuple[str, dt.date, dt.date | None] | None  # number, issue date, expiry


def _age(born: dt.date, on: dt.date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _digits(rnd: random.Random, n: int) -> str:
    return "".join(rnd.choice("0123456789") for _ in range(n))


def _between(rnd: random.Random, start: dt.date, end: dt.date) -> dt.date:
    if end <= start:
        return start
    return start + dt.timedelta(days=rnd.randrange((end - start).days + 1))


Plan = tuple[str, dict[str, Any], dt.date | None]  # doc_type, data, valid_until


def _id_card(p: _Person, today: dt.date, portrait: str) -> Plan | None:
    if p.card is None:
        return None
    number, issued, expiry = p.card
    data: dict[str, Any] = {
        "full_name": p.full_name,
        "id_number": p.id_number,
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex,
        "nationality": NATIONALITIES.get(p.nationality, p.nationality),
        "home_town": p.home_town,
        "address": p.address,
        "card_number": number,
        "issue_date": issued.isoformat(),
    }
    if portrait:
        data["portrait"] = portrait
    return "id_card", data, expiry


def _health_card(p: _Person, rnd: random.Random, today: dt.date) -> Plan:
    age = _age(p.birth_date, today)
    level = "100%" if age < 6 or age >= 80 else ("95%" if age >= 60 else "80%")
    facility = (
        f"Trạm Y tế {p.commune}" if p.commune and rnd.random() < 0.6 else "Trung tâm Y tế khu vực"
    )
    data = {
        "full_name": p.full_name,
        "social_insurance_number": p.id_number[-10:],
        "birth_date": p.birth_date.isoformat(),
        "sex": p.sex,
        "address": p.address,
        "primary_care_facility": facility,
        "benefit_level": level,
        "valid_from": today.replace(month=1, day=1).isoformat(),
    }
    return "health_insurance_card", data, today.replace(month=12, day=31)


def _driving_licence(p: _Person, rnd: random.Random, today: dt.date, portrait: str) -> Plan:
    car = rnd.random() < 0.35
    adult = _add_years(p.birth_date, 18)
    if car:  # class B: valid 10 years, so issued within the last ten
        issued = _between(rnd, max(adult, _add_years(today, -9)), today)
        until: dt.date | None = _add_years(issued, 10)
    else:  # class A1: no expiry
        issued = _between(rnd, adult, today)
        until = None
    data: dict[str, Any] = {
        "full_name": p.full_name,
        "licence_number": p.id_number[:2] + _digits(rnd, 10),
        "birth_date": p.birth_date.isoformat(),
        "nationality": NATIONALITIES.get(p.nationality, p.nationality),
        "address": p.address,
        "licence_class": "B" if car else "A1",
        "issue_date": issued.isoformat(),
    }
    if portrait:
        data["portrait"] = portrait
    return "driving_licence", data, until


def _vehicle(p: _Person, rnd: random.Random, today: dt.date, province_code: str) -> Plan:
    kind, brand, model = rnd.choice(VEHICLES)
    prefix = PLATE_PREFIX.get(province_code, "29")
    series = f"{rnd.choice('ABCDEFGHK')}{rnd.randint(1, 9)}" if kind == "Xe mô tô" else "A"
    plate = f"{prefix}{series}-{_digits(rnd, 3)}.{_digits(rnd, 2)}"
    data = {
        "owner_name": p.full_name,
        "plate_number": plate,
        "vehicle_kind": kind,
        "brand": brand,
        "model": model,
        "colour": rnd.choice(COLOURS),
        "engine_number": f"{brand[:2].upper()}{_digits(rnd, 8)}",
        "chassis_number": f"RL{_digits(rnd, 12)}",
        "registration_date": _between(
            rnd, max(_add_years(p.birth_date, 18), _add_years(today, -15)), today
        ).isoformat(),
    }
    return "vehicle_registration", data, None


def _vaccination(p: _Person, rnd: random.Random, today: dt.date) -> Plan:
    doses = rnd.randint(1, 3)
    data = {
        "full_name": p.full_name,
        "birth_date": p.birth_date.isoformat(),
        "vaccine": rnd.choice(VACCINES),
        "doses": doses,
        "last_dose_date": _between(
            rnd, max(p.birth_date, _add_years(today, -3)), today
        ).isoformat(),
    }
    return "vaccination_certificate", data, None


def _residence(p: _Person, since: dt.date | None) -> Plan:
    data = {
        "full_name": p.full_name,
        "id_number": p.id_number,
        "address": p.address,
        "residence_kind": "Thường trú",
        "since": (since or p.birth_date).isoformat(),
    }
    return "residence_confirmation", data, None


def _judicial(p: _Person, today: dt.date) -> Plan:
    data = {
        "full_name": p.full_name,
        "id_number": p.id_number,
        "birth_date": p.birth_date.isoformat(),
        "criminal_record": "Không có án tích",
        "issue_date": today.isoformat(),
    }
    return "judicial_record_certificate", data, _add_years(today, 1) - dt.timedelta(days=1)


def _plans(
    p: _Person,
    *,
    seed: int,
    today: dt.date,
    province_code: str,
    demo: bool = False,
    portrait: str = "",
    since: dt.date | None = None,
) -> Iterator[Plan]:
    rnd = random.Random(f"{seed}|{p.id_number}")  # noqa: S311 -- synthetic data, not security
    age = _age(p.birth_date, today)
    card = _id_card(p, today, portrait)
    if card is not None:
        yield card
    if demo or rnd.random() < 0.9:
        yield _health_card(p, rnd, today)
    adult = age >= 18
    if adult and (demo or rnd.random() < 0.35):
        yield _driving_licence(p, rnd, today, portrait)
    if adult and (demo or rnd.random() < 0.30):
        yield _vehicle(p, rnd, today, province_code)
    if age < 16 or demo or rnd.random() < 0.15:
        yield _vaccination(p, rnd, today)
    if demo:
        yield _residence(p, since)
        yield _judicial(p, today)


# --- reading the population ---------------------------------------------------------------


def _person_ids(
    province: AdministrativeUnit | None, limit: int | None, person_ids: Iterable[int] | None
) -> list[int]:
    persons = Person.objects.filter(vital_status=VitalStatus.ALIVE, status=RecordStatus.ACTIVE)
    if province is not None:
        persons = persons.filter(residence_province=province)
    if person_ids is not None:
        persons = persons.filter(pk__in=list(person_ids))
    return list(persons.order_by("pk").values_list("pk", flat=True)[:limit])


def _population(ids: list[int]) -> Iterator[list[_Person]]:
    today = timezone.localdate()
    for start in range(0, len(ids), PERSON_CHUNK):
        chunk = ids[start : start + PERSON_CHUNK]
        addresses = dict(
            Residence.objects.filter(
                person_id__in=chunk, kind=ResidenceKind.PERMANENT, ended_on__isnull=True
            )
            .order_by("person_id", "start_date")
            .values_list("person_id", "address__text")
        )
        cards: dict[int, tuple[str, dt.date, dt.date | None]] = {}
        for pid, number, issued, expiry in (
            IdentityCard.objects.filter(person_id__in=chunk, status=CardStatus.VALID)
            .filter(Q(expiry_date__isnull=True) | Q(expiry_date__gte=today))
            .order_by("person_id", "issue_date")
            .values_list("person_id", "number", "issue_date", "expiry_date")
        ):
            cards[pid] = (number, issued, expiry)
        rows = (
            Person.objects.filter(pk__in=chunk)
            .order_by("pk")
            .values_list(
                "pk",
                "id_number",
                "full_name",
                "birth_date",
                "sex",
                "nationality",
                "home_town__name",
                "residence_commune__name",
            )
        )
        yield [
            _Person(
                pk=pk,
                id_number=id_number,
                full_name=name,
                birth_date=born,
                sex=sex,
                nationality=nationality,
                home_town=home_town or "",
                address=addresses.get(pk, ""),
                commune=commune or "",
                card=cards.get(pk),
            )
            for pk, id_number, name, born, sex, nationality, home_town, commune in rows
        ]


# --- writing ------------------------------------------------------------------------------


class _Writer:
    """Allocates status indices in blocks, has documents signed (by worker processes
    when there are several cores) and inserts them with their events, in batches."""

    def __init__(self, agencies: dict[str, Agency], stats: Stats, workers: int) -> None:
        self.agencies = agencies
        self.stats = stats
        self.keys = {code: credentials.signer_for(agency) for code, agency in agencies.items()}
        self.uris: dict[tuple[str, int], str] = {}
        self.slots: dict[str, list[tuple[StatusList, int]]] = {}
        self.batch: list[tuple[tuple[Any, ...], Job]] = []
        self.in_flight: deque[tuple[list[tuple[Any, ...]], Any]] = deque()
        self.numbers: set[str] = set()
        self.details: dict[str, dict[str, str]] = {}
        self.issued_at = timezone.now().replace(microsecond=0)
        self.workers = workers
        self.pool: Any = None
        if workers > 1:
            context = multiprocessing.get_context("fork")
            self.pool = context.Pool(workers, initializer=_worker_init, initargs=(self.keys,))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None

    def _slot(self, code: str) -> tuple[str, int, int]:
        free = self.slots.get(code)
        if not free:
            # ``allocate`` only sees indices of saved documents: write everything first.
            self.flush()
            free = self.slots[code] = statuslist.allocate(self.agencies[code], ALLOCATE_BLOCK)
        status_list, index = free.pop()
        uri = self.uris.get((code, status_list.number))
        if uri is None:
            uri = self.uris[code, status_list.number] = keys.status_list_uri(
                self.agencies[code], status_list.number
            )
        return uri, status_list.pk, index

    def _number(self, code: str, doc_type: str) -> str:
        while True:
            number = f"{code}-{doc_type}-{secrets.token_hex(6).upper()}"
            if number not in self.numbers:
                self.numbers.add(number)
                return number

    def add(self, person: _Person, plan: Plan) -> None:
        doc_type, data, valid_until = plan
        kind = doctypes.INTEGRATED[doc_type]
        code = kind.issuer_code
        uri, list_pk, index = self._slot(code)
        number = self._number(code, doc_type)
        row = (
            DocumentKind.ISSUED.value,
            True,
            person.pk,
            doc_type,
            kind.title_vi,
            kind.title_en,
            number,
            self.agencies[code].pk,
            self.issued_at,
            valid_until,
            data,
            SOURCE_REF,
            DocumentStatus.VALID.value,
            list_pk,
            index,
        )
        job: Job = (
            code,
            credentials.Claims(
                doc_type=doc_type,
                number=number,
                issued_at=self.issued_at,
                valid_until=valid_until,
                data=data,
                holder_id_number=person.id_number,
                status_index=index,
                status_uri=uri,
            ),
        )
        self.batch.append((row, job))
        self.stats.created[doc_type] += 1
        if len(self.batch) >= BATCH:
            self._submit()

    def _submit(self) -> None:
        if not self.batch:
            return
        rows = [row for row, _job in self.batch]
        jobs = [job for _row, job in self.batch]
        self.batch = []
        if self.pool is None:
            self._write(rows, _sign_local(self.keys, jobs))
            return
        self.in_flight.append((rows, self.pool.apply_async(_sign_jobs, (jobs,))))
        while len(self.in_flight) > 2 * self.workers:
            done_rows, result = self.in_flight.popleft()
            self._write(done_rows, result.get())

    def flush(self) -> None:
        self._submit()
        while self.in_flight:
            rows, result = self.in_flight.popleft()
            self._write(rows, result.get())

    def _detail(self, code: str) -> dict[str, str]:
        detail = self.details.get(code)
        if detail is None:
            detail = self.details[code] = {"issuer": code, "source_ref": SOURCE_REF}
        return detail

    def _write(self, rows: list[tuple[Any, ...]], signed: list[tuple[str, str]]) -> None:
        blank = ("",) * len(BLANK_COLUMNS)
        ids = _insert(
            Document,
            DOCUMENT_COLUMNS,
            [row + credential + blank for row, credential in zip(rows, signed, strict=True)],
            returning="number",
        )
        _insert(
            DocumentEvent,
            EVENT_COLUMNS,
            [
                (
                    ids[row[6]],
                    self.issued_at,
                    EventKind.ISSUED.value,
                    SEED_LABEL,
                    self._detail(doctypes.INTEGRATED[row[3]].issuer_code),
                )
                for row in rows
            ],
        )


def _sign_local(
    signing_keys: dict[str, credentials.Signer], jobs: list[Job]
) -> list[tuple[str, str]]:
    return [credentials.sign(signing_keys[code], facts) for code, facts in jobs]


# Columns written by the bulk path, in the order of ``_Writer.add``'s row, then the
# credential, then blank text columns; every other column is null.
BLANK_COLUMNS = (
    "claimed_issuer",
    "suspension_reason",
    "file",
    "content_type",
    "sha256",
    "upload_state",
    "check_note",
    "revocation_reason",
)
DOCUMENT_COLUMNS = (
    "kind",
    "integrated",
    "holder",
    "doc_type",
    "title_vi",
    "title_en",
    "number",
    "issuer",
    "issued_at",
    "valid_until",
    "data",
    "source_ref",
    "status",
    "status_list",
    "status_index",
    "credential",
    "credential_format",
    *BLANK_COLUMNS,
)
EVENT_COLUMNS = ("document", "at", "kind", "actor_label", "detail")
_PREPARED = (DateTimeField, DateField, JSONField)


def _insert(
    model: type[Model],
    names: tuple[str, ...],
    rows: list[tuple[Any, ...]],
    *,
    returning: str = "",
) -> dict[Any, int]:
    """One multi-row INSERT per ``INSERT_ROWS`` rows, bypassing model instances (the seed
    writes hundreds of thousands). Values are prepared for the database like the ORM
    does for dates, JSON and files; others go as they are. With ``returning``, the new
    primary keys by that column's value."""
    db = connections[DEFAULT_DB_ALIAS]  # the real wrapper, not the thread-local proxy
    fields = [model._meta.get_field(name) for name in names]
    prepare = [(i, f) for i, f in enumerate(fields) if isinstance(f, _PREPARED)]
    # The same object (the run's issue time, an event's detail) is prepared once.
    last: dict[int, tuple[Any, Any]] = {}
    quote = db.ops.quote_name
    columns = ", ".join(quote(str(getattr(f, "column", ""))) for f in fields)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pk_column = str(model._meta.pk.column) if model._meta.pk is not None else "id"
    tail = f" RETURNING {quote(pk_column)}, {quote(returning)}" if returning else ""
    out: dict[Any, int] = {}
    with db.cursor() as cursor:
        for start in range(0, len(rows), INSERT_ROWS):
            block = rows[start : start + INSERT_ROWS]
            params: list[Any] = []
            for row in block:
                values = list(row)
                for i, f in prepare:
                    raw = values[i]
                    seen = last.get(i)
                    if seen is not None and seen[0] is raw:
                        values[i] = seen[1]
                        continue
                    values[i] = f.get_db_prep_save(raw, db)
                    last[i] = (raw, values[i])
                params.extend(values)
            # Only our own table and column names (quoted) and placeholders: no input.
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({columns}) VALUES "  # noqa: S608 -- names from the model, values as parameters
                + ", ".join([one] * len(block))
                + tail
            )
            cursor.execute(sql, params)
            if returning:
                out.update((value, pk) for pk, value in cursor.fetchall())
    return out


def _code(document: Document) -> str:
    return doctypes.INTEGRATED[document.doc_type].issuer_code


PORTRAIT_TYPES = ("id_card", "driving_licence")


def _add_portraits(writer: _Writer, person_ids: list[int], portrait: str) -> int:
    """Put the portrait on a demo citizen's seeded ID card and licence made without one
    (``make demo`` seeds everyone before choosing the demo citizens). Only a seeded
    document nobody has seen yet — no share, no event but its issue — is re-signed in
    place (same number, same status index); any other is left alone."""
    done = 0
    candidates = (
        Document.objects.filter(
            holder_id__in=person_ids,
            doc_type__in=PORTRAIT_TYPES,
            source_ref=SOURCE_REF,
            status=DocumentStatus.VALID,
        )
        .exclude(data__has_key="portrait")
        .select_related("holder", "status_list")
    )
    for document in candidates:
        if document.shares.exists() or document.events.exclude(kind=EventKind.ISSUED).exists():
            continue
        code = _code(document)
        status_list, index = document.status_list, document.status_index
        assert status_list is not None  # noqa: S101 -- seeded documents have a status list
        assert index is not None  # noqa: S101 -- and an index in it
        document.data = {**document.data, "portrait": portrait}
        facts = credentials.Claims(
            doc_type=document.doc_type,
            number=document.number,
            issued_at=document.issued_at,
            valid_until=document.valid_until,
            data=document.data,
            holder_id_number=document.holder.id_number,
            status_index=index,
            status_uri=keys.status_list_uri(writer.agencies[code], status_list.number),
        )
        document.credential, document.credential_format = credentials.sign(writer.keys[code], facts)
        document.save(update_fields=["data", "credential", "credential_format"])
        done += 1
    return done


def _existing(person_ids: list[int]) -> set[tuple[int, str]]:
    return set(
        Document.objects.filter(
            holder_id__in=person_ids, integrated=True, doc_type__in=list(doctypes.INTEGRATED)
        ).values_list("holder_id", "doc_type")
    )


def seed_documents(
    *,
    province_code: str | None = None,
    limit: int | None = None,
    seed: int = 1,
    person_ids: Iterable[int] | None = None,
    demo: bool = False,
    portrait: str = "",
    progress: Callable[[Stats], None] | None = None,
    workers: int | None = None,
) -> Stats:
    """Issue the missing integrated documents of the (province's) population.

    ``person_ids`` restricts to those persons; ``demo`` gives them every type (residence
    confirmation and judicial record included) and ``portrait`` (a data URI) goes on
    their ID card and driving licence. ``workers``: signing processes (default: one per
    core when there are several; 0 or 1 signs in this process).
    """
    started = time.perf_counter()
    stats = Stats()
    province = None
    if province_code:
        province = AdministrativeUnit.objects.filter(
            scheme="2025", level="province", code=province_code
        ).first()
        if province is None:
            raise ValueError(f"unknown current province code {province_code!r}")
    with transaction.atomic():
        agencies, stats.agencies_created = ensure_agencies(province)
        ids = _person_ids(province, limit, person_ids)
        if workers is None:  # a pool pays off for a large population only
            workers = (os.cpu_count() or 1) if len(ids) >= POOL_FROM else 0
        writer = _Writer(agencies, stats, workers)
        try:
            if demo and portrait:
                stats.portraits_added = _add_portraits(writer, ids, portrait)
            _run(
                writer,
                stats,
                ids,
                seed=seed,
                province_code=province_code or "",
                demo=demo,
                portrait=portrait,
                progress=progress,
            )
        finally:
            writer.close()
        if stats.total or stats.portraits_added:
            record_change(
                None,
                action="wallet_seed_documents",
                obj=agencies["C06"],
                changes={
                    "documents": [None, dict(sorted(stats.created.items()))],
                    "portraits_added": [None, stats.portraits_added],
                },
                reason=SEED_LABEL,
            )
    stats.seconds = time.perf_counter() - started
    return stats


def _run(
    writer: _Writer,
    stats: Stats,
    ids: list[int],
    *,
    seed: int,
    province_code: str,
    demo: bool,
    portrait: str,
    progress: Callable[[Stats], None] | None,
) -> None:
    today = timezone.localdate()
    for chunk in _population(ids):
        existing = _existing([p.pk for p in chunk])
        for person in chunk:
            stats.persons += 1
            for plan in _plans(
                person,
                seed=seed,
                today=today,
                province_code=province_code,
                demo=demo,
                portrait=portrait,
            ):
                if (person.pk, plan[0]) not in existing:
                    writer.add(person, plan)
        if progress is not None:
            progress(stats)
    writer.flush()


# --- demo citizens ------------------------------------------------------------------------


def demo_portrait() -> str:
    """A small grey silhouette (JPEG 120×160) as a data URI, for the demo cards."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 -- only the demo needs Pillow here

    image = Image.new("L", (120, 160), 225)
    draw = ImageDraw.Draw(image)
    draw.ellipse((35, 28, 85, 88), fill=140)  # head
    draw.ellipse((12, 92, 108, 200), fill=140)  # shoulders
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=60, optimize=True)
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def ensure_demo_documents(persons: Iterable[Person], province_code: str | None = None) -> Stats:
    """Every integrated type for the demo citizens (with a portrait on the ID card and
    the driving licence); those they already have are kept."""
    return seed_documents(
        province_code=province_code,
        person_ids=[p.pk for p in persons],
        demo=True,
        portrait=demo_portrait(),
    )


__all__ = [
    "AGENCIES",
    "Stats",
    "demo_portrait",
    "ensure_agencies",
    "ensure_demo_documents",
    "seed_documents",
]
