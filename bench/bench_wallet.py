"""Wallet: issuing documents, building presentations and verifying them, in-process.

* **Issue** — `wallet.services.create_issued` one document at a time (number, status
  index, SD-JWT VC signed with the agency's ES256 key, row, event, change record): the
  path of a procedure result or an issuer system's push.
* **Present** — `credentials.present` of an ID card disclosing name and birth date
  (disclosure selection and a key-binding JWT signed with the derived holder key).
* **Verify** — `verifier.verify` of that presentation with our own keys and live status
  list (`sources.LocalKeys`, `LocalStatuses`): signature, disclosures, holder binding,
  status list from the database, validity. Baseline in the same run (the raw
  cryptography every verifier must do, no parsing or policy): joserfc verifying the issuer
  JWT and the key-binding JWT with the same keys. Reported as the ratio.
* **Verify offline** — the same with only a JWKS dict and no status check (what a gate
  without signal does).

No DESIGN target exists for the wallet; the figures are recorded to watch regressions.

    CONGDAN_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/congdan_bench \\
        .venv/bin/python bench/bench_wallet.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from common import write_result

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "congdan.settings")
os.environ.setdefault("CONGDAN_DEBUG", "1")


def _rate(fn: Any, seconds: float) -> tuple[float, float]:
    """Calls per second and p95 latency (ms) of ``fn`` over about ``seconds``."""
    times: list[float] = []
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    total = sum(times)
    p95 = statistics.quantiles(times, n=20)[18] * 1000 if len(times) >= 20 else max(times) * 1000
    return len(times) / total, p95


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()

    import django

    django.setup()
    from django.db import connection
    from joserfc import jws
    from joserfc.jwk import ECKey

    from congdan.core.models import Agency, AgencyKind
    from congdan.registry.models import Person
    from congdan.wallet import credentials, jose, keys, verifier
    from congdan.wallet.services import create_issued
    from congdan.wallet.sources import LocalKeys, LocalStatuses

    agency, _ = Agency.objects.get_or_create(
        code="BENCH-WALLET", defaults={"name": "Bench issuer", "kind": AgencyKind.POLICE}
    )
    persons = list(Person.objects.order_by("id")[:2000])
    if not persons:
        sys.exit("seed some persons first (congdan seed --people 10000)")

    counter = iter(range(10**9))

    def issue() -> Any:
        person = persons[next(counter) % len(persons)]
        return create_issued(
            actor=None,
            actor_label="bench",
            holder=person,
            doc_type="id_card",
            title_vi="Thẻ căn cước",
            title_en="Identity card",
            issuer=agency,
            data={
                "full_name": person.full_name,
                "id_number": person.id_number,
                "birth_date": person.birth_date.isoformat(),
                "sex": person.sex,
                "nationality": "Việt Nam",
                "card_number": person.id_number,
                "issue_date": "2024-07-01",
            },
            source_ref="bench",
            valid_until=dt.date(2036, 1, 1),
            integrated=True,
        )

    issue_rate, issue_p95 = _rate(issue, args.seconds)
    document = issue()
    aud = "https://verifier.example/v/bench/"

    def present() -> str:
        return credentials.present(
            document, claims=["full_name", "birth_date"], aud=aud, nonce="n", expires_at=None
        )

    present_rate, present_p95 = _rate(present, args.seconds / 2)
    presentation = present()

    local_keys, local_statuses = LocalKeys(), LocalStatuses()

    def verify_online() -> None:
        verdict = verifier.verify(presentation, keys=local_keys, statuses=local_statuses)
        assert verdict.valid, verdict.code  # noqa: S101 -- a benchmark sanity check

    jwks = keys.jwks(agency)

    class Offline:
        def jwks(self, iss: str) -> dict[str, Any] | None:
            return jwks

    offline = Offline()

    def verify_offline() -> None:
        verdict = verifier.verify(presentation, keys=offline, statuses=None)
        assert verdict.valid, verdict.code  # noqa: S101 -- a benchmark sanity check

    online_rate, online_p95 = _rate(verify_online, args.seconds)
    offline_rate, offline_p95 = _rate(verify_offline, args.seconds)

    # Baseline: joserfc verifying the two signatures with the same keys.
    issuer_jwt = presentation.split("~")[0]
    kb_jwt = presentation.split("~")[-1]
    issuer_key = ECKey.import_key(jwks["keys"][0])
    holder_key = ECKey.import_key(keys.holder_jwk(document.holder.id_number))

    def baseline() -> None:
        jws.deserialize_compact(issuer_jwt, issuer_key, algorithms=["ES256"])
        jws.deserialize_compact(kb_jwt, holder_key, algorithms=["ES256"])

    base_rate, base_p95 = _rate(baseline, args.seconds)
    assert jose.parse(issuer_jwt)  # noqa: S101 -- the presentation is ours

    result = {
        "database": connection.vendor,
        "seconds_per_measure": args.seconds,
        "issue_per_s": round(issue_rate, 1),
        "issue_p95_ms": round(issue_p95, 2),
        "present_per_s": round(present_rate, 1),
        "present_p95_ms": round(present_p95, 2),
        "presentation_chars": len(presentation),
        "verify_online_per_s": round(online_rate, 1),
        "verify_online_p95_ms": round(online_p95, 2),
        "verify_offline_per_s": round(offline_rate, 1),
        "verify_offline_p95_ms": round(offline_p95, 2),
        "baseline_joserfc_two_signatures_per_s": round(base_rate, 1),
        "baseline_p95_ms": round(base_p95, 2),
        "ratio_offline_to_baseline": round(offline_rate / base_rate, 2),
        "ratio_online_to_baseline": round(online_rate / base_rate, 2),
    }
    for key, value in result.items():
        print(f"{key}: {value}")
    write_result(f"wallet-{connection.vendor}", result)


if __name__ == "__main__":
    main()
