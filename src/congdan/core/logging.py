"""A logging filter that masks personal ID numbers, phone numbers, bearer tokens and
wallet share tokens."""

from __future__ import annotations

import logging
import re

_ID = re.compile(r"\b(\d{3})\d{6}(\d{3})\b")
_PHONE = re.compile(r"\b(0\d{2})\d{4}(\d{3})\b")
_BEARER = re.compile(r"(?i)(bearer\s+|token[=:]\s*|cd_)[A-Za-z0-9._~+/=-]{6,}")
# A wallet share link carries its bearer token in the path: /v/<token>/.
_SHARE = re.compile(r"(/v/)[A-Za-z0-9_-]{6,}")


def mask(text: str) -> str:
    text = _BEARER.sub(r"\1***", text)
    text = _SHARE.sub(r"\1***", text)
    text = _ID.sub(r"\1******\2", text)
    return _PHONE.sub(r"\1****\2", text)


class MaskPersonalDataFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = record.getMessage()
            record.args = ()
        record.msg = mask(str(record.msg))
        return True
