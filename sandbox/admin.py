"""The sandbox in the Django admin: set an organisation's fault, look at or adjust seeded cases."""

from typing import Any

from django.contrib import admin
from django.forms import ModelForm
from django.http import HttpRequest

from sandbox.models import (
    Batch,
    Case,
    Claim,
    Debtor,
    IdempotencyRecord,
    Invoice,
    SandboxOrganization,
)


@admin.register(SandboxOrganization)
class SandboxOrganizationAdmin(admin.ModelAdmin[SandboxOrganization]):
    list_display = ["name", "id", "organization_number", "fault"]
    list_editable = ["fault"]
    search_fields = ["name", "id", "organization_number"]
    readonly_fields = ["id"]
    fields = ["id", "name", "organization_number", "creditor_id", "creditor_number", "fault"]


class InvoiceInline(admin.TabularInline[Invoice, Case]):
    model = Invoice
    extra = 0
    fields = [
        "position",
        "invoice_number",
        "unique_source_invoice_id",
        "type",
        "status",
        "registered_at",
        "invoice_date",
        "due_date",
        "original_amount",
        "paid_amount",
        "credited_amount",
        "remaining_amount",
        "remaining_principal",
    ]


class DebtorInline(admin.StackedInline[Debtor, Case]):
    model = Debtor
    extra = 0
    exclude = ["organization"]


class ClaimInline(admin.TabularInline[Claim, Case]):
    model = Claim
    extra = 0
    raw_id_fields = ["invoice"]


@admin.register(Case)
class CaseAdmin(admin.ModelAdmin[Case]):
    list_display = ["case_number", "organization", "status", "sub_status", "type", "registered_at"]
    list_filter = ["status", "sub_status", "type", "organization"]
    search_fields = ["=case_number"]
    show_full_result_count = False  # organisations can hold hundreds of thousands of cases
    readonly_fields = ["id", "organization", "case_number"]
    inlines = [InvoiceInline, DebtorInline, ClaimInline]

    def save_formset(
        self, request: HttpRequest, form: ModelForm[Case], formset: Any, change: bool
    ) -> None:
        """New invoices and debtors belong to the case's organisation, like the seeded ones."""
        for instance in formset.save(commit=False):
            if hasattr(instance, "organization_id"):
                instance.organization_id = form.instance.organization_id
            instance.save()
        for removed in formset.deleted_objects:
            removed.delete()
        formset.save_m2m()

    def save_related(
        self, request: HttpRequest, form: ModelForm[Case], formsets: Any, change: bool
    ) -> None:
        """Keep SearchTerm's folded copy in step with edited invoices and debtors."""
        super().save_related(request, form, formsets, change)
        form.instance.refresh_search_text()


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin[Batch]):
    list_display = ["id", "organization", "type", "status", "created_at", "finished_at"]
    list_filter = ["status", "type"]
    raw_id_fields = ["case"]


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(admin.ModelAdmin[IdempotencyRecord]):
    list_display = ["key", "organization", "status_code", "created_at"]
