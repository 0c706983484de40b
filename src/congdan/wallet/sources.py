"""Where the verifier gets issuers' keys and status lists.

``LocalKeys`` / ``LocalStatuses`` answer for this installation's own agencies straight
from the database (we are the issuer). Other installations' issuers must be trusted
(``TrustedIssuer``); their JWKS and status lists are fetched over HTTP and cached, and the
cache is used when the issuer cannot be reached (offline verification).
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings

from congdan.core.models import Agency
from congdan.wallet import keys, statuslist
from congdan.wallet.jose import JoseError
from congdan.wallet.models import StatusList
from congdan.wallet.verifier import verify_status_token

ISSUER_PATH = "/wallet/issuers/"


def local_agency(iss: str) -> Agency | None:
    """The agency of one of our issuer identifiers, or None."""
    prefix = settings.CONGDAN_PUBLIC_URL + ISSUER_PATH
    if not isinstance(iss, str) or not iss.startswith(prefix):
        return None
    code = iss[len(prefix) :]
    if not code or "/" in code:
        return None
    return Agency.objects.filter(code=code).first()


class LocalKeys:
    """Our own agencies' JWKS."""

    def jwks(self, iss: str) -> dict[str, Any] | None:
        agency = local_agency(iss)
        return keys.jwks(agency) if agency is not None else None


class LocalStatuses:
    """Our own status lists, built now (so a revocation shows at once)."""

    def status_list(self, uri: str, iss: str) -> dict[str, Any] | None:
        agency = local_agency(iss)
        if agency is None:
            return None
        prefix = keys.issuer_id(agency) + "/status/"
        if not uri.startswith(prefix) or not uri[len(prefix) :].isdigit():
            return None
        status_list = StatusList.objects.filter(
            agency=agency, number=int(uri[len(prefix) :])
        ).first()
        if status_list is None:
            return None
        now = int(time.time())
        try:
            return verify_status_token(
                statuslist.token(status_list, now), uri, keys.jwks(agency), now
            )
        except JoseError:  # pragma: no cover -- we signed it a moment ago
            return None
