"""Reading the case and debtor pages: their visible text, a section, an amount as shown."""

import re
from decimal import Decimal

from django.utils import translation

from cases.templatetags.collection import money


def text_of(html: str) -> str:
    """The page's visible text, tags removed and white space collapsed (nbsp kept as a space)."""
    text = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " ")).strip()


def nok(amount: str, language: str = "nb") -> str:
    """An amount as the page shows it in that language, spaces normalised like text_of."""
    with translation.override(language):
        return text_of(money(Decimal(amount), "NOK"))


def section(html: str, title_id: str) -> str:
    """The HTML of the <section> labelled by the heading with this id."""
    match = re.search(rf'<section[^>]*aria-labelledby="{title_id}".*?</section>', html, re.S)
    assert match, f"no section {title_id}"
    return match.group(0)
