"""The triage queues' state: a Django form bound to the query string.

Which queue, a text filter, the case type, the order, the page, the page size and the selected
case: everything /triage/ shows is named by its URL, so reload, Back and a pasted link show the
same queue. The cleaned data is all the queries ever see.
"""

from typing import Any, Final

from django import forms
from django.urls import reverse_lazy
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from cases.links import is_case_number
from cases.vocabulary import CASE_TYPES, label
from triage.queries import Queue, Sort

SEARCH_MAX_LENGTH: Final = 100
PAGE_SIZES: Final = (25, 50, 100)
DEFAULT_PAGE_SIZE: Final = 25
MAX_PAGE: Final = 100_000  # far past any queue's last page; a larger number is a typo or a probe
REVERSED: Final = "-"  # a sort value with this prefix turns the order around

# What each queue is called, in its tab and its heading.
QUEUE_LABELS: Final[dict[Queue, Promise]] = {
    Queue.DEBT_COLLECTION_LIST: _("Debt-collection approvals"),
    Queue.EVICTION_REQUEST: _("Eviction requests"),
    Queue.EVICTION_CONFIRMATION: _("Eviction confirmations"),
    Queue.PAUSED: _("Paused"),
    Queue.OPEN: _("All open"),
}
DEFAULT_QUEUE: Final = Queue.DEBT_COLLECTION_LIST

# Each order in its useful direction, then reversed (the "-" value).
SORT_LABELS: Final[dict[str, Promise]] = {
    Sort.WAITING.value: _("Waiting longest first"),
    REVERSED + Sort.WAITING.value: _("Waiting shortest first"),
    Sort.AMOUNT.value: _("Largest amount first"),
    REVERSED + Sort.AMOUNT.value: _("Smallest amount first"),
    Sort.DUE.value: _("Longest past due first"),
    REVERSED + Sort.DUE.value: _("Most recently due first"),
    Sort.REGISTERED.value: _("Oldest registration first"),
    REVERSED + Sort.REGISTERED.value: _("Newest registration first"),
}
DEFAULT_SORT: Final = Sort.WAITING.value

_QUEUE_URL = reverse_lazy("triage:queue")
# htmx wiring, as on the case list: typing replaces the URL, deliberate changes push it; the
# form itself names the target (the results) and keeps one request in flight.
_SEARCH_ATTRS: Final = {
    "hx-get": _QUEUE_URL,
    "hx-trigger": "input changed delay:300ms, search",
    "hx-replace-url": "true",
    "hx-include": "closest form",
    "autocomplete": "off",
}
_CHANGE_ATTRS: Final = {
    "hx-get": _QUEUE_URL,
    "hx-trigger": "change",
    "hx-push-url": "true",
    "hx-include": "closest form",
}


class DefaultingChoiceField(forms.TypedChoiceField):
    """A choice whose absence shows (and means) its default, not the first option."""

    def bound_data(self, data: Any, initial: Any) -> Any:
        return initial if data in (None, "") else data


class QueueForm(forms.Form):
    queue = DefaultingChoiceField(
        label=_("Queue"),
        choices=[(which.value, QUEUE_LABELS[which]) for which in Queue],
        coerce=Queue,
        required=False,
        empty_value=DEFAULT_QUEUE,
        initial=DEFAULT_QUEUE.value,
        widget=forms.HiddenInput,
    )
    q = forms.CharField(
        label=_("Filter"),
        required=False,
        max_length=SEARCH_MAX_LENGTH,
        help_text=_("Debtor name, case number or customer number."),
        widget=forms.SearchInput(attrs=_SEARCH_ATTRS),
    )
    type = forms.ChoiceField(
        label=_("Type"),
        required=False,
        choices=[("", _("Any type")), *((value, label(value)) for value in CASE_TYPES)],
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    sort = DefaultingChoiceField(
        label=_("Order"),
        choices=list(SORT_LABELS.items()),
        required=False,
        empty_value=DEFAULT_SORT,
        initial=DEFAULT_SORT,
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    size = DefaultingChoiceField(
        label=_("Rows per page"),
        choices=[(size, str(size)) for size in PAGE_SIZES],
        coerce=int,
        required=False,
        empty_value=DEFAULT_PAGE_SIZE,  # type: ignore[arg-type]  # django-stubs: str only
        initial=DEFAULT_PAGE_SIZE,
        widget=forms.Select(attrs=_CHANGE_ATTRS),
    )
    page = forms.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput
    )
    selected = forms.IntegerField(
        label=_("Selected case"),
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        widget=forms.HiddenInput,
    )

    def clean_selected(self) -> int | None:
        number: int | None = self.cleaned_data.get("selected")
        if number is not None and not is_case_number(number):
            raise forms.ValidationError(_("This is not a case number."), code="case_number")
        return number

    def queue_value(self) -> Queue:
        """The queue asked for; call only after is_valid()."""
        which: Queue = self.cleaned_data["queue"]
        return which

    def sort_value(self) -> tuple[Sort, bool]:
        """The order and whether it is reversed; call only after is_valid()."""
        value: str = self.cleaned_data["sort"]
        return Sort(value.removeprefix(REVERSED)), value.startswith(REVERSED)

    def page_number(self) -> int:
        page: int | None = self.cleaned_data.get("page")
        return page or 1

    def page_size(self) -> int:
        size: int = self.cleaned_data["size"]
        return size

    def selected_case(self) -> int | None:
        selected: int | None = self.cleaned_data.get("selected")
        return selected
