"""The case page as a person uses it: errors that keep the page's frame, a failed reveal beside its
number, one retry message, readable creditor and account details, omitted empty values, a
dialable phone, one date style, copy buttons, and what a withdrawn case's remaining amount means.

The browser's side of these (the clipboard, the progress bar, the phone layout) is in
tests/browser/test_case_page_browser.py.
"""

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.utils import translation

from cases.autocollect import (
    OrganizationBusy,
    RateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cases.phones import e164
from cases.upstream_errors import describe_upstream_error
from sandbox.models import Case as SandboxCase
from sandbox.models import SandboxOrganization
from tests.support.pages import section, text_of
from tests.support.sandbox_data import DEBTOR_ID, add_case, add_debtor, add_invoice

CASE_NUMBER = 4_300_021
CUSTOMER_NUMBER = "K-1001"
SECOND_DEBTOR_ID = "7d3b1c5e-0000-4000-8000-00000000d0b2"


def page_url(case_number: int = CASE_NUMBER) -> str:
    return f"/cases/{case_number}/"


@pytest.fixture
def case(sandbox_a: SandboxOrganization) -> SandboxCase:
    """An open case with one invoice and two debtors."""
    case = add_case(
        sandbox_a,
        CASE_NUMBER,
        remaining="1200.00",
        principal="1000.00",
        registered_at=datetime(2025, 1, 31, 23, 30, tzinfo=UTC),  # 1 February in Oslo
    )
    add_invoice(case, "F-77", original_amount="1200.00", remaining_amount="1200.00")
    add_debtor(case)
    add_debtor(
        case,
        debtor_id=SECOND_DEBTOR_ID,
        customer_number="K-1002",
        full_name="Ola Nordmann",
        identification_number="31129954321",
        phone="912 34 567",
    )
    return case


def fail_upstream(case: SandboxCase, fault: str) -> None:
    SandboxOrganization.objects.filter(pk=case.organization_id).update(fault=fault)


def summary_of(html: str) -> str:
    return section(html, "summary-title")


# --- A failed reveal: beside the number ---------------------------------------------------------


def test_a_failed_reveal_answers_the_cell_it_aimed_at_with_the_error_and_a_retry(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "429")

    response = client_a_in_english.post(
        page_url(),
        {"debtor": SECOND_DEBTOR_ID},
        headers={"HX-Request": "true", "HX-Target": "identification-2"},
    )

    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    html = response.text.strip()
    assert html.startswith('<span id="identification-2" class="identification identification--')
    assert "Too many requests right now" in html
    assert "debtors-title" not in html  # the section and the rest of the page stay as they are
    # The retry posts the same reveal again, into the same cell.
    assert f'hx-post="{page_url()}"' in html
    assert 'hx-target="#identification-2"' in html
    assert f'name="debtor" value="{SECOND_DEBTOR_ID}"' in html
    assert "csrfmiddlewaretoken" in html
    assert "31129954321" not in html


def test_a_retried_reveal_that_succeeds_shows_the_number_in_the_cell(
    client_a: Client, case: SandboxCase
) -> None:
    htmx = {"HX-Request": "true", "HX-Target": "identification-1"}
    fail_upstream(case, "503")
    failed = client_a.post(page_url(), {"debtor": DEBTOR_ID}, headers=htmx)
    fail_upstream(case, "")

    retried = client_a.post(page_url(), {"debtor": DEBTOR_ID}, headers=htmx)

    assert failed.status_code == 503
    assert retried.status_code == 200
    assert retried.text.strip().startswith('<span id="identification-1" class="identification">')


def test_a_failed_reveal_without_javascript_shows_the_case_pages_frame_with_the_error(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "500")

    response = client_a_in_english.post(page_url(), {"debtor": DEBTOR_ID})

    assert response.status_code == 502
    assert re.search(rf"<h1>Case {CASE_NUMBER}</h1>", response.text)
    assert "AutoCollect could not be reached" in response.text


# --- Failures keep the page's heading and breadcrumb --------------------------------------------


@pytest.mark.parametrize(
    ("fault", "status"), [("503", 503), ("429", 429), ("500", 502), ("malformed", 502)]
)
def test_a_failed_case_page_keeps_its_heading_breadcrumb_and_status(
    client_a_in_english: Client, case: SandboxCase, fault: str, status: int
) -> None:
    fail_upstream(case, fault)

    response = client_a_in_english.get(page_url())

    assert response.status_code == status
    html = response.text
    assert f"<title>Case {CASE_NUMBER} ·" in html
    assert re.search(rf"<h1>Case {CASE_NUMBER}</h1>", html)
    breadcrumbs = re.search(r'<nav class="breadcrumbs[^"]*"[^>]*>.*?</nav>', html, re.S)
    assert breadcrumbs is not None
    assert 'href="/cases/"' in breadcrumbs.group(0)
    assert f"Case {CASE_NUMBER}" in text_of(breadcrumbs.group(0))
    # The error is a section of the page (h2), retried in place of the page's content.
    assert '<div id="case-page-error" class="upstream-error">' in html
    assert '<h2 class="alert__title">' in html
    assert f'hx-get="{page_url()}" hx-target="#case-page"' in html
    assert "no-store" in response["Cache-Control"]


def test_an_htmx_retry_that_fails_again_keeps_the_frame_in_place(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "503")

    response = client_a_in_english.get(
        page_url(), headers={"HX-Request": "true", "HX-Target": "case-page"}
    )

    assert response.status_code == 503
    assert response.text.strip().startswith('<div id="case-page" class="case-page">')
    assert re.search(rf"<h1>Case {CASE_NUMBER}</h1>", response.text)
    assert response["HX-Reselect"] == "#case-page"
    assert "<html" not in response.text


def test_a_section_refresh_that_fails_gets_the_framed_page_content(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "500")

    response = client_a_in_english.get(
        page_url(), headers={"HX-Request": "true", "HX-Target": "case-timeline"}
    )

    assert response.status_code == 502
    assert response["HX-Retarget"] == "#case-page"
    assert response.text.strip().startswith('<div id="case-page"')


def test_a_failed_debtor_page_keeps_its_breadcrumb_and_names_the_customer(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "503")

    response = client_a_in_english.get(f"/debtors/{CUSTOMER_NUMBER}/")

    assert response.status_code == 503
    assert re.search(rf"<h1>Customer {CUSTOMER_NUMBER}</h1>", response.text)
    assert 'aria-label="Breadcrumbs"' in response.text
    assert 'hx-target="#debtor-page"' in response.text


# --- One retry message --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "advice"),
    [
        (RateLimited("slow down", retry_after=1), "Try again in 1 second."),
        (RateLimited("slow down", retry_after=30), "Try again in 30 seconds."),
        (RateLimited("slow down"), "Wait a little and try again."),
        (UpstreamUnavailable("down", retry_after=1), "Try again in 1 second."),
        (UpstreamUnavailable("down", retry_after=600), "Try again in 10 minutes."),
        (UpstreamUnavailable("down", retry_after=121), "Try again in 3 minutes."),
        (OrganizationBusy("busy", retry_after=2), "Try again in 2 seconds."),
        (UpstreamTimeout("slow"), None),
    ],
)
def test_the_advice_says_when_to_retry_once_with_the_wait_only_when_one_was_given(
    error: Exception, advice: str | None
) -> None:
    with translation.override("en"):
        info = describe_upstream_error(error)  # type: ignore[arg-type]
        said = str(info.advice)
        words = f"{info.explanation} {said}"

    if advice is not None:
        assert said == advice
    if getattr(error, "retry_after", None) is not None:
        assert "later" not in words
        assert "a moment" not in words
        assert "a little" not in words
    else:
        assert not re.search(r"\d", words)


def test_the_error_page_shows_one_message_about_waiting(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "503")  # the sandbox sends Retry-After: 1

    text = text_of(client_a_in_english.get(page_url()).text)

    assert "Try again in 1 second." in text
    assert "later" not in text
    assert "Wait" not in text


# --- The summary --------------------------------------------------------------------------------


def test_the_creditor_reads_as_a_label_with_its_id_behind_a_disclosure(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    summary = summary_of(client_a_in_english.get(page_url()).text)

    assert "Creditor number CR-778" in text_of(summary)
    details = re.search(r"<details[^>]*>.*?</details>", summary, re.S)
    assert details is not None
    assert str(case.creditor_id) in details.group(0)
    assert "Creditor id in AutoCollect" in details.group(0)


def test_an_unknown_bank_account_type_is_not_shown(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, CASE_NUMBER, account_type="UNKNOWN")

    summary = text_of(summary_of(client_a_in_english.get(page_url()).text))

    assert "15030012345" in summary
    assert "Unknown" not in summary


def test_a_known_bank_account_type_is_named(client_a_in_english: Client, case: SandboxCase) -> None:
    summary = text_of(summary_of(client_a_in_english.get(page_url()).text))

    assert "Norwegian account number (BBAN)" in summary


def test_empty_values_are_left_out_of_the_summary(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, CASE_NUMBER, sub_status="NONE", closed_at=None, description="")

    summary = summary_of(client_a_in_english.get(page_url()).text)

    assert "<dt>Sub-status</dt>" not in summary
    assert "<dt>Closed</dt>" not in summary
    assert "<dt>Description</dt>" not in summary
    assert "None" not in text_of(summary)
    assert "\u2013" not in text_of(summary)  # no dash standing in for a value


def test_empty_debtor_facts_are_left_out(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_debtor(add_case(sandbox_a, CASE_NUMBER), email="", phone="", debtor_number="")

    debtors = section(client_a_in_english.get(page_url()).text, "debtors-title")

    for label in ("E-mail", "Phone", "Debtor number"):
        assert f"<dt>{label}</dt>" not in debtors
    assert "\u2013" not in text_of(debtors)


def test_a_sub_status_and_a_closing_date_are_shown_when_there_are_some(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(
        sandbox_a,
        CASE_NUMBER,
        status="CLOSED",
        sub_status="EVICTION_REQUEST_MANUAL",
        closed_at=datetime(2025, 3, 4, 12, 0, tzinfo=UTC),
    )

    summary = text_of(summary_of(client_a_in_english.get(page_url()).text))

    assert "Sub-status Awaiting eviction request approval" in summary
    assert "Closed 04 Mar 2025" in summary


# --- Phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "dialled"),
    [
        ("+4791234567", "+4791234567"),
        ("+47 912 34 567", "+4791234567"),
        ("912 34 567", "+4791234567"),
        ("91234567", "+4791234567"),
        ("0047 912-34-567", "+4791234567"),
        ("+46 (0)8 123 456 78", "+46812345678"),  # the bracketed trunk zero is not dialled
        ("+46 8 123 456 78", "+46812345678"),
        ("1234", ""),
        ("ring etter kl. 16", ""),
        ("", ""),
        ("+0123456789", ""),
        ("+1234567890123456", ""),  # 16 digits: longer than E.164 allows
    ],
)
def test_phone_numbers_become_e164_when_they_can(written: str, dialled: str) -> None:
    assert e164(written) == dialled


def test_the_phone_is_a_tel_link_to_its_e164_form(client_a: Client, case: SandboxCase) -> None:
    debtors = section(client_a.get(page_url()).text, "debtors-title")

    assert '<a href="tel:+4791234567">+4791234567</a>' in debtors
    assert '<a href="tel:+4791234567">912 34 567</a>' in debtors  # as written, dialled in full


def test_a_phone_that_is_no_number_is_text_without_a_link(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    add_debtor(add_case(sandbox_a, CASE_NUMBER), phone="ring etter kl. 16")

    debtors = section(client_a.get(page_url()).text, "debtors-title")

    assert "ring etter kl. 16" in debtors
    assert "tel:" not in debtors


def test_the_debtor_page_links_the_phone_too(client_a: Client, case: SandboxCase) -> None:
    html = client_a.get(f"/debtors/{CUSTOMER_NUMBER}/").text

    assert 'href="tel:+4791234567"' in html


# --- One date style -----------------------------------------------------------------------------


def test_norwegian_dates_are_short_numeric_in_the_summary_and_the_tables_alike(
    client_a: Client, case: SandboxCase
) -> None:
    html = client_a.get(page_url(), headers={"Accept-Language": "nb"}).text

    assert "01.02.2025" in text_of(summary_of(html))
    assert "01.01.2025 15.01.2025" in text_of(section(html, "invoices-title"))
    assert "februar" not in text_of(html)


def test_english_dates_are_the_same_short_style_everywhere_on_the_page(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    html = client_a_in_english.get(page_url()).text

    assert "Registered 01 Feb 2025" in text_of(summary_of(html))
    assert "01 Jan 2025 15 Jan 2025" in text_of(section(html, "invoices-title"))
    assert "February" not in text_of(html)


# --- Copy buttons -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("element_id", "value", "name"),
    [
        ("payment-reference", "0042000172", "Copy the KID"),
        ("bank-account-number", "15030012345", "Copy the account number"),
    ],
)
def test_the_kid_and_the_account_number_have_a_copy_button_for_their_own_element(
    client_a_in_english: Client, case: SandboxCase, element_id: str, value: str, name: str
) -> None:
    summary = summary_of(client_a_in_english.get(page_url()).text)

    assert f'<span id="{element_id}" class="identifier">{value}</span>' in summary
    button = re.search(rf'<button[^>]*data-copy-target="{element_id}"[^>]*>.*?</button>', summary)
    assert button is not None
    assert " hidden" in button.group(0)  # shown by case_page.js where the Clipboard API exists
    assert 'data-copied="Copied"' in button.group(0)
    assert text_of(button.group(0)) == name
    assert re.search(
        rf'data-copy-target="{element_id}".*?</button><span class="copy-status small" '
        r'role="status"></span>',
        summary,
    )


def test_no_copy_button_without_a_value(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, CASE_NUMBER, payment_reference="", account_number="")

    assert "data-copy-target" not in client_a_in_english.get(page_url()).text


# --- Withdrawn cases ----------------------------------------------------------------------------


def test_a_withdrawn_case_says_what_its_remaining_amount_means(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(
        sandbox_a,
        CASE_NUMBER,
        remaining="18250.00",
        status="WITHDRAWN",
        closed_at=datetime(2025, 3, 4, 12, 0, tzinfo=UTC),
    )

    summary = summary_of(client_a_in_english.get(page_url()).text)

    note = re.search(r'<div id="withdrawn-note"[^>]*>.*?</div>', summary, re.S)
    assert note is not None
    assert "collection of this case has ended for good" in text_of(note.group(0))
    assert "what was unpaid when the case was withdrawn" in text_of(note.group(0))
    assert 'class="amount" aria-describedby="withdrawn-note"' in summary
    assert "Withdrawn 04 Mar 2025" in text_of(summary)


def test_a_withdrawn_case_with_nothing_left_does_not_explain_an_amount(
    client_a_in_english: Client, sandbox_a: SandboxOrganization
) -> None:
    add_case(sandbox_a, CASE_NUMBER, remaining="0", status="WITHDRAWN")

    summary = text_of(summary_of(client_a_in_english.get(page_url()).text))

    assert "collection of this case has ended for good" in summary
    assert "unpaid" not in summary


def test_an_open_case_has_no_withdrawal_note(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    assert "withdrawn-note" not in client_a_in_english.get(page_url()).text


# --- Norwegian ----------------------------------------------------------------------------------


def test_the_new_words_are_translated_into_norwegian(
    client_a: Client, sandbox_a: SandboxOrganization
) -> None:
    withdrawn = add_case(sandbox_a, CASE_NUMBER, remaining="10.00", status="WITHDRAWN")
    add_debtor(withdrawn)
    html = client_a.get(page_url(), headers={"Accept-Language": "nb"}).text
    fail_upstream(withdrawn, "429")
    failed = client_a.post(
        page_url(),
        {"debtor": DEBTOR_ID},
        headers={"Accept-Language": "nb", "HX-Request": "true", "HX-Target": "identification-1"},
    ).text

    for english in (
        "Copy",
        "Copied",
        "Creditor number",
        "Creditor id in AutoCollect",
        "the account number",
        "the KID",
        "Withdrawn:",
        "collection of this case",
        "The remaining amount is what was unpaid",
    ):
        assert english not in html, english
    for english in ("The number could not be shown", "Try again", "second"):
        assert english not in failed, english


def test_a_failed_refresh_is_retried_as_a_refresh(
    client_a_in_english: Client, case: SandboxCase
) -> None:
    fail_upstream(case, "500")

    response = client_a_in_english.get(
        f"{page_url()}?refresh=1", headers={"HX-Request": "true", "HX-Target": "case-page"}
    )

    assert response.status_code == 502
    assert f'hx-get="{page_url()}?refresh=1" hx-target="#case-page"' in response.text
