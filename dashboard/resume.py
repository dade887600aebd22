"""Logging in again after a session expired returns to the same list, in the same organisation.

SessionExpiryMiddleware (dashboard/security.py) ends an idle or too old session by logging out,
which empties the session: the organisation chosen and the personal search terms kept in it
(cases/private_search.py) go with it. The login page then returns to the address the user was
on (`next`), whose `qref=` would name a search the new session does not know ("This search has
expired"), in whatever organisation comes first.

ResumeAfterExpiryMiddleware, around SessionExpiryMiddleware, keeps those two things in the new,
logged-out session, with the id of the user they belong to. The login view puts them back only
when that same user logs in (`restore_after_login`); anyone else logging in on that browser gets
nothing of them, and they are dropped either way.
"""

from collections.abc import Callable
from typing import Final

from django.contrib.auth.models import AbstractBaseUser
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponseBase

from cases import private_search
from dashboard.middleware import SESSION_ORGANIZATION_KEY
from dashboard.security import LOGOUT_REASON_ATTRIBUTE

RESUME_SESSION_KEY: Final = "resume_after_expiry"
# What a session keeps that a return to the same page needs.
KEPT_KEYS: Final = (SESSION_ORGANIZATION_KEY, private_search.SESSION_KEY)


class ResumeAfterExpiryMiddleware:
    """Keep what the same user needs to resume, across a session ended by expiry.

    Must come just before SessionExpiryMiddleware (and after sessions and authentication).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        user_id = request.user.pk if request.user.is_authenticated else None
        session = request.session
        kept = {key: session[key] for key in KEPT_KEYS if key in session} if user_id else {}
        response = self.get_response(request)
        if user_id is not None and getattr(request, LOGOUT_REASON_ATTRIBUTE, None) is not None:
            # The session ended by expiry during this request; request.session is the new one.
            request.session[RESUME_SESSION_KEY] = {"user": user_id, "kept": kept}
        return response


def restore_after_login(session: SessionBase, user: AbstractBaseUser) -> None:
    """After a login: the expired session's organisation and searches, if they were this user's."""
    resume = session.pop(RESUME_SESSION_KEY, None)
    if not isinstance(resume, dict) or resume.get("user") != user.pk:
        return
    kept = resume.get("kept")
    if isinstance(kept, dict):
        for key in KEPT_KEYS:
            if key in kept:
                session[key] = kept[key]
