"""Dossier submissions per second against `congdan serve`, and whole birth bundles per
second through the services, on PostgreSQL.

* **Dossier submission** (target ≥ 200/s, p95 < 200 ms): many distinct citizens, each with
  an active level-2 e-ID account and a logged-in portal session (written straight into
  the session store, as a completed OIDC login leaves it: Django login, tracked session,
  ``PORTAL_SESSION_KEY``), POST the application form `/services/<code>/apply/` with a
  fresh ``idempotency_key`` per request. The real view runs: citizen guard, application
  built from the spec with the registry prefill, form validation, fee, dossier and event
  rows, audit record, notification queued. A submission counts when the server answers
  302 to the new dossier; afterwards the dossiers of the run are counted in the database
  and must match. Two procedures, both free of attachments:
  `temporary_absence_declaration` (free; its spec has no prefilled field, so prefill is
  only the applicant's registry record and residence) and `marital_status_certificate`
  (four fields prefilled from the registry, a fee with an online exemption).
  Reference in the same run (not a target): GET of the same application form by the
  same sessions (prefill and render, no write).
* **Birth bundles** (in-process, one Python process, no HTTP): a mother files the birth
  bundle (birth registration, permanent residence, child health insurance card) with the
  medical birth certificate, then the commune justice officer, the commune police officer
  and the provincial social-insurance officer receive, review and approve their parts
  through `congdan.procedures.services`: the child is registered with an ID number, joins
  the household, and both result documents are issued. Reported as bundles per second
  and latency per bundle.

Load comes from wrk on the same machine (it takes CPU from the server). Seeds the
province first when the database has too few persons.

    createdb -h 127.0.0.1 -U postgres congdan_bench_proc
    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench_proc \\
        CONGDAN_DEBUG=1 .venv/bin/congdan migrate
    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench_proc \\
        .venv/bin/python bench/bench_procedures.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

from common import served, write_result

TARGET_PER_S = 200
TARGET_P95_MS = 200
TAG = "bench-proc"  # EidAccount.status_reason of the accounts this bench makes
# A CSRF cookie and form token (32 characters: Django accepts the unmasked secret).
CSRF_SECRET = "BenchProcCsrfSecret0123456789abc"  # noqa: S105 -- not a secret
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

LUA = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
local lines = {}
for line in io.lines("%(lines)s") do lines[#lines + 1] = line end
local n = #lines
local tag = "%(tag)s"
local method = "%(method)s"
local path = "%(path)s"
local expect = %(expect)d
local i = 0
request = function()
  i = i + 1
  local line = lines[math.random(n)]
  local tab = string.find(line, "\\t", 1, true)
  local cookie = string.sub(line, 1, tab - 1)
  local headers = {}
  headers["Cookie"] = cookie
  if method == "POST" then
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    local body = string.sub(line, tab + 1) .. "&idempotency_key=" .. tag .. i
    return wrk.format("POST", path, headers, body)
  end
  return wrk.format("GET", path, headers, nil)
end
response = function(status, headers, body)
  if status ~= expect then wrk.thread:set("bad", (wrk.thread:get("bad") or 0) + 1) end
end
done = function(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + (t:get("bad") or 0) end
  io.write(string.format("unexpected_status %%d\\n", bad))
  io.write(string.format("latency_us %%d %%d %%d\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
    os.environ["CONGDAN_DEBUG"] = "1"
    # The sessions written here are signed with this key: the server must share it.
    os.environ.setdefault("CONGDAN_SECRET_KEY", secrets.token_urlsafe(50))
    import django

    django.setup()


def postgres_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return str(cursor.fetchone()[0])


# --- data --------------------------------------------------------------------------------


def ensure_population(province: str, minimum: int) -> int:
    from congdan.registry.models import Person

    have = Person.objects.filter(residence_province__code=province).count()
    if have < minimum:
        from congdan.registry.seed import seed_population

        print(f"seeding {minimum - have} persons in province {province}", flush=True)
        seed_population(province_code=province, people=minimum - have, seed=23, progress=False)
    return Person.objects.count()


def citizens(province: str, count: int) -> list[Any]:
    """`count` active level-2 e-ID accounts of adults living in the province, in a
    household (made once, reused by later runs)."""
    from django.db import transaction
    from django.utils import timezone

    from congdan.core.models import User
    from congdan.identity.models import AccountStatus, EidAccount, EidLevel
    from congdan.registry.models import Person, VitalStatus

    existing = EidAccount.objects.filter(status_reason=TAG).count()
    if existing < count:
        adult = timezone.localdate() - dt.timedelta(days=20 * 366)
        persons = list(
            Person.objects.filter(
                residence_province__code=province,
                residence_commune__isnull=False,
                vital_status=VitalStatus.ALIVE,
                status="active",
                birth_date__lte=adult,
                birth_date__gte=adult - dt.timedelta(days=40 * 366),
                eid_account__isnull=True,
                memberships__until__isnull=True,
            )
            .order_by("id")
            .values_list("id", "id_number", "full_name")[: count - existing]
        )
        now = timezone.now()
        with transaction.atomic():
            for pk, number, name in persons:
                # No password: the sessions are made directly, never through a login.
                user = User.objects.create(
                    username=number, first_name=name, password="!" + secrets.token_hex(20)
                )
                EidAccount.objects.create(
                    user=user,
                    person_id=pk,
                    level=EidLevel.LEVEL2,
                    status=AccountStatus.ACTIVE,
                    status_reason=TAG,
                    phone="0900000000",
                    phone_verified_at=now,
                    activated_at=now,
                    level2_at=now,
                )
    accounts = list(
        EidAccount.objects.filter(status_reason=TAG)
        .select_related("user", "person")
        .order_by("id")[:count]
    )
    if len(accounts) < count:
        sys.exit(f"only {len(accounts)} adults with a household: seed more persons")
    return accounts


def portal_sessions(accounts: list[Any]) -> list[str]:
    """A logged-in portal session per account, as the OIDC callback leaves it."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from congdan.identity.decorators import PORTAL_SESSION_KEY
    from congdan.identity.middleware import SESSION_MARK
    from congdan.identity.models import UserSession

    now = timezone.now()
    expires = now + dt.timedelta(hours=8)
    store = SessionStore()
    keys: list[str] = []
    sessions: list[Session] = []
    tracked: list[UserSession] = []
    for account in accounts:
        user = account.user
        key = secrets.token_hex(16)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
            "eid_auth": {"time": int(now.timestamp()), "amr": ["pwd", "sms"], "level": 2},
            PORTAL_SESSION_KEY: {
                "uid": user.pk,
                "sub": str(account.public_id),
                "acr": f"level{account.level}",
            },
            SESSION_MARK: True,
            SESSION_MARK + "_seen": now.timestamp(),
        }
        sessions.append(
            Session(session_key=key, session_data=store.encode(data), expire_date=expires)
        )
        tracked.append(UserSession(user=user, session_key=key, created_at=now, last_seen_at=now))
        keys.append(key)
    with transaction.atomic():
        UserSession.objects.filter(user__eid__status_reason=TAG).delete()
        Session.objects.bulk_create(sessions, batch_size=1000)
        UserSession.objects.bulk_create(tracked, batch_size=1000)
    return keys


def form_body(code: str) -> dict[str, str]:
    """The fields a citizen fills in (the prefilled ones are the registry's anyway)."""
    from django.utils import timezone

    today = timezone.localdate()
    if code == "temporary_absence_declaration":
        return {
            "destination": "Thành phố Hồ Chí Minh",
            "start_date": (today + dt.timedelta(days=1)).isoformat(),
            "end_date": (today + dt.timedelta(days=60)).isoformat(),
            "reason": "Đi làm việc theo hợp đồng lao động",
        }
    if code == "marital_status_certificate":
        return {"marital_status": "single", "purpose": "Vay vốn ngân hàng"}
    raise ValueError(code)


# --- load ----------------------------------------------------------------------------------


def run_wrk(
    base: str,
    *,
    method: str,
    path: str,
    lines: list[str],
    tag: str,
    expect: int,
    seconds: int,
    connections: int,
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        line_file = Path(tmp) / "lines.txt"
        line_file.write_text("\n".join(lines) + "\n")
        script = Path(tmp) / "load.lua"
        script.write_text(
            LUA
            % {
                "lines": line_file,
                "tag": tag,
                "method": method,
                "path": path,
                "expect": expect,
            }
        )
        out = subprocess.run(
            [
                *("wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s"),
                *("--timeout", "10s", "-s", str(script), base),
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    p50, p95, p99 = (
        int(x) / 1000 for x in re.search(r"latency_us (\d+) (\d+) (\d+)", out).groups()
    )
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    bad = int(re.search(r"unexpected_status (\d+)", out).group(1))
    socket = re.search(r"Socket errors: (.*)", out)
    return {
        "requests_per_s": rps,
        "requests": total,
        "p50_ms": round(p50, 1),
        "p95_ms": round(p95, 1),
        "p99_ms": round(p99, 1),
        "non_2xx_3xx": int(errors.group(1)) if errors else 0,
        "unexpected_status": bad,
        "socket_errors": socket.group(1).strip() if socket else "",
        "_raw": out,
    }


def unexpected(base: str, path: str, *, cookie: str, body: str, expect: int) -> str:
    """One submission by hand before the load: why it fails, or "" when it works."""
    import urllib.error
    import urllib.request

    data = body.encode()
    request = urllib.request.Request(base + path, data=data, method="POST")
    request.add_header("Cookie", cookie)
    request.add_header("Content-Type", "application/x-www-form-urlencoded")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        response = opener.open(request, timeout=30)
        status, text = response.status, response.read().decode(errors="replace")
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read().decode(errors="replace")
    if status == expect:
        return ""
    errors = re.findall(r'class="(?:errorlist|field-errors)[^"]*">(.*?)</', text, re.S)
    return f"POST {path} -> {status} {errors[:3] or text[:300]}"


def submissions(args: argparse.Namespace, accounts: list[Any]) -> dict[str, Any]:
    from django.db import connection

    from congdan.procedures.models import Dossier

    keys = portal_sessions(accounts)
    connection.close()
    cookie = [f"sessionid={k}; csrftoken={CSRF_SECRET}" for k in keys]
    env = {
        "CONGDAN_DATABASE_URL": os.environ.get("CONGDAN_DATABASE_URL", ""),
        "CONGDAN_SECRET_KEY": os.environ["CONGDAN_SECRET_KEY"],
    }
    results: dict[str, Any] = {}
    with served(env, port=args.port, workers=args.workers, threads=args.threads) as base:
        for code in args.procedures:
            path = f"/services/{code}/apply/"
            body = urllib.parse.urlencode(
                {"csrfmiddlewaretoken": CSRF_SECRET, "submit": "", **form_body(code)}
            )
            lines = [f"{c}\t{body}" for c in cookie]
            probe = unexpected(
                base,
                path,
                cookie=cookie[0],
                body=f"{body}&idempotency_key=probe{secrets.token_hex(4)}",
                expect=302,
            )
            if probe:
                sys.exit(f"the submission does not work: {probe}")
            load = {"connections": args.connections, "lines": lines, "path": path}
            run_wrk(base, method="GET", expect=200, tag="", seconds=3, **load)
            form = run_wrk(base, method="GET", expect=200, tag="", seconds=args.seconds, **load)
            warm_tag = f"w{secrets.token_hex(4)}-"
            run_wrk(base, method="POST", expect=302, tag=warm_tag, seconds=3, **load)
            tag = f"r{secrets.token_hex(4)}-"
            post = run_wrk(base, method="POST", expect=302, tag=tag, seconds=args.seconds, **load)
            time.sleep(1)  # requests wrk abandoned at the end finish on the server
            created = Dossier.objects.filter(
                procedure_code=code, idempotency_key__startswith=tag
            ).count()
            connection.close()
            ok = post["requests"] - post["unexpected_status"]
            raw = post.pop("_raw")
            form.pop("_raw")
            errors = post["unexpected_status"] + (1 if post["socket_errors"] else 0)
            results[code] = {
                "submissions": {
                    **post,
                    "errors": post["unexpected_status"],
                    "dossiers_created": created,
                    "dossiers_match_responses": ok <= created <= ok + args.connections,
                    "ratio_to_target_per_s": round(post["requests_per_s"] / TARGET_PER_S, 3),
                    "p95_within_target": post["p95_ms"] < TARGET_P95_MS,
                },
                "reference_get_form": form,
            }
            print(code, results[code], flush=True)
            if errors:
                print(raw, flush=True)
    return results


# --- birth bundles in-process ---------------------------------------------------------------


def officers(communes: set[Any], province: Any) -> dict[str, Any]:
    from congdan.core.models import Agency, AgencyKind, User
    from congdan.core.permissions import Role

    def officer(kind: str, unit: Any) -> Any:
        agency, _ = Agency.objects.update_or_create(
            code=f"BP-{kind[:6]}-{unit.code}",
            defaults={"name": f"Bench {kind} {unit.name}", "kind": kind, "jurisdiction": unit},
        )
        user, _ = User.objects.update_or_create(
            username=f"bench.proc.{kind}.{unit.code}",
            defaults={"role": Role.OFFICER, "agency": agency, "password": "!"},
        )
        return user

    by_unit: dict[str, Any] = {}
    for commune in communes:
        by_unit[f"justice:{commune.pk}"] = officer(AgencyKind.JUSTICE, commune)
        by_unit[f"police:{commune.pk}"] = officer(AgencyKind.POLICE, commune)
    by_unit[f"social_insurance:{province.pk}"] = officer(AgencyKind.SOCIAL_INSURANCE, province)
    return by_unit


def process(officer: Any, code: str) -> Any:
    """Receive, pass each review step, approve: what the spec's steps ask for."""
    from congdan.procedures import services
    from congdan.procedures.models import Dossier, DossierStatus
    from congdan.procedures.specs import catalogue

    dossier = Dossier.objects.get(code=code)
    if dossier.status == DossierStatus.SUBMITTED:
        services.receive_dossier(officer, code=code)
    for _step in catalogue().procedures[dossier.procedure_code].steps[1:-1]:
        services.complete_review(officer, code=code)
    return services.approve_dossier(officer, code=code)


def bundles(count: int, accounts: list[Any], province_code: str) -> dict[str, Any]:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from congdan.procedures import services
    from congdan.procedures.application import open_application
    from congdan.procedures.models import Bundle, BundleStatus, Dossier, DossierStatus

    mothers = [a for a in accounts if a.person.sex == "F"]
    if not mothers:
        sys.exit("no female account holders for the birth bundles")
    province = mothers[0].person.residence_province
    communes = {a.person.residence_commune for a in mothers[:count]}
    staff = officers(communes, province)
    born = timezone.localdate() - dt.timedelta(days=5)
    times: list[float] = []
    started = time.perf_counter()
    done: list[str] = []
    for i in range(count):
        account = mothers[i % len(mothers)]
        mother = account.person
        t0 = time.perf_counter()
        app = open_application("birth_bundle", mother, account)
        data = {name: value for name, (value, _src) in app.values.items()}
        data.update(
            {
                "child_full_name": f"Nguyễn Bench Khôi {i}",
                "child_birth_date": born.isoformat(),
                "child_sex": "M" if i % 2 else "F",
                "child_ethnicity": "01",
                "child_birth_place": "Bệnh viện Phụ sản Nhi Đà Nẵng",
                "applicant_role": "mother",
                "initial_clinic": "Trạm y tế phường",
            }
        )
        result = services.submit_application(
            account.user,
            app=app,
            data=data,
            uploads={
                "medical_birth_certificate": SimpleUploadedFile(
                    "giay-chung-sinh.pdf", PDF, content_type="application/pdf"
                )
            },
            idempotency_key=f"bundle-{secrets.token_hex(6)}",
        )
        bundle = result.bundle
        assert bundle is not None  # noqa: S101 -- a bundle spec makes a bundle
        parts = {d.procedure_code: d for d in bundle.dossiers.all()}
        commune = mother.residence_commune_id
        process(staff[f"justice:{commune}"], parts["birth_registration"].code)
        process(staff[f"police:{commune}"], parts["permanent_residence_registration"].code)
        process(staff[f"social_insurance:{province.pk}"], parts["child_health_insurance"].code)
        times.append(time.perf_counter() - t0)
        done.append(bundle.code)
    elapsed = time.perf_counter() - started
    completed = Bundle.objects.filter(code__in=done, status=BundleStatus.COMPLETED).count()
    issued = Dossier.objects.filter(
        bundle__code__in=done, status=DossierStatus.RESULT_ISSUED
    ).count()
    if completed != count or issued != 3 * count:
        sys.exit(f"{completed}/{count} bundles completed, {issued} parts with a result")
    ordered = sorted(times)
    return {
        "bundles": count,
        "seconds": round(elapsed, 2),
        "bundles_per_s": round(count / elapsed, 2),
        "p50_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 1),
        "bundles_completed": completed,
        "parts_with_result": issued,
        "officers": len(staff),
        "province": province_code,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--province", default="48")
    parser.add_argument("--citizens", type=int, default=2000)
    parser.add_argument("--min-persons", type=int, default=30_000)
    parser.add_argument(
        "--procedures",
        nargs="+",
        default=["temporary_absence_declaration", "marital_status_certificate"],
    )
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--bundles", type=int, default=200)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed: apt-get install -y wrk")
    setup_django()
    from django.db import DatabaseError, connection

    if connection.vendor != "postgresql":
        sys.exit("bench_procedures needs PostgreSQL: set CONGDAN_DATABASE_URL")
    persons = ensure_population(args.province, args.min_persons)
    accounts = citizens(args.province, args.citizens)
    pg = postgres_version()
    print(f"{persons} persons, {len(accounts)} citizens; PostgreSQL {pg}", flush=True)
    load = Path("/proc/loadavg").read_text().split()[:3]
    submitted = submissions(args, accounts)
    try:
        bundle = bundles(args.bundles, accounts, args.province)
    except DatabaseError as exc:
        # Recorded rather than lost: the submission figures above still stand.
        bundle = {"error": f"{type(exc).__name__}: {exc}".strip()}
    print("birth bundles", bundle, flush=True)
    write_result(
        "procedures-postgresql",
        {
            "postgresql": pg,
            "persons": persons,
            "load_average_before": [float(x) for x in load],
            "load_average_after": [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]],
            "server": f"congdan serve: granian WSGI, {args.workers} workers x {args.threads} threads",
            "load": f"wrk 1 thread, {args.connections} connections, {args.seconds}s per path; "
            f"{len(accounts)} citizens with their own portal session, a fresh "
            "idempotency_key per request",
            "dossier_submission": submitted,
            "birth_bundles_in_process": {
                **bundle,
                "how": "one process, services only: submit (with the medical birth "
                "certificate), then justice, police and social insurance receive, review "
                "and approve their parts",
            },
            "targets": {"dossier_submissions_per_s": TARGET_PER_S, "p95_ms": TARGET_P95_MS},
        },
    )


if __name__ == "__main__":
    main()
