"""The case list's filters: a Django form bound to the query string.

The form's cleaned data is all the AutoCollect client ever sees: the view binds the form to
``request.GET``, and only ``to_filters()``, ``page_token()`` and ``page_size()`` go further.
The same form serves the list page and the CSV export.
"""

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.urls import reverse_lazy
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.autocollect import DEFAULT_PAGE_SIZE, PAGE_SIZES, CaseFilters
from cases.private_search import PRIVATE_PARAMETERS
from cases.vocabulary import CASE_STATUSES, CASE_TYPES, label

SEARCH_MAX_LENGTH: Final = 100
CUSTOMER_NUMBER_MAX_LENGTH: Final = 64
INVOICE_ID_MAX_LENGTH: Final = 100
# Page tokens are opaque; the sandbox accepts up to 4000 characters, so we do too.
PAGE_TOKEN_MAX_LENGTH: Final = 4000

# Registration dates a search may name. Outside them no case exists, and a year like 9999 or 0001
# would only reach the upstream to fail there (or overflow where an offset is applied).
EARLIEST_DATE: Final = date(1900, 1, 1)
LATEST_DATE: Final = date(2100, 12, 31)
_DATE_RANGE_MESSAGE: Final = _("Enter a date between 1900 and 2100.")
_DATE_RANGE_VALIDATORS: Final = [
    MinValueValidator(EARLIEST_DATE, message=_DATE_RANGE_MESSAGE),
    MaxValueValidator(LATEST_DATE, message=_DATE_RANGE_MESSAGE),
]
_DATE_RANGE_ATTRS: Final = {"min": EARLIEST_DATE.isoformat(), "max": LATEST_DATE.isoformat()}

# "from" is a Python keyword, so two fields have a Python name and a different URL name.
URL_NAMES: Final = {"created_from": "from", "created_to": "to"}

# Parameters that narrow the list (as they appear in the URL); paging and size are not filters.
URL_FILTER_NAMES: Final = ("q", "status", "type", "customer", "invoice", "from", "to")
# The filters beside the search box, which phones fold behind a "Filters (n)" button.
FOLDED_FILTER_NAMES: Final = ("status", "type", "customer", "invoice", "from", "to")

_LIST_URL = reverse_lazy("cases:list")

# htmx wiring of the controls. The <form> itself carries hx-target, hx-swap, hx-sync and the
# indicator; every control names its own request so typing replaces the URL while deliberate
# changes push it. Every text field applies as one types, after the same pause (Enter submits
# the form, which is also all there is without JavaScript).
_TYPING_ATTRS: Final = {
    "hx-get": _LIST_URL,
    "hx-trigger": "input changed delay:300ms",
    "hx-replace-url": "true",
    "hx-include": "closest form",
    "autocomplete": "off",
}
# A search box's own clear button fires "search", not "input".
# The list opens with the focus in its search box (static/js/app.js, data-initial-focus).
_SEARCH_ATTRS: Final = {
    **_TYPING_ATTRS,
    "hx-trigger": "input changed delay:300ms, search",
    "data-initial-focus": True,
}
_CHANGE_ATTRS: Final = {
    "hx-get": _LIST_URL,
    "hx-trigger": "change",
    "hx-push-url": "true",
    "hx-include": "closest form",
}


def _choices(values: tuple[str, ...], any_label: Promise) -> list[tuple[str, str | Promise]]:
    """An "any" choice, then each known upstream value with its translated label."""
    return [("", any_label), *((value, label(value)) for value in values)]


class _DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        # type="date" inputs send and expect ISO dates whatever the page's language.
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class PageSizeField(forms.TypedChoiceField):
    """The page size; an absent size shows (and means) the default rather than the first option."""

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial if data in (None, "") else data


@dataclass(frozen=True)
class ActiveFilter:
    """One filter in effect, for a removable chip: its label, its value, its URL parameter."""

    label: str | Promise
    value: str | date | Promise
    parameter: str

    @property
    def removal(self) -> dict[str, None]:
        """The querystring change that drops this filter (and the page, which belonged to it).

        A typed filter may stand in the URL as itself or as a reference to a private term.
        """
        dropped = dict.fromkeys((self.parameter, "page"))
        if self.parameter in PRIVATE_PARAMETERS:
            dropped[PRIVATE_PARAMETERS[self.parameter]] = None
        return dropped


class CaseFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        # What the upstream's SearchTerm matches (docs/autocollect-api.md); phone numbers are
        # not among them, so the help says so rather than let a phone search find nothing.
        help_text=_(
            "Case, invoice or customer number, source invoice id, name or e-mail. "
            "Not phone numbers."
        ),
        widget=forms.SearchInput(attrs=_SEARCH_ATTRS),
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(CASE_STATUSES, _("Any status")),
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=_choices(CASE_TYPES, _("Any type")),
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    customer = forms.CharField(
        label=_("Customer number"),
        required=False,
        max_length=CUSTOMER_NUMBER_MAX_LENGTH,
        widget=forms.TextInput(attrs=_TYPING_ATTRS),
    )
    invoice = forms.CharField(
        label=_("Source invoice id"),
        required=False,
        max_length=INVOICE_ID_MAX_LENGTH,
        widget=forms.TextInput(attrs=_TYPING_ATTRS),
    )
    created_from = forms.DateField(
        label=_("Registered from"),
        required=False,
        validators=_DATE_RANGE_VALIDATORS,
        widget=_DateInput(attrs={**_CHANGE_ATTRS, **_DATE_RANGE_ATTRS}),
    )
    created_to = forms.DateField(
        label=_("Registered to"),
        required=False,
        validators=_DATE_RANGE_VALIDATORS,
        widget=_DateInput(attrs={**_CHANGE_ATTRS, **_DATE_RANGE_ATTRS}),
    )
    size = PageSizeField(
        label=_("Rows per page"),
        required=False,
        choices=[(size, str(size)) for size in PAGE_SIZES],
        coerce=int,
        empty_value=None,
        initial=DEFAULT_PAGE_SIZE,
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    page = forms.CharField(
        required=False, max_length=PAGE_TOKEN_MAX_LENGTH, widget=forms.HiddenInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")  # labels sit above their fields, no colon
        super().__init__(*args, **kwargs)

    def add_prefix(self, field_name: str) -> str:
        # The URL says from/to; Python cannot name a field "from".
        return super().add_prefix(URL_NAMES.get(field_name, field_name))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", _("The end date is before the start date."))
        return cleaned

    def to_filters(self) -> CaseFilters:
        """What the upstream is asked for; call only after is_valid()."""
        data = self.cleaned_data
        return CaseFilters(
            status=data["status"],
            type=data["type"],
            customer_number=data["customer"],
            unique_source_invoice_id=data["invoice"],
            search_term=data["q"],
            created_from=data["created_from"],
            created_to=data["created_to"],
        )

    def page_token(self) -> str | None:
        """The upstream page token from the URL, or None for the first page."""
        token: str = self.cleaned_data["page"]
        return token or None

    def page_size(self) -> int:
        size: int | None = self.cleaned_data["size"]
        return size or DEFAULT_PAGE_SIZE

    def folded_filter_count(self) -> int:
        """How many of the filters beside the search box are in effect (the folded panel's n)."""
        return sum(chip.parameter in FOLDED_FILTER_NAMES for chip in self.active_filters())

    def active_filters(self) -> list[ActiveFilter]:
        """The filters in effect, in form order, for chips; empty when the form is invalid."""
        if not self.is_valid():
            return []
        data = self.cleaned_data
        found: list[ActiveFilter] = []
        for name in ("q", "status", "type", "customer", "invoice", "created_from", "created_to"):
            value = data.get(name)
            if value in (None, ""):
                continue
            field = self.fields[name]
            shown = label(value) if name in ("status", "type") else value
            found.append(
                ActiveFilter(
                    label=field.label or name, value=shown, parameter=self.add_prefix(name)
                )
            )
        return found
