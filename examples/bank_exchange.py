"""A bank's eKYC system calling congdan's data exchange (standard library only).

1. Gets an access token from /o/token/ (client credentials, scope exchange:query).
2. Verifies a citizen's name and date of birth: match / no_match, no data disclosed.
3. Asks for the profile the bank's grant allows (purpose kyc_full_profile): refused with
   ``consent_required`` until the citizen consents in the portal (/me/data/consents/).

Run against `make demo` (which prints a ready command line):

    .venv/bin/python examples/bank_exchange.py --id-number 048... --name "..." \
        --birth-date 1990-05-17

The demo bank's credentials are the defaults; see docs/exchange.md.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
import urllib.error
import urllib.request
from typing import Any


def call(
    url: str, *, data: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers=headers or {})  # noqa: S310 -- the URL is the operator's
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 -- idem
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--client-id", default="demo-bank-ekyc")
    parser.add_argument("--client-secret", default="demo-bank-ekyc-secret-not-for-production")
    parser.add_argument("--id-number", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--birth-date", required=True, help="YYYY-MM-DD")
    args = parser.parse_args()

    basic = base64.b64encode(f"{args.client_id}:{args.client_secret}".encode()).decode()
    status, token = call(
        f"{args.base}/o/token/",
        data=b"grant_type=client_credentials&scope=exchange:query",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    if status != 200:
        print(f"token refused ({status}): {token}")  # noqa: T201 -- a command-line example
        return 1
    bearer = {"Authorization": f"Bearer {token['access_token']}"}

    body = {
        "id_number": args.id_number,
        "attributes": {"full_name": args.name, "birth_date": args.birth_date},
    }
    status, verdict = call(
        f"{args.base}/api/v1/exchange/verify",
        data=json.dumps(body).encode(),
        headers={
            **bearer,
            "Content-Type": "application/json",
            "X-Purpose": "kyc_account_opening",
        },
    )
    print(f"1. verify name + birth date ({status}):", json.dumps(verdict, ensure_ascii=False))  # noqa: T201 -- idem

    status, profile = call(
        f"{args.base}/api/v1/exchange/persons/{args.id_number}?service=person-basic",
        headers={**bearer, "X-Purpose": "kyc_full_profile"},
    )
    print(f"2. profile lookup ({status}):", json.dumps(profile, ensure_ascii=False))  # noqa: T201 -- idem
    if profile.get("code") == "consent_required":
        print(  # noqa: T201 -- idem
            "   → the citizen consents at /me/data/consents/ (Ngân hàng TMCP Demo, "
            "person-basic, kyc_full_profile); run this again."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
