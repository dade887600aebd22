"""Phone numbers as the upstream sends them, made into something a phone can dial.

AutoCollect's `phone` is free text ("+47 912 34 567", "912 34 567", "0047 91234567"). A `tel:`
link wants E.164: a plus, the country code and the number, no spaces. A number written without
a country code is taken as Norwegian (the product's country) only when it has Norway's eight
digits; anything else that does not read as E.164 gets no link, and is shown as text.
"""

import re
from typing import Final

NORWAY_COUNTRY_CODE: Final = "47"
NORWEGIAN_NUMBER: Final = re.compile(r"[0-9]{8}")
E164: Final = re.compile(r"\+[1-9][0-9]{6,14}")  # at most 15 digits, no leading zero
# What people put between digits: spaces (also non-breaking), hyphens, dots, slashes, brackets.
SEPARATORS: Final = re.compile(r"[\s\u00a0\-./()]")
INTERNATIONAL_PREFIX: Final = "00"  # dialled instead of "+" from Norway
# "+46 (0)8 …": the trunk zero in brackets is dialled only from inside the country.
BRACKETED_TRUNK_ZERO: Final = re.compile(r"\(0\)")


def e164(phone: str) -> str:
    """The number in E.164 ("+4791234567"), or "" when it cannot be read as one."""
    compact = SEPARATORS.sub("", BRACKETED_TRUNK_ZERO.sub("", phone))
    if compact.startswith(INTERNATIONAL_PREFIX):
        compact = "+" + compact[len(INTERNATIONAL_PREFIX) :]
    elif NORWEGIAN_NUMBER.fullmatch(compact):
        compact = f"+{NORWAY_COUNTRY_CODE}{compact}"
    return compact if E164.fullmatch(compact) else ""
