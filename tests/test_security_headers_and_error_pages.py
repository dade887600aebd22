"""Security headers on every page, and technical error pages without personal values."""

import sys

import pytest
from django.test import Client, RequestFactory
from django.views.debug import get_exception_reporter_class, technical_500_response
from pytest_django.fixtures import Settings

from dashboard.error_reports import PersonalDataExceptionReporter

NATIONAL_ID = "01019012345"
EMAIL = "kari.nordmann@example.no"
PHONE = "+47 912 34 567"


@pytest.mark.parametrize("path", ["/accounts/login/", "/cases/?status=NOT-A-STATUS"])
def test_pages_send_the_security_headers(client_a: Client, path: str) -> None:
    response = client_a.get(path)
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = response["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment", "usb"):
        assert f"{feature}=()" in policy
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp
    assert "unsafe-eval" not in csp
    assert "script-src 'self'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"


def test_static_files_get_the_permissions_policy_too(settings: Settings) -> None:
    # pytest-django runs with DEBUG off, where WhiteNoise serves only collected files; a fresh
    # checkout has none, so let it find them in the source folders as development does.
    settings.WHITENOISE_USE_FINDERS = True
    settings.WHITENOISE_AUTOREFRESH = True
    response = Client().get("/static/css/app.css")  # a new client: WhiteNoise reads them once
    assert response.status_code == 200
    assert "camera=()" in response["Permissions-Policy"]


def _fail_with_personal_locals(national_id: str, email: str) -> None:
    debtor = {"identificationNumber": national_id, "email": email, "phone": PHONE}
    case_number = 1000001
    raise ValueError(f"could not parse {national_id!r} for {email}", debtor, case_number)


def _technical_page(*, is_email: bool = False) -> str:
    request = RequestFactory().post(
        f"/debtors/{NATIONAL_ID}/?q={EMAIL}&customer={NATIONAL_ID}",
        {"debtor": NATIONAL_ID, "note": EMAIL},
        HTTP_COOKIE=f"last_search={EMAIL}",
        HTTP_REFERER=f"http://testserver/cases/?q={EMAIL}",
        HTTP_HX_CURRENT_URL=f"http://testserver/cases/?q={PHONE}",
    )
    try:
        _fail_with_personal_locals(NATIONAL_ID, EMAIL)
    except ValueError:
        exc_type, exc_value, tb = sys.exc_info()
        reporter = PersonalDataExceptionReporter(request, exc_type, exc_value, tb, is_email)
    # What Django itself uses for DEBUG pages and mail_admins (the stubs mistype the class).
    assert get_exception_reporter_class(request) is PersonalDataExceptionReporter  # type: ignore[comparison-overlap]
    return reporter.get_traceback_text() if is_email else reporter.get_traceback_html()


@pytest.mark.parametrize("is_email", [False, True])
def test_the_technical_500_page_shows_no_personal_values(is_email: bool) -> None:
    page = _technical_page(is_email=is_email)

    for personal in (NATIONAL_ID, "01019012345", EMAIL, "kari.nordmann", "912 34 567"):
        assert personal not in page
    # Still useful to a developer: where it failed, which variables there were.
    assert "_fail_with_personal_locals" in page
    assert "national_id" in page
    assert "debtor" in page
    assert "ValueError" in page
    assert "[personal data]" in page  # the message, with the values replaced


def test_short_numbers_stay_readable_and_text_does_not(rf: RequestFactory) -> None:
    def fail() -> None:
        case_number = 1_000_000 + 1  # computed: the page's source excerpt does not show it
        full_name = "Kari " + "Nordmann"
        raise RuntimeError("boom", full_name[:0], case_number - case_number)

    try:
        fail()
    except RuntimeError:
        html = PersonalDataExceptionReporter(rf.get("/"), *sys.exc_info()).get_traceback_html()
    assert "1000001" in html
    assert "Kari" + " Nordmann" not in html  # split: the source excerpt shows this very line


def test_debug_500_responses_use_the_same_reporter(rf: RequestFactory) -> None:
    request = rf.get(f"/cases/?q={EMAIL}")
    try:
        _fail_with_personal_locals(NATIONAL_ID, EMAIL)
    except ValueError:
        response = technical_500_response(request, *sys.exc_info())
    html = response.content.decode()
    assert response.status_code == 500
    assert NATIONAL_ID not in html
    assert EMAIL not in html
