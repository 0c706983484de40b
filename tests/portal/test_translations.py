"""The English catalogue: complete, compiled, up to date, and used by the pages.

The UI is written in Vietnamese (the msgids); ``en`` must translate every message.
Only the standard library reads the catalogue here: a small .po parser and
``gettext.GNUTranslations`` for the compiled .mo (polib is not a dependency).
"""

from __future__ import annotations

import ast
import gettext
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from congdan.registry.models import ResidenceKind, Sex

if TYPE_CHECKING:
    from tests.conftest import World

LOCALE_DIR = Path(settings.LOCALE_PATHS[0])
PO_PATH = LOCALE_DIR / "en" / "LC_MESSAGES" / "django.po"
MO_PATH = PO_PATH.with_suffix(".mo")
SOURCE_DIR = LOCALE_DIR.parent  # src/congdan

# printf-style and str.format placeholders; a translation must keep exactly the same.
PLACEHOLDER = re.compile(r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]|%%|\{[^{}]*\}")
# Letters that occur in Vietnamese but not in English text.
VIETNAMESE = re.compile(
    "[ăâđêôơưàáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ]",
    re.IGNORECASE,
)


# --- a tiny .po reader ------------------------------------------------------------------


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False
    line: int = 0

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def __str__(self) -> str:
        return f"django.po:{self.line}: {self.msgid!r}"


def _unquote(text: str, lineno: int) -> str:
    text = text.strip()
    if not (len(text) >= 2 and text[0] == text[-1] == '"'):
        raise AssertionError(f"django.po:{lineno}: expected a quoted string, got {text!r}")
    # PO strings use C escapes (\n, \t, \", \\), which a Python literal reads the same way.
    value = ast.literal_eval(text)
    assert isinstance(value, str)
    return value


def _parse_block(lines: list[tuple[int, str]]) -> Entry | None:
    """One entry: the lines between two blank lines."""
    entry = Entry(line=lines[0][0])
    target: tuple[str, int] | None = None  # the string that continuation lines extend
    for lineno, raw in lines:
        line = raw
        if line.startswith("#~"):  # obsolete: flag it, read the rest as usual
            entry.obsolete = True
            line = line[2:].strip()
        if line.startswith("#,"):
            entry.flags.update(f.strip() for f in line[2:].split(",") if f.strip())
        elif not line or line.startswith("#"):
            continue
        elif line.startswith('"'):
            if target is None:
                raise AssertionError(f"django.po:{lineno}: string outside an entry")
            name, index = target
            if name == "msgstr":
                entry.msgstr[index] += _unquote(line, lineno)
            else:
                setattr(entry, name, getattr(entry, name) + _unquote(line, lineno))
        else:
            keyword, _, rest = line.partition(" ")
            plural = re.fullmatch(r"msgstr\[(\d+)\]", keyword)
            if keyword in ("msgctxt", "msgid", "msgid_plural"):
                setattr(entry, keyword, _unquote(rest, lineno))
                target = (keyword, 0)
            elif keyword == "msgstr" or plural:
                index = int(plural.group(1)) if plural else 0
                entry.msgstr[index] = _unquote(rest, lineno)
                target = ("msgstr", index)
            else:
                raise AssertionError(f"django.po:{lineno}: cannot read {raw!r}")
    return entry if target is not None else None  # None: a block of comments only


def parse_po(path: Path) -> list[Entry]:
    """Entries of a .po file as gettext writes it (entries separated by blank lines)."""
    blocks: list[list[tuple[int, str]]] = [[]]
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if raw.strip():
            blocks[-1].append((lineno, raw.strip()))
        elif blocks[-1]:
            blocks.append([])
    return [e for e in (_parse_block(b) for b in blocks if b) if e is not None]


@pytest.fixture(scope="module")
def po_entries() -> list[Entry]:
    assert PO_PATH.exists(), f"{PO_PATH} is missing: run `congdan makemessages -l en`"
    entries = parse_po(PO_PATH)
    assert entries
    assert entries[0].is_header
    return entries


@pytest.fixture(scope="module")
def messages(po_entries: list[Entry]) -> list[Entry]:
    return [e for e in po_entries if not e.is_header]


# --- (a) the .po is complete ---------------------------------------------------------------


def test_the_parser_reads_plural_context_and_flags(tmp_path: Path) -> None:
    sample = tmp_path / "sample.po"
    sample.write_text(
        'msgid ""\nmsgstr ""\n"Language: en\\n"\n\n'
        '#: a.py:1\n#, python-format\nmsgctxt "nút"\nmsgid "Đã %(n)d "\n"mã"\n'
        'msgid_plural "Đã %(n)d mã"\nmsgstr[0] "%(n)d token"\nmsgstr[1] ""\n\n'
        '#, fuzzy\nmsgid "Hủy"\nmsgstr "Cancel \\"now\\""\n\n'
        '#~ msgid "cũ"\n#~ msgstr "old"\n',
        encoding="utf-8",
    )
    header, plural, fuzzy, obsolete = parse_po(sample)
    assert header.is_header
    assert header.msgstr[0] == "Language: en\n"
    assert plural.msgctxt == "nút"
    assert plural.msgid == "Đã %(n)d mã"
    assert plural.msgid_plural == "Đã %(n)d mã"
    assert plural.msgstr == {0: "%(n)d token", 1: ""}
    assert plural.flags == {"python-format"}
    assert fuzzy.flags == {"fuzzy"}
    assert fuzzy.msgstr[0] == 'Cancel "now"'
    assert obsolete.obsolete
    assert obsolete.msgid == "cũ"


def test_catalogue_header(po_entries: list[Entry]) -> None:
    header = po_entries[0]
    assert "fuzzy" not in header.flags
    assert "Language: en\n" in header.msgstr[0]
    assert "charset=UTF-8" in header.msgstr[0]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header.msgstr[0]


def test_every_message_is_translated(messages: list[Entry]) -> None:
    assert len(messages) > 300  # the whole UI, not a stub
    empty = [
        str(e)
        for e in messages
        if not e.msgstr
        or any(not s.strip() for s in e.msgstr.values())
        # a plural needs every form
        or (e.msgid_plural is not None and sorted(e.msgstr) != [0, 1])
    ]
    assert not empty, "untranslated:\n" + "\n".join(empty)


def test_no_fuzzy_or_obsolete_entries(messages: list[Entry]) -> None:
    assert not [str(e) for e in messages if "fuzzy" in e.flags]
    assert not [str(e) for e in messages if e.obsolete]


def test_placeholders_are_kept(messages: list[Entry]) -> None:
    wrong = []
    for e in messages:
        for index, text in e.msgstr.items():
            source = e.msgid_plural if (index > 0 and e.msgid_plural) else e.msgid
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(f"{e} -> {text!r}")
    assert not wrong, "placeholders differ:\n" + "\n".join(wrong)


def test_translations_are_english(messages: list[Entry]) -> None:
    """A msgstr copied from the msgid (still Vietnamese) counts as untranslated."""
    left = [f"{e} -> {s!r}" for e in messages for s in e.msgstr.values() if VIETNAMESE.search(s)]
    assert not left, "Vietnamese left in msgstr:\n" + "\n".join(left)


# --- (b) the committed .mo is the compiled .po ------------------------------------------------


def _load_mo(path: Path) -> gettext.GNUTranslations:
    with path.open("rb") as mo:
        return gettext.GNUTranslations(mo)


def _lookups(catalogue: gettext.GNUTranslations, e: Entry) -> list[str]:
    if e.msgid_plural is not None:
        if e.msgctxt is not None:
            return [catalogue.npgettext(e.msgctxt, e.msgid, e.msgid_plural, n) for n in (1, 2)]
        return [catalogue.ngettext(e.msgid, e.msgid_plural, n) for n in (1, 2)]
    if e.msgctxt is not None:
        return [catalogue.pgettext(e.msgctxt, e.msgid)]
    return [catalogue.gettext(e.msgid)]


def test_mo_holds_every_translation_of_the_po(messages: list[Entry]) -> None:
    """Needs no gettext tools: each .po entry is found, translated alike, in the .mo."""
    assert MO_PATH.exists(), f"{MO_PATH} is missing: run `congdan compilemessages -l en`"
    committed = _load_mo(MO_PATH)
    # ngettext(…, 1) and ngettext(…, 2) give msgstr[0] and msgstr[1] in English.
    stale = [
        str(e)
        for e in messages
        if _lookups(committed, e) != [e.msgstr[i] for i in sorted(e.msgstr)]
    ]
    assert not stale, (
        "django.mo is older than django.po; run `congdan compilemessages -l en`:\n"
        + "\n".join(stale[:20])
    )


def test_mo_is_the_compiled_po(tmp_path: Path) -> None:
    """msgfmt compiles the .po afresh; the committed .mo must hold the same catalogue."""
    msgfmt = shutil.which("msgfmt")
    if msgfmt is None:
        pytest.skip("msgfmt (GNU gettext) is not installed")
    fresh_path = tmp_path / "django.mo"
    subprocess.run(
        [msgfmt, "--check", "-o", str(fresh_path), str(PO_PATH)],
        check=True,
        capture_output=True,
    )
    fresh, committed = _load_mo(fresh_path), _load_mo(MO_PATH)
    assert fresh.info() == committed.info()
    # GNUTranslations keeps the whole catalogue in _catalog: compare all of it, so that
    # a message dropped from the .po but still in the .mo is caught as well.
    assert committed._catalog == fresh._catalog, (  # type: ignore[attr-defined]
        "django.mo does not match django.po; run `congdan compilemessages -l en`"
    )


# --- the catalogue covers today's sources ---------------------------------------------------


def test_catalogue_covers_the_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages on a copy of the sources adds nothing and drops nothing.

    Fails when a new or changed msgid is not in django.po yet: run
    `cd src/congdan && congdan makemessages -l en --no-obsolete --ignore='migrations/*'`,
    translate, then `congdan compilemessages -l en`.
    """
    if shutil.which("xgettext") is None or shutil.which("msgmerge") is None:
        pytest.skip("GNU gettext tools are not installed")
    copy = tmp_path / "congdan"
    shutil.copytree(
        SOURCE_DIR,
        copy,
        ignore=shutil.ignore_patterns("__pycache__", "migrations", "*.mo", "static"),
    )
    monkeypatch.chdir(copy)
    with override_settings(LOCALE_PATHS=[copy / "locale"]):
        call_command(
            "makemessages",
            locale=["en"],
            domain="django",
            no_obsolete=True,
            ignore_patterns=["migrations/*"],
            verbosity=0,
        )
    committed = {(e.msgctxt, e.msgid) for e in parse_po(PO_PATH) if not e.is_header}
    regenerated = parse_po(copy / "locale" / "en" / "LC_MESSAGES" / "django.po")
    current = {(e.msgctxt, e.msgid) for e in regenerated if not e.is_header}
    assert not sorted(current - committed, key=str), "new messages, not in django.po"
    assert not sorted(committed - current, key=str), "messages no longer used by the code"


def test_no_javascript_catalogue_is_needed() -> None:
    """Scripts carry no text of their own (the offline verifier reads every message from
    data attributes its template translates), so there is no djangojs domain."""
    scripts = [p for p in SOURCE_DIR.rglob("*.js") if "node_modules" not in p.parts]
    for script in scripts:
        text = script.read_text(encoding="utf-8")
        assert text.isascii(), f"{script.name} has non-ASCII text: move it to its template"
    assert not (LOCALE_DIR / "en" / "LC_MESSAGES" / "djangojs.po").exists()


# --- (c) gettext answers in English -----------------------------------------------------------


def test_known_messages_in_english() -> None:
    with translation.override("en"):
        assert translation.gettext("Đăng nhập") == "Log in"
        assert translation.gettext("Đăng nhập dành cho cán bộ") == "Officer login"
        assert translation.gettext("Tìm kiếm công dân") == "Citizen search"
        assert translation.gettext("Số định danh cá nhân") == "Personal ID number"
        assert str(Sex.FEMALE.label) == "Female"
        assert str(ResidenceKind.TEMPORARY.label) == "Temporary residence"
        assert (
            translation.gettext("Đã ghi nhận khai tử cho %(name)s.") % {"name": "Nguyễn Văn An"}
            == "Death recorded for Nguyễn Văn An."
        )
    with translation.override("vi"):  # Vietnamese is the source language itself
        assert translation.gettext("Tìm kiếm công dân") == "Tìm kiếm công dân"
        assert str(Sex.FEMALE.label) == "Nữ"


# --- (d) the login page in English ------------------------------------------------------------

LOGIN_ENGLISH = ("Officer login", "Username", "Password", "Log in", "Skip to main content")
LOGIN_VIETNAMESE = (
    "Đăng nhập",
    "Tên đăng nhập",
    "Mật khẩu",
    "dành cho cán bộ",
    "Bỏ qua, đến nội dung chính",
    "Ngôn ngữ",
    "Cơ sở dữ liệu quốc gia về dân cư",
)


def _visible_text(html: str) -> str:
    """The page without the site name (configured, not a msgid) and the language
    buttons, which name each language in itself ("Tiếng Việt")."""
    html = html.replace(settings.CONGDAN_SITE_NAME, "")
    return re.sub(r"<button[^>]*lang-button[^>]*>.*?</button>", "", html, flags=re.S)


def assert_login_page_in_english(html: str) -> None:
    assert '<html lang="en">' in html
    text = _visible_text(html)
    for english in LOGIN_ENGLISH:
        assert english in text
    for vietnamese in LOGIN_VIETNAMESE:
        assert vietnamese not in text


@pytest.mark.django_db
def test_login_page_is_vietnamese_by_default() -> None:
    html = Client().get(reverse("portal:login")).content.decode()
    assert '<html lang="vi">' in html
    assert "Đăng nhập dành cho cán bộ" in html  # so the checks below are not vacuous


@pytest.mark.django_db
def test_login_page_in_english_from_accept_language() -> None:
    response = Client().get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert_login_page_in_english(response.content.decode())


@pytest.mark.django_db
def test_login_page_in_english_after_choosing_english() -> None:
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/login/"
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="vi").content.decode()  # cookie wins
    assert_login_page_in_english(html)
    assert re.search(r'<button[^>]*value="en"[^>]*aria-current="true"', html)


def test_login_errors_in_english(world: World) -> None:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    html = client.post("/login/", {"username": "cax", "password": "wrong"}).content.decode()
    assert "Incorrect username or password." in html
    assert "không đúng" not in html
    html = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert "This field is required." in html
    assert "Trường này là bắt buộc." not in html
