"""What a person's free text may carry about someone: e-mail addresses, phone and national ids.

One definition serves two jobs: search terms that look personal are kept out of URLs
(cases/private_search.py), and technical error pages blank out such values
(dashboard/security.py).

What counts as personal, deliberately on the cautious side (a false alarm costs a search
reference in the URL, a miss puts a person in the address bar, the history and the logs):

- anything with an "@": an e-mail address, or the start of one;
- a run of at least eight digits, the digits perhaps separated by spaces, dots, dashes, slashes
  or parentheses, with or without a country code: national ids (``01019012345``,
  ``010190 12345``, ``01.01.90 12345``), phone numbers (``+47 912 34 567``,
  ``(+47) 912 34 567``, ``0047 91234567``, ``912 34 567``), birth dates (``01.01.1990``);
  anywhere in the text (``Kari 01019012345``).

A word that starts with a letter is an identifier, not a number about a person, whatever digits
follow: ``INV-2024-00012345``, ``K-1001``, ``CUST-77``. Case numbers have seven digits.
"""

import re
from typing import Final

MIN_PERSONAL_DIGITS: Final = 8

# A word that starts with a letter and runs on through letters, digits, "_" and "-".
_IDENTIFIER_WORD: Final = re.compile(r"(?<![\w-])[^\W\d_][\w-]*")
# Digits with the separators people type inside phone numbers, ids and dates.
_NUMBER_RUN: Final = re.compile(r"[+(]*\d(?:[\s().\-/+]*\d)*")
# Starts only where a word starts, so a long word without "@" is scanned once, not once a letter.
_E_MAIL_LIKE: Final = re.compile(r"(?<![^\s@])[^\s@]*@[^\s@]*")
REDACTED: Final = "[personal data]"


def _personal_numbers(text: str) -> list[re.Match[str]]:
    """The digit runs of `text` long enough to be a phone number or a national id."""
    # Blanked with a character no number run contains, so "01019012345 ringte fra 91234567"
    # stays two runs instead of one across the masked words (offsets stay the text's own).
    masked = _IDENTIFIER_WORD.sub(lambda word: "_" * len(word.group()), text)
    return [
        run
        for run in _NUMBER_RUN.finditer(masked)
        if sum(character.isdigit() for character in run.group()) >= MIN_PERSONAL_DIGITS
    ]


def looks_personal(text: str) -> bool:
    """Does the text hold an e-mail address, a phone number or a national id?"""
    return "@" in text or bool(_personal_numbers(text))


def redact(text: str) -> str:
    """The text with every e-mail-like word and personal-looking number replaced."""
    text = _E_MAIL_LIKE.sub(REDACTED, text)
    for run in reversed(_personal_numbers(text)):
        text = text[: run.start()] + REDACTED + text[run.end() :]
    return text
