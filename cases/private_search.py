"""Search terms that are personal data stay out of the URLs the dashboard generates.

The case list keeps its state in the URL, the filters a person types included. A term that is an
e-mail address or a phone or identification number (dashboard/personal_data.py says what counts)
would then sit in the address bar, the browser's history and every link on the page. Such a term
is kept in the session instead, under a short random reference, and the URLs carry the reference
(`qref=<reference>` for the search, `customerref=` and `invoiceref=` for the other free-text
filters): the list still has an address that Back, Forward, reload and export understand, and the
address names no one. A reference is only meaningful in the session that made it; elsewhere it
has expired and the user is asked to type the term again.

Only the last value of a repeated parameter counts (it is the one the form reads), so the public
URL keeps only that one: `?q=a@b.no&q=x` cannot carry the e-mail into the page's links. A
personal-looking value of any other parameter (a hand-edited `status`, an unknown parameter)
never reaches a generated link either.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, QueryDict

from dashboard.personal_data import looks_personal

SEARCH_PARAMETER: Final = "q"
REFERENCE_PARAMETER: Final = "qref"
# The filters a person types freely, each with the parameter that stands for a personal value.
PRIVATE_PARAMETERS: Final[Mapping[str, str]] = {
    SEARCH_PARAMETER: REFERENCE_PARAMETER,
    "customer": "customerref",
    "invoice": "invoiceref",
}
REFERENCE_PARAMETERS: Final = tuple(PRIVATE_PARAMETERS.values())
# Parameters not searched for personal data: what only the dashboard or the upstream writes (an
# opaque page token, our references) and the registration dates, which a date picker fills in
# (eight digits, like a birth date, but about a case).
_UNCHECKED_PARAMETERS: Final = frozenset({"page", "from", "to", *REFERENCE_PARAMETERS})
# Choices the filter form reads: a personal-looking value there is invalid input, answered with
# the form's errors rather than dropped by a redirect.
_FORM_PARAMETERS: Final = frozenset({"status", "type", "size"})
SESSION_KEY: Final = "private_searches"
KEPT_PER_SESSION: Final = 20  # the most recent; older references expire


def is_personal(term: str) -> bool:
    """Does the search term look like an e-mail address, a phone number or a national id?"""
    return looks_personal(term)


@dataclass(frozen=True)
class ListQuery:
    """A case-list request's parameters, as the form reads them and as URLs may show them."""

    form_data: QueryDict  # personal terms resolved from their references
    public: QueryDict  # references in place of personal terms; one value per parameter
    expired: bool  # the request named a reference this session does not know
    moved: bool  # the request's own URL showed a personal value: answer with the public URL
    expired_parameters: tuple[str, ...] = ()  # the filters whose reference expired

    def public_url(self, path: str) -> str:
        return f"{path}?{self.public.urlencode()}" if self.public else path


def resolve(request: HttpRequest) -> ListQuery:
    """Read the list's parameters, swapping personal values for session references."""
    return resolve_parameters(request.GET, request.session)


def resolve_parameters(parameters: QueryDict, session: SessionBase) -> ListQuery:
    """`resolve` for any list parameters (a request's, or those of a list address seen before)."""
    incoming = _last_values(parameters)
    form_data, public = incoming.copy(), incoming.copy()
    for reference_parameter in REFERENCE_PARAMETERS:
        form_data.pop(reference_parameter, None)
    # Values the public URL leaves out although the form never reads them (repeats of a
    # parameter, unknown parameters): the redirect to the public URL loses nothing.
    moved = any(
        looks_personal(value)
        for name, values in parameters.lists()
        for value in (values[:-1] if name not in _UNCHECKED_PARAMETERS else [])
    )
    remembered = _remembered(session)
    expired: list[str] = []
    for name, reference_parameter in PRIVATE_PARAMETERS.items():
        typed = incoming.get(name, "")
        if typed:
            public.pop(reference_parameter, None)  # a newly typed term replaces the old one
            if not looks_personal(typed):
                continue
            public.pop(name)
            if len(typed) <= _max_length(name):
                public[reference_parameter] = _remember(session, typed)
                moved = True
            # Too long for the field: the form answers with its error, and no link repeats it.
            continue
        reference = incoming.get(reference_parameter, "")
        if not reference:
            continue
        term = remembered.get(reference)
        if term is None:
            expired.append(name)
        else:
            form_data[name] = term
    for name in list(public):
        if name in _UNCHECKED_PARAMETERS or name in PRIVATE_PARAMETERS:
            continue
        if looks_personal(public.get(name, "")):
            public.pop(name)
            moved = moved or name not in _FORM_PARAMETERS
    return ListQuery(
        form_data=form_data,
        public=public,
        expired=bool(expired),
        moved=moved,
        expired_parameters=tuple(expired),
    )


def _max_length(name: str) -> int:
    """The longest value the filter form accepts for a free-text filter."""
    from cases.forms import CaseFilterForm  # here: the form module imports this one

    field = CaseFilterForm.base_fields[name]
    return getattr(field, "max_length", None) or 0


def _last_values(parameters: QueryDict) -> QueryDict:
    """One value per parameter: the last, which is the one a form reads."""
    single = QueryDict(mutable=True)
    for name, values in parameters.lists():
        single[name] = values[-1]
    return single


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


# --- The list to go back to ----------------------------------------------------------------------
#
# A case page's "Cases" breadcrumb returns to the list the case was opened from, filters and page
# included. The browser names that list in the Referer when the case is opened from it; the
# session keeps it (for the organisation it was made in) for the case page's later requests,
# whose Referer is the case page itself (a reveal, a refresh, a reload after an action). The
# address is the list's public one: personal terms stand as their session references.

RETURN_SESSION_KEY: Final = "case_list_return"
RETURN_DROPPED_PARAMETERS: Final = ("refresh",)  # a refresh request is no place to go back to


def list_to_return_to(request: HttpRequest, list_path: str, organization_id: int) -> str:
    """The case list a case page's breadcrumb returns to: the one the case was opened from."""
    referer = urlsplit(request.headers.get("Referer", ""))
    if referer.path == list_path and referer.netloc in ("", request.get_host()):
        parameters = QueryDict(referer.query, mutable=True)
        for name in RETURN_DROPPED_PARAMETERS:
            parameters.pop(name, None)
        public = resolve_parameters(parameters, request.session).public.urlencode()
        remembered = {"organization": organization_id, "query": public}
        if request.session.get(RETURN_SESSION_KEY) != remembered:
            request.session[RETURN_SESSION_KEY] = remembered
        return f"{list_path}?{public}" if public else list_path
    stored = request.session.get(RETURN_SESSION_KEY)
    if isinstance(stored, dict) and stored.get("organization") == organization_id:
        query = stored.get("query")
        if isinstance(query, str) and query:
            return f"{list_path}?{query}"
    return list_path
