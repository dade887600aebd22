"""The Norwegian Bokmål catalogue (locale/nb): complete, consistent with its .mo, and in use.

The catalogue is read with a small .po parser (no polib dependency). When someone adds a string
and re-runs makemessages, these tests fail until it is translated and compiled.
"""

import gettext
import re
import shutil
import subprocess
import uuid
from collections import Counter
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from dashboard.models import Organization
from sandbox.seeding import seed_organization
from tests.support.people import ORG_A_ID

CATALOGUE_DIR = Path(settings.LOCALE_PATHS[0]) / "nb" / "LC_MESSAGES"
PO_FILE = CATALOGUE_DIR / "django.po"
MO_FILE = CATALOGUE_DIR / "django.mo"
LOGIN_URL = "/accounts/login/"
DASH = "\u2013"  # an en dash, between the pager's first and last row number

# %(name)s, %s, %d, {name}, and HTML tags: everything a translation must carry over unchanged.
PLACEHOLDER = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifr]"
    r"|\{[A-Za-z_][A-Za-z0-9_]*\}"
    r"|</?[a-zA-Z][^>]*>"
)
ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\"}
KEYWORD = re.compile(r"^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(\".*\")\s*$")


# --- Reading the .po file -------------------------------------------------------------------


@dataclass
class Entry:
    """One message of the catalogue; `translations` holds msgstr, or msgstr[0..n] for plurals."""

    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    translations: dict[int, str] | None = None
    flags: frozenset[str] = frozenset()

    @property
    def is_header(self) -> bool:
        return self.msgid == "" and self.msgctxt is None

    def forms(self) -> list[tuple[str, str]]:
        """(source, translation) pairs: the singular against msgstr[0], the plural against the
        other forms."""
        translations = self.translations or {}
        if self.msgid_plural is None:
            return [(self.msgid, translations.get(0, ""))]
        return [
            (self.msgid if index == 0 else self.msgid_plural, text)
            for index, text in sorted(translations.items())
        ]


def _unquote(quoted: str) -> str:
    return re.sub(r"\\(.)", lambda match: ESCAPES.get(match[1], match[1]), quoted[1:-1])


def parse_po(text: str) -> list[Entry]:
    """The catalogue's live entries (obsolete `#~` entries are left out)."""
    entries: list[Entry] = []
    entry = Entry()
    field: tuple[str, int] | None = None  # which string continuation lines extend

    def finish() -> None:
        nonlocal entry, field
        if entry.translations is not None:
            entries.append(entry)
        entry, field = Entry(), None

    for line in text.splitlines():
        if not line.strip():
            finish()
        elif line.startswith("#,"):
            entry.flags = entry.flags | {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            continue  # references, comments, obsolete entries
        elif line.startswith('"') and field is not None:
            _append(entry, field, _unquote(line.strip()))
        elif match := KEYWORD.match(line):
            if match[1] == "msgctxt" and entry.translations is not None:
                finish()  # entries are not always separated by a blank line
            keyword = "msgstr" if match[1].startswith("msgstr") else match[1]
            field = (keyword, int(match[2] or 0))
            _append(entry, field, _unquote(match[3]))
        else:
            raise ValueError(f"unreadable .po line: {line!r}")
    finish()
    return entries


def _append(entry: Entry, field: tuple[str, int], text: str) -> None:
    keyword, index = field
    if keyword == "msgstr":
        entry.translations = entry.translations or {}
        entry.translations[index] = entry.translations.get(index, "") + text
    elif keyword == "msgid_plural":
        entry.msgid_plural = (entry.msgid_plural or "") + text
    elif keyword == "msgctxt":
        entry.msgctxt = (entry.msgctxt or "") + text
    else:
        entry.msgid += text


def messages() -> list[Entry]:
    return [entry for entry in parse_po(PO_FILE.read_text(encoding="utf-8")) if not entry.is_header]


def placeholders(text: str) -> Counter[str]:
    return Counter(PLACEHOLDER.findall(text.replace("%%", "")))


# --- Reading rendered pages -----------------------------------------------------------------


class _VisibleText(HTMLParser):
    """The text a person can see or hear: element text and the attributes read out."""

    READ_ATTRIBUTES = frozenset({"aria-label", "title", "placeholder", "alt", "data-announce"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self.hidden_depth += 1
        self.parts.extend(
            value for name, value in attrs if name in self.READ_ATTRIBUTES and value is not None
        )

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self.hidden_depth -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden_depth and data.strip():
            self.parts.append(" ".join(data.split()))


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.parts)


def english_interface_sentences() -> list[str]:
    """Catalogue sources of two words or more whose Norwegian differs: if one of them shows on a
    Norwegian page, that text escaped translation. (Single words like "Status" or "IBAN" read
    the same in both languages, and placeholders vary, so both are left out.)"""
    sentences: list[str] = []
    for entry in messages():
        for source, translation in entry.forms():
            if source != translation and " " in source and not placeholders(source):
                sentences.append(source)
    return sentences


# --- The catalogue --------------------------------------------------------------------------


def test_every_message_has_a_norwegian_translation() -> None:
    entries = messages()
    untranslated = [
        entry.msgid
        for entry in entries
        if not all(translation.strip() for _, translation in entry.forms())
    ]

    assert len(entries) > 100, "the parser found too few messages to be reading the catalogue"
    assert untranslated == []


def test_plural_messages_have_both_forms() -> None:
    plurals = [entry for entry in messages() if entry.msgid_plural is not None]

    assert plurals
    assert [entry.msgid for entry in plurals if sorted(entry.translations or {}) != [0, 1]] == []


def test_no_message_is_marked_fuzzy() -> None:
    entries = parse_po(PO_FILE.read_text(encoding="utf-8"))  # the header included

    assert [entry.msgid for entry in entries if "fuzzy" in entry.flags] == []


def test_translations_keep_every_placeholder_of_the_english() -> None:
    mismatches = [
        (source, translation)
        for entry in messages()
        for source, translation in entry.forms()
        if placeholders(source) != placeholders(translation)
    ]

    assert mismatches == []


def test_the_compiled_catalogue_matches_the_po_file() -> None:
    """A .po edited without running compilemessages leaves the site in English."""
    with MO_FILE.open("rb") as mo_file:
        compiled = gettext.GNUTranslations(mo_file)
    stale: list[str] = []
    for entry in messages():
        for index, (source, translation) in enumerate(entry.forms()):
            if entry.msgid_plural is None:
                found = (
                    compiled.pgettext(entry.msgctxt, source)
                    if entry.msgctxt is not None
                    else compiled.gettext(source)
                )
            else:
                count = 1 if index == 0 else 2  # nb: form 0 for one, form 1 for the rest
                found = (
                    compiled.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, count)
                    if entry.msgctxt is not None
                    else compiled.ngettext(entry.msgid, entry.msgid_plural, count)
                )
            if translation and found != translation:  # blanks: see the first test
                stale.append(source)

    assert stale == [], "run `manage.py compilemessages` after editing the .po file"


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext's msgfmt is not installed")
def test_msgfmt_accepts_the_catalogue(tmp_path: Path) -> None:
    """msgfmt --check also verifies python-format strings and the header."""
    msgfmt = shutil.which("msgfmt") or "msgfmt"
    result = subprocess.run(  # noqa: S603 - a fixed tool on a file of the repository
        [msgfmt, "--check", "-o", str(tmp_path / "django.mo"), str(PO_FILE)],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0, result.stderr


# --- The language of the pages --------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "html_lang", "heading", "lead"),
    [
        ("nb", "nb", "Logg inn", "Inkassosaker fra Amili AutoCollect for organisasjonen din."),
        ("nb-NO,nb;q=0.9", "nb", "Logg inn", "Inkassosaker fra Amili AutoCollect"),
        ("en", "en", "Log in", "Collection cases from Amili AutoCollect for your organisation."),
        ("en-GB,en;q=0.8", "en", "Log in", "Collection cases from Amili AutoCollect"),
    ],
)
def test_login_page_speaks_the_language_the_browser_asks_for(
    client: Client, accept_language: str, html_lang: str, heading: str, lead: str
) -> None:
    response = client.get(LOGIN_URL, headers={"accept-language": accept_language})
    html = response.content.decode()

    assert response.status_code == 200
    assert f'<html lang="{html_lang}">' in html
    assert f"<h1>{heading}</h1>" in html
    assert lead in visible_text(html)


@pytest.mark.django_db
def test_english_login_page_has_no_norwegian(client: Client) -> None:
    text = visible_text(client.get(LOGIN_URL, headers={"accept-language": "en"}).content.decode())

    assert "Logg inn" not in text
    assert "Inkassosaker" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("accept_language", ["de", "de-DE,de;q=0.9,fr;q=0.5", ""])
def test_norwegian_is_the_fallback_for_languages_the_dashboard_lacks(
    client: Client, accept_language: str
) -> None:
    headers = {"accept-language": accept_language} if accept_language else {}
    html = client.get(LOGIN_URL, headers=headers).content.decode()

    assert '<html lang="nb">' in html
    assert "<h1>Logg inn</h1>" in html


@pytest.mark.django_db
def test_norwegian_login_page_shows_no_english_interface_text(client: Client) -> None:
    text = visible_text(client.get(LOGIN_URL, headers={"accept-language": "nb"}).content.decode())

    assert [sentence for sentence in english_interface_sentences() if sentence in text] == []
    assert "Brukernavn" in text  # the form's labels come from Django's own nb catalogue


@pytest.mark.usefixtures("sandbox_upstream")
def test_norwegian_case_list_shows_no_english_interface_text(
    client_a: Client, org_a: Organization
) -> None:
    seed_organization(uuid.UUID(ORG_A_ID), org_a.name, cases=12, seed=7)

    nb = visible_text(client_a.get("/cases/", headers={"accept-language": "nb"}).content.decode())
    en = visible_text(client_a.get("/cases/", headers={"accept-language": "en"}).content.decode())

    assert f"Viser 1{DASH}12 av 12" in nb
    assert "Utestående" in nb
    assert [sentence for sentence in english_interface_sentences() if sentence in nb] == []
    assert f"Showing 1{DASH}12 of 12" in en
    assert "Viser" not in en
