"""The one place where the AutoCollect client's exceptions become a page or an in-place partial.

A view catches `AutoCollectError` around its client call and returns
``upstream_error_response(request, error, target_id="results")``. HTMX requests get only the
error partial, whose root element carries ``id="results"``, so htmx swaps it over the target in
place (dashboard.htmx.render_page retargets the swap when the trigger aimed elsewhere, so the
trigger's own swap settings cannot nest it). Ordinary requests get the full page with the same
partial. Either way the status is the one the failure deserves:

======================================  ======  ==========================================
client exception                        status  notes
======================================  ======  ==========================================
UpstreamTimeout                         504
RateLimited                             429     Retry-After when the upstream named one
OrganizationBusy                        503     Retry-After; nothing was sent upstream
UpstreamUnavailable (upstream said 503) 503     Retry-After as the upstream sent it
UpstreamUnavailable (anything else)     502
AccessDenied                            403     says whom to ask; no retry button
NotFound                                404     no retry button
Rejected / InvalidPageToken             502     a view that can do better handles it itself
AutoCollectError (anything else)        502
======================================  ======  ==========================================

A page with a frame of its own (the case page and the debtor page: breadcrumb and heading) keeps
it in a failure: ``upstream_error_in_page`` renders the page's own partial with ``upstream_error``
in its context, and the partial shows the error where its content would be. A failed
identification-number reveal answers with ``reveal_error_response``: the error beside the number,
in the cell the reveal aimed at, with a button that asks again.

A page that wants the error inside its own layout (keeping its filter form, say) can put
``describe_upstream_error(error)`` in its context as ``upstream_error`` and include
``"errors/upstream.html#upstream_error"`` with ``target_id``, ``retry_url`` (what the retry
button hx-gets), ``reload_url`` (the plain link) and ``full_page`` (h1 and a plain retry link
when true; h2 and an htmx retry button when false) set; it must then send ``info.status`` and
``Retry-After`` (`with_retry_after`) itself.
"""

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django_htmx.http import reselect, reswap, retarget

from cases.autocollect import (
    AccessDenied,
    AutoCollectError,
    NotFound,
    OrganizationBusy,
    RateLimited,
    Rejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from dashboard.htmx import partial_target, render_page
from dashboard.http import HtmxHttpRequest

logger = logging.getLogger("cases.upstream")

DEFAULT_TEMPLATE: Final = "errors/upstream.html"
PARTIAL_NAME: Final = "upstream_error"
# The identification cell of the debtor facts, and the error a failed reveal puts in its place.
REVEAL_ERROR_TEMPLATE: Final = "cases/shared/debtor_facts.html#identification_error"
# A Retry-After below this is said in seconds, from it on in whole minutes (rounded up).
SECONDS_SHOWN_AS_SECONDS: Final = 120


@dataclass(frozen=True)
class UpstreamErrorInfo:
    """What the user is told about one failure, and the HTTP status that goes with it."""

    status: int
    title: str | Promise
    explanation: str | Promise
    advice: str | Promise
    retryable: bool  # advice says when: with the upstream's wait, if it named one (_retry_advice)
    retry_after: int | None = None
    reference: str = ""  # the upstream's trace id, for a support request


def _retry_advice(retry_after: int | None, otherwise: str | Promise) -> str | Promise:
    """One sentence on when to try again: the upstream's wait when it named one, else `otherwise`.

    Never both: "Try again later" beside "wait 1 second" contradicts itself.
    """
    if retry_after is None:
        return otherwise
    if retry_after < SECONDS_SHOWN_AS_SECONDS:
        seconds = max(retry_after, 1)
        return ngettext(
            "Try again in %(seconds)d second.", "Try again in %(seconds)d seconds.", seconds
        ) % {"seconds": seconds}
    minutes = -(-retry_after // 60)  # rounded up: never too early
    return ngettext(
        "Try again in %(minutes)d minute.", "Try again in %(minutes)d minutes.", minutes
    ) % {"minutes": minutes}


def describe_upstream_error(error: AutoCollectError) -> UpstreamErrorInfo:
    """Map a client exception to its status and a message that says what the user can do."""
    match error:
        case UpstreamTimeout():
            return UpstreamErrorInfo(
                status=504,
                title=_("AutoCollect is answering too slowly"),
                explanation=_("Amili's AutoCollect did not answer in time."),
                advice=_(
                    "Try again in a moment. If it keeps happening, narrow the search with a filter."
                ),
                retryable=True,
            )
        case RateLimited():
            return UpstreamErrorInfo(
                status=429,
                title=_("Too many requests right now"),
                explanation=_("Amili's AutoCollect asked the dashboard to slow down."),
                advice=_retry_advice(error.retry_after, _("Wait a little and try again.")),
                retryable=True,
                retry_after=error.retry_after,
            )
        case OrganizationBusy():
            # Our own bound (cases.autocollect.fairness), before the upstream was asked.
            return UpstreamErrorInfo(
                status=503,
                title=_("Too many requests for your organisation"),
                explanation=_(
                    "Many requests for your organisation are waiting on AutoCollect. "
                    "Nothing was sent to AutoCollect, so nothing was changed."
                ),
                advice=_retry_advice(error.retry_after, _("Try again in a moment.")),
                retryable=True,
                retry_after=error.retry_after,
            )
        case UpstreamUnavailable() if error.retry_after is not None:
            return UpstreamErrorInfo(
                status=503,
                title=_("AutoCollect is temporarily unavailable"),
                explanation=_(
                    "Amili's AutoCollect is down for the moment, perhaps for maintenance. "
                    "Nothing you did caused this."
                ),
                advice=_retry_advice(error.retry_after, _("Try again later.")),
                retryable=True,
                retry_after=error.retry_after,
            )
        case UpstreamUnavailable():
            return UpstreamErrorInfo(
                status=502,
                title=_("AutoCollect could not be reached"),
                explanation=_(
                    "The dashboard could not get an answer it could use from Amili's AutoCollect."
                ),
                advice=_(
                    "Try again in a moment. If it keeps failing, tell the dashboard administrator."
                ),
                retryable=True,
            )
        case AccessDenied():
            return UpstreamErrorInfo(
                status=403,
                title=_("No access to this organisation's data"),
                explanation=_(
                    "Amili's AutoCollect refused to show this organisation's data: the "
                    "dashboard's credentials may not read it."
                ),
                advice=_(
                    "Ask your Amili contact or the dashboard administrator to grant the "
                    "dashboard access to this organisation. If you work for several "
                    "organisations, you can switch to another one above."
                ),
                retryable=False,
            )
        case NotFound():
            return UpstreamErrorInfo(
                status=404,
                title=_("Not found"),
                explanation=_("AutoCollect has nothing at this address for your organisation."),
                advice=_("Check the number, or search for it in the case list."),
                retryable=False,
            )
        case Rejected():
            return UpstreamErrorInfo(
                status=502,
                title=_("AutoCollect did not accept the request"),
                explanation=_("Amili's AutoCollect refused the request the dashboard sent."),
                advice=_(
                    "Try again. If it keeps failing, tell the dashboard administrator and quote "
                    "the reference below."
                ),
                retryable=True,
                reference=error.problem.trace_id,
            )
        case _:
            return UpstreamErrorInfo(
                status=502,
                title=_("AutoCollect answered something unexpected"),
                explanation=_("The dashboard could not understand Amili's AutoCollect's answer."),
                advice=_(
                    "Try again in a moment. If it keeps failing, tell the dashboard administrator."
                ),
                retryable=True,
            )


def upstream_error_response(
    request: HtmxHttpRequest,
    error: AutoCollectError,
    *,
    target_id: str,
    template: str = DEFAULT_TEMPLATE,
    retry_url: str = "",
) -> HttpResponse:
    """Render a client failure: the partial in place for HTMX, else the full page.

    ``template`` must define a partial named ``upstream_error`` (see errors/upstream.html)
    whose root element carries ``id="{{ target_id }}"``. ``retry_url`` is the page's own
    address when the request's decoded path cannot say it (a customer number holding "/" or
    ".."); by default it is the request's path and query. The calling view sends no-store and
    Vary with its decorators, like every page.
    """
    info = describe_upstream_error(error)
    # Class name and path only: the message and the query string may carry what the user typed.
    logger.warning(
        "upstream %s answered as %s on %s", type(error).__name__, info.status, request.path
    )
    # Whatever element the request aimed at, an HTMX request gets the error in the target's place.
    partials = {target_id: PARTIAL_NAME}
    partial = partial_target(request, partials, default=target_id) is not None
    retry_url = retry_url or request.get_full_path()
    context = {
        "upstream_error": info,
        "target_id": target_id,
        "retry_url": retry_url,
        # A plain reload goes to the page the browser shows, which for a swap is not
        # necessarily the fragment's URL.
        "reload_url": (request.htmx.current_url_abs_path if partial else None) or retry_url,
        "full_page": not partial,
    }
    response = render_page(
        request, template, context, partials=partials, default=target_id, status=info.status
    )
    if partial:
        # A trigger that selects part of its answer (hx-select) still gets the whole error.
        reselect(response, f"#{target_id}")
    return with_retry_after(response, info)


def with_retry_after(response: HttpResponse, info: UpstreamErrorInfo) -> HttpResponse:
    """Pass on how long the upstream asked us to wait, when it said."""
    if info.retry_after is not None:
        response["Retry-After"] = str(info.retry_after)
    return response


def upstream_error_in_page(
    request: HtmxHttpRequest,
    error: AutoCollectError,
    *,
    template: str,
    page_id: str,
    partial: str,
    context: Mapping[str, Any],
    retry_url: str,
) -> HttpResponse:
    """The page's own frame (breadcrumb, heading) with the failure where its content would be.

    ``template``'s partial ``partial`` (root ``id=page_id``) shows ``upstream_error`` when its
    context holds one, from whatever else ``context`` gives it (the case number, the page's
    URL). A plain request gets the whole page, an HTMX request that partial over ``#page_id``;
    its retry button asks ``retry_url`` for the same partial again. The status is the failure's.
    """
    info = describe_upstream_error(error)
    # Class name and path only: the message and the query string may carry what the user typed.
    logger.warning(
        "upstream %s answered as %s on %s", type(error).__name__, info.status, request.path
    )
    partials = {page_id: partial}
    error_context = {
        **context,
        "upstream_error": info,
        "target_id": f"{page_id}-error",
        "retry_target": page_id,
        "retry_url": retry_url,
        "reload_url": retry_url,
        # The page's own heading is the h1; the error is a section of it, retried in place.
        "full_page": False,
    }
    response = render_page(
        request, template, error_context, partials=partials, default=page_id, status=info.status
    )
    if partial_target(request, partials, default=page_id) is not None:
        reselect(response, f"#{page_id}")
    return with_retry_after(response, info)


def reveal_error_response(
    request: HtmxHttpRequest,
    error: AutoCollectError,
    *,
    page_url: str,
    debtor_id: str,
    position: int,
) -> HttpResponse:
    """A reveal that failed upstream: the error beside the number, in its cell, with a retry.

    The cell is ``#identification-<position>``, the element the reveal's form targets; the
    retry posts the same reveal again (the debtor id, never the number, is in the form).
    """
    info = describe_upstream_error(error)
    logger.warning(
        "upstream %s answered a reveal as %s on %s",
        type(error).__name__,
        info.status,
        request.path,
    )
    cell_id = f"identification-{position}"
    context = {
        "upstream_error": info,
        "position": position,
        "page_url": page_url,
        "reveal_debtor_id": debtor_id,
    }
    response = render(request, REVEAL_ERROR_TEMPLATE, context, status=info.status)
    if request.htmx.target != cell_id:
        retarget(response, f"#{cell_id}")
        reswap(response, "outerHTML")
    reselect(response, f"#{cell_id}")
    return with_retry_after(response, info)
