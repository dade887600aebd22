"""The audit trail in Django's admin: read-only, for staff who look across organisations."""

from django.contrib import admin
from django.http import HttpRequest

from cases.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin[AuditEntry]):
    """Entries are written by the dashboard as things happen; nobody edits or deletes them."""

    list_display = [
        "created_at",
        "organization",
        "username",
        "kind",
        "action",
        "case_number",
        "outcome",
    ]
    list_filter = ["kind", "outcome", "organization"]
    search_fields = ["username", "batch_id"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEntry | None = None) -> bool:
        return False
