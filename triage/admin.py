"""The case index in the Django admin: read-only, for operators checking freshness."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from triage.models import CaseSummary, SyncState, WebhookEvent


class ReadOnlyAdmin[M: Any](admin.ModelAdmin[M]):
    """The sync owns these rows: an operator looks, never edits."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False


@admin.register(SyncState)
class SyncStateAdmin(ReadOnlyAdmin[SyncState]):
    list_display = [
        "organization",
        "last_full_sync_at",
        "last_incremental_sync_at",
        "cases_in_last_full_sync",
        "last_error_at",
        "last_error",
    ]


@admin.register(CaseSummary)
class CaseSummaryAdmin(ReadOnlyAdmin[CaseSummary]):
    list_display = [
        "case_number",
        "organization",
        "status",
        "sub_status",
        "remaining_amount",
        "waiting_since",
        "confirmed_at",
        "vanished_at",
    ]
    list_filter = ["organization", "status", "sub_status"]
    list_select_related = ["organization"]
    show_full_result_count = False  # COUNT(*) of 200,000 rows on every admin page is waste


@admin.register(WebhookEvent)
class WebhookEventAdmin(ReadOnlyAdmin[WebhookEvent]):
    list_display = ["received_at", "event_type", "organization_id", "idempotency_key"]
    list_filter = ["event_type"]
