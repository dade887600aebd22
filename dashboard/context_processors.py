from typing import Any

from django.http import HttpRequest


def organizations(request: HttpRequest) -> dict[str, Any]:
    """The organisations the user may switch between, for the header menu.

    OrganizationMiddleware has already read the memberships; a page rendered without it (an
    error page) simply shows no switcher.
    """
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }
