"""Search terms that are personal data stay out of the URLs the dashboard generates.

The case list keeps its state in the URL, the search term included. A term that is an e-mail
address or a phone or identification number would then sit in the address bar, the browser's
history and every link on the page. Such a term is kept in the session instead, under a short
random reference, and the URLs carry `qref=<reference>`: the list still has an address that
Back, Forward, reload and export understand, and the address names no one. A reference is only
meaningful in the session that made it; elsewhere it has expired and the user is asked to search
again.
"""

import re
import secrets
from dataclasses import dataclass
from typing import Final

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, QueryDict

SEARCH_PARAMETER: Final = "q"
REFERENCE_PARAMETER: Final = "qref"
SESSION_KEY: Final = "private_searches"
KEPT_PER_SESSION: Final = 20  # the most recent; older references expire

# Phone numbers and national identification numbers: eight or more digits, perhaps with a
# country code, spaces or dashes. Case, invoice and customer numbers are shorter in AutoCollect.
_LONG_NUMBER: Final = re.compile(r"\+?[\d\s-]+")
_MIN_PERSONAL_DIGITS: Final = 8


def is_personal(term: str) -> bool:
    """Does the search term look like an e-mail address, a phone number or a national id?"""
    term = term.strip()
    if "@" in term:
        return True
    digits = sum(character.isdigit() for character in term)
    return digits >= _MIN_PERSONAL_DIGITS and _LONG_NUMBER.fullmatch(term) is not None


@dataclass(frozen=True)
class ListQuery:
    """A case-list request's parameters, as the form reads them and as URLs may show them."""

    form_data: QueryDict  # the search term resolved from its reference
    public: QueryDict  # a reference in place of a personal search term
    expired: bool  # the request named a reference this session does not know
    moved: bool  # the request's own URL showed a personal term: answer with the public URL

    def public_url(self, path: str) -> str:
        return f"{path}?{self.public.urlencode()}" if self.public else path


def resolve(request: HttpRequest) -> ListQuery:
    """Read the list's parameters, swapping a personal search term for a session reference."""
    form_data, public = request.GET.copy(), request.GET.copy()
    reference = form_data.pop(REFERENCE_PARAMETER, [""])[-1]
    expired = False
    if reference and not form_data.get(SEARCH_PARAMETER):
        term = _remembered(request.session).get(reference)
        if term is None:
            expired = True
        else:
            form_data[SEARCH_PARAMETER] = term
    typed = request.GET.get(SEARCH_PARAMETER, "")
    moved = is_personal(typed)
    if moved:
        public.pop(SEARCH_PARAMETER)
        public[REFERENCE_PARAMETER] = _remember(request.session, typed)
    elif typed:
        public.pop(REFERENCE_PARAMETER, None)  # a newly typed term replaces the old one
    return ListQuery(form_data=form_data, public=public, expired=expired, moved=moved)


def _remembered(session: SessionBase) -> dict[str, str]:
    stored = session.get(SESSION_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def _remember(session: SessionBase, term: str) -> str:
    """The term's reference: the same one again for the same term, else a new one."""
    remembered = _remembered(session)
    for reference, known in remembered.items():
        if known == term:
            return reference
    reference = secrets.token_urlsafe(6)
    remembered[reference] = term
    while len(remembered) > KEPT_PER_SESSION:
        remembered.pop(next(iter(remembered)))  # dicts keep insertion order: oldest first
    session[SESSION_KEY] = remembered
    return reference
