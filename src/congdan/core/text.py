"""Vietnamese text folding for search: lower case, no diacritics, đ → d, single spaces."""

from __future__ import annotations

import unicodedata

_TABLE = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_TABLE))
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    return " ".join(stripped.lower().split())
