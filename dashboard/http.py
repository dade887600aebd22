"""Typed request classes for views, so mypy knows what the middleware put on a request."""

from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from dashboard.models import Membership, Organization


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


class OrganizationRequest(HtmxHttpRequest):
    """A logged-in request with the organisation resolved from the user's membership."""

    user: User
    organization: Organization
    membership: Membership
    memberships: list[Membership]  # all the user's, for the switcher and the 404's offer
