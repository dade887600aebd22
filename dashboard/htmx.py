"""One way to answer a page request: the whole page, or the partial an HTMX request targets.

Every page template names its swappable fragments with ``{% partialdef %}``, each rooted at an
element whose id htmx targets. A view hands `render_page` the page template, its context and the
mapping {element id: partial name}; the request decides the rest:

- a plain request, or htmx restoring history (the browser shows whatever comes back), gets the
  whole page;
- an HTMX request aimed at one of the ids gets that partial;
- any other HTMX request gets the ``default`` id's partial when the page names one, else the
  whole page.

When the answer belongs to another element than the one the request aimed at (form errors beside
the fields, an error in place of a section), the response retargets the swap to it. Views still
decorate themselves with ``never_cache`` and ``vary_on_headers("HX-Request", "HX-Target")``: the
page's data and the choice of partial both depend on the request.
"""

from collections.abc import Mapping
from typing import Any

from django.http import HttpResponse
from django.shortcuts import render
from django_htmx.http import reswap, retarget

from dashboard.http import HtmxHttpRequest


def partial_target(
    request: HtmxHttpRequest, partials: Mapping[str, str], default: str | None = None
) -> str | None:
    """The element id whose partial answers this request; None for the whole page."""
    htmx = request.htmx
    if not htmx or htmx.history_restore_request:
        return None
    if htmx.target in partials:
        return htmx.target
    return default


def partial_template(template: str, partial: str) -> str:
    """A partial of the page template, or a fragment file's partial ("file.html#name") as is."""
    return partial if "#" in partial else f"{template}#{partial}"


def render_page(
    request: HtmxHttpRequest,
    template: str,
    context: Mapping[str, Any],
    *,
    partials: Mapping[str, str],
    default: str | None = None,
    status: int = 200,
) -> HttpResponse:
    """Render the page, or the partial for the element the HTMX request targets (see above).

    ``partials`` maps element ids to partial names of ``template`` (or to a shared fragment as
    "file.html#name"); ``default`` is the id whose partial answers HTMX requests aimed elsewhere.
    """
    target = partial_target(request, partials, default)
    if target is None:
        return render(request, template, context, status=status)
    response = render(request, partial_template(template, partials[target]), context, status=status)
    if target != request.htmx.target:
        # The partial's root carries its own id: swap it over that element, whatever the
        # trigger's own target and swap style were.
        retarget(response, f"#{target}")
        reswap(response, "outerHTML")
    return response
