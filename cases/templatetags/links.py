"""Links to case and debtor pages from upstream values: `{% load links %}`.

``{% case_url case.case_number as href %}`` / ``{% debtor_url debtor.customer_number as href %}``
    The page's URL, or "" when the value cannot name one (a case number of zero or less; a
    customer number that is "." or ".."): wrap the link in ``{% if href %}`` and show the value
    as text otherwise. See cases.links for why the customer number is encoded as it is.
"""

from django import template

from cases import links

register = template.Library()


@register.simple_tag
def case_url(case_number: int | None) -> str:
    return links.case_url(case_number) if isinstance(case_number, int) else ""


@register.simple_tag
def debtor_url(customer_number: str | None) -> str:
    return links.debtor_url(customer_number) if customer_number else ""
