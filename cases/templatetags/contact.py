"""Links to reach a debtor: `{% load contact %}`.

``{{ debtor.phone|tel_href }}``
    "tel:+4791234567" for a number that reads as a phone number (cases.phones.e164), "" for
    anything else, so the template shows it as text instead of a link that dials nonsense.
"""

from django import template

from cases.phones import e164

register = template.Library()


@register.filter
def tel_href(phone: object) -> str:
    """The `tel:` URL of a phone number, "" when it is not one."""
    number = e164(phone) if isinstance(phone, str) else ""
    return f"tel:{number}" if number else ""
