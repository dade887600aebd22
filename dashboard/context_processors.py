from typing import Any

from django.http import HttpRequest

from dashboard.models import Membership


def organizations(request: HttpRequest) -> dict[str, Any]:
    """The organisations the user may switch between, for the header menu."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    memberships = Membership.objects.filter(user_id=user.pk).select_related("organization")
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": memberships,
    }
