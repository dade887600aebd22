"""The UI shell: layout, htmx configuration, CSP-safe markup, template helpers, error pages."""

import json
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from types import MappingProxyType

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template import Context, Template
from django.template.loader import render_to_string
from django.test import Client
from django.urls import include, path
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.vary import vary_on_headers
from pytest_django import DjangoAssertNumQueries

from cases.autocollect import (
    ACCOUNT_TYPES,
    CASE_STATUSES,
    CASE_SUB_STATUSES,
    CASE_TYPES,
    CLAIM_TYPES,
    DEBTOR_TYPES,
    AccessDenied,
    AutoCollectError,
    InvalidPageToken,
    NotFound,
    Problem,
    RateLimited,
    Rejected,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from cases.templatetags.collection import (
    ENUM_LABELS,
    MISSING,
    enum_label,
    mask_identifier,
    money,
    number,
    status_badge_class,
)
from cases.upstream_errors import upstream_error_response
from dashboard.http import HtmxHttpRequest
from dashboard.models import Membership, Organization, Role

NBSP = "\u00a0"
HTMX = {"HX-Request": "true"}


def _problem(status: int = 400, trace_id: str = "trace-1") -> Problem:
    return Problem(
        status=status, title="Bad", detail="", errors=MappingProxyType({}), trace_id=trace_id
    )


ERRORS: dict[str, AutoCollectError] = {
    "timeout": UpstreamTimeout("slow"),
    "unavailable": UpstreamUnavailable("down"),
    "maintenance": UpstreamUnavailable("503", retry_after=120),
    "ratelimited": RateLimited("slow down", retry_after=30),
    "ratelimited-unsaid": RateLimited("slow down"),
    "denied": AccessDenied("no"),
    "notfound": NotFound("gone"),
    "rejected": Rejected(_problem()),
    "badtoken": InvalidPageToken(_problem()),
    "hostile": Rejected(_problem(trace_id='<script>alert("x")</script>')),
    "other": AutoCollectError("??"),
}


@never_cache
@vary_on_headers("HX-Request", "HX-Target")
def _failing_view(request: HtmxHttpRequest) -> HttpResponse:
    return upstream_error_response(request, ERRORS[request.GET["kind"]], target_id="results")


def _forbidden_view(request: HtmxHttpRequest) -> HttpResponse:
    raise PermissionDenied


# This module is also the URLconf of its tests: the project's URLs plus two that fail on purpose.
urlpatterns = [
    path("test-shell/upstream/", _failing_view),
    path("test-shell/forbidden/", _forbidden_view),
    path("", include("dashboard.urls")),
]

pytestmark = pytest.mark.urls("tests.test_shell")


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


class _Markup(HTMLParser):
    """Collects what a CSP without unsafe-inline would block, plus the attributes tests need."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.inline_scripts = 0
        self.style_tags = 0
        self.offences: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        self.tags.append((tag, attributes))
        if tag == "script" and "src" not in attributes:
            self.inline_scripts += 1
        if tag == "style":
            self.style_tags += 1
        for name, value in attributes.items():
            if name == "style" or name.startswith("on") or name.startswith(("hx-on", "data-hx-on")):
                self.offences.append(f"<{tag} {name}=...>")
            if value.strip().lower().startswith(("js:", "javascript:")):
                self.offences.append(f"<{tag} {name}={value!r}>")

    def find(self, tag: str, **wanted: str) -> list[dict[str, str]]:
        return [
            attributes
            for name, attributes in self.tags
            if name == tag and all(attributes.get(k) == v for k, v in wanted.items())
        ]


def parse(html: str | bytes) -> _Markup:
    parser = _Markup()
    parser.feed(html.decode() if isinstance(html, bytes) else html)
    return parser


def htmx_config(html: bytes) -> dict[str, object]:
    metas = parse(html).find("meta", name="htmx-config")
    assert len(metas) == 1, "htmx is configured exactly once, in base.html"
    config: dict[str, object] = json.loads(metas[0]["content"])
    return config


def resolve_response_handling(config: dict[str, object], status: int) -> dict[str, object]:
    """The rule htmx 2 applies to a status: the first whose code regex matches."""
    rules = config["responseHandling"]
    assert isinstance(rules, list)
    for rule in rules:
        if re.search(rule["code"], str(status)):
            return dict(rule)
    return {"swap": False}


def _in_org(user: User, organization: Organization) -> None:
    Membership.objects.create(user=user, organization=organization, role=Role.VIEWER)


# --------------------------------------------------------------------------------------------
# Layout and htmx configuration
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_htmx_is_configured_for_a_strict_csp_and_no_browser_storage(client: Client) -> None:
    config = htmx_config(client.get("/accounts/login/").content)

    assert config["allowEval"] is False
    assert config["allowScriptTags"] is False
    assert config["includeIndicatorStyles"] is False
    assert config["selfRequestsOnly"] is True
    assert config["historyCacheSize"] == 0
    assert config["historyRestoreAsHxRequest"] is False


@pytest.mark.django_db
@pytest.mark.parametrize("status", [400, 403, 404, 429, 500, 502, 503, 504])
def test_error_statuses_swap_their_partial_into_the_target(client: Client, status: int) -> None:
    rule = resolve_response_handling(htmx_config(client.get("/accounts/login/").content), status)

    assert rule["swap"] is True
    assert rule["error"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("status", "swaps"), [(200, True), (204, False), (286, True), (401, False)]
)
def test_success_swaps_and_no_content_does_not(client: Client, status: int, swaps: bool) -> None:
    rule = resolve_response_handling(htmx_config(client.get("/accounts/login/").content), status)

    assert rule["swap"] is swaps


@pytest.mark.django_db
def test_scripts_come_deferred_from_static_and_htmx_is_version_2(client: Client) -> None:
    scripts = parse(client.get("/accounts/login/").content).find("script")

    sources = [script["src"] for script in scripts]
    assert sources == [
        "/static/js/vendor/htmx.min.js",
        "/static/js/app.js",
        "/static/js/case_page.js",
    ]
    assert all("defer" in script for script in scripts)
    htmx_source = (Path(settings.BASE_DIR) / "static/js/vendor/htmx.min.js").read_text()
    assert 'version:"2.' in htmx_source


@pytest.mark.django_db
def test_htmx_posts_carry_the_csrf_token(client: Client) -> None:
    response = client.get("/accounts/login/")

    body = parse(response.content).find("body")[0]
    assert json.loads(body["hx-headers"]) == {"X-CSRFToken": response.context["csrf_token"]}


@pytest.mark.django_db
def test_csp_header_forbids_inline_code(client: Client) -> None:
    policy = client.get("/accounts/login/").headers["Content-Security-Policy"]

    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "unsafe-eval" not in policy


@pytest.mark.django_db
def test_layout_has_skip_link_live_region_and_loading_indicator(client: Client) -> None:
    markup = parse(client.get("/accounts/login/").content)

    assert markup.find("a", **{"class": "skip-link", "href": "#main"})
    assert markup.find("main", id="main")
    assert markup.find("div", id="live-region", **{"aria-live": "polite"})
    indicator = markup.find("div", id="page-progress")
    assert indicator
    assert "htmx-indicator" in indicator[0]["class"].split()
    assert markup.find("body")[0]["hx-indicator"] == "#page-progress"


@pytest.mark.django_db
def test_html_lang_follows_the_active_language(client: Client) -> None:
    english = client.get("/accounts/login/", headers={"Accept-Language": "en"})
    norwegian = client.get("/accounts/login/", headers={"Accept-Language": "nb"})

    assert parse(english.content).find("html")[0]["lang"] == "en"
    assert parse(norwegian.content).find("html")[0]["lang"] == "nb"


@pytest.mark.django_db
def test_language_switcher_returns_to_the_page_the_browser_shows_with_its_query(
    client_a: Client,
) -> None:
    markup = parse(client_a.get("/cases/?q=hansen&status=OPEN").content)

    form = markup.find("form", action="/i18n/setlang/", method="post")
    assert form
    # No "next" field that htmx's pushed URLs would leave stale: Django returns to the Referer,
    # which is the address the browser shows.
    assert not markup.find("input", name="next")
    assert {option["value"] for option in markup.find("option", lang="nb")} == {"nb"}
    assert {option["value"] for option in markup.find("option", lang="en")} == {"en"}
    shown = "http://testserver/cases/?q=hansen&status=CLOSED"
    response = client_a.post("/i18n/setlang/", {"language": "nb"}, headers={"Referer": shown})
    assert response.status_code == 302
    assert response["Location"] == shown


@pytest.mark.django_db
def test_switching_language_sets_html_lang_on_the_next_page(client: Client) -> None:
    client.get("/accounts/login/")
    response = client.post(
        "/i18n/setlang/", {"language": "en", "next": "/accounts/login/"}, follow=True
    )

    assert parse(response.content).find("html")[0]["lang"] == "en"


@pytest.mark.django_db
def test_organisation_switcher_lists_only_the_users_memberships(
    client: Client, agent_a: User, org_a: Organization, org_b: Organization
) -> None:
    third = Organization.objects.create(
        name="Alta Eiendom AS", amili_id="1f0c6a52-5c7e-4b55-9d0a-0000000000c3"
    )
    _in_org(agent_a, third)
    client.force_login(agent_a)

    markup = parse(client.get("/no-such-page/").content)

    assert markup.find("form", action="/organization/switch/", method="post")
    options = {
        attributes["value"]
        for tag, attributes in markup.tags
        if tag == "option" and attributes.get("value", "").isdigit()
    }
    assert options == {str(org_a.pk), str(third.pk)}
    assert str(org_b.pk) not in options
    assert markup.find("select", name="organization", **{"data-autosubmit": ""})
    assert markup.find("button", type="submit", **{"class": "button autosubmit-fallback"})


@pytest.mark.django_db
def test_single_organisation_is_named_without_a_switcher(client_a: Client) -> None:
    response = client_a.get("/no-such-page/")

    assert not parse(response.content).find("select", name="organization")
    assert "Bergen Boliger AS" in response.content.decode()


@pytest.mark.django_db
def test_header_shows_the_user_and_a_logout_post_button(client_a: Client, agent_a: User) -> None:
    response = client_a.get("/no-such-page/")

    markup = parse(response.content)
    assert markup.find("form", action="/accounts/logout/", method="post")
    assert agent_a.get_username() in response.content.decode()


@pytest.mark.django_db
def test_messages_are_shown_as_alerts(client: Client) -> None:
    client.get("/accounts/login/")
    response = client.post(
        "/accounts/login/", {"username": "nobody", "password": "wrong"}, follow=True
    )

    markup = parse(response.content)
    assert markup.find("div", **{"class": "alert alert--error", "role": "alert"})


# --------------------------------------------------------------------------------------------
# No inline code anywhere
# --------------------------------------------------------------------------------------------


def _assert_csp_clean(html: str | bytes) -> None:
    markup = parse(html)
    assert markup.inline_scripts == 0
    assert markup.style_tags == 0
    assert markup.offences == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/no-such-page/",
        "/test-shell/forbidden/",
        "/test-shell/upstream/?kind=timeout",
        "/test-shell/upstream/?kind=denied",
    ],
)
def test_logged_in_pages_have_no_inline_script_or_style(client_a: Client, url: str) -> None:
    response = client_a.get(url)

    assert response.status_code >= 400
    assert b"<html" in response.content
    _assert_csp_clean(response.content)


@pytest.mark.django_db
def test_login_and_no_organisation_pages_have_no_inline_script_or_style(client: Client) -> None:
    _assert_csp_clean(client.get("/accounts/login/").content)
    loner = User.objects.create_user("loner", password="pw-12345!")
    client.force_login(loner)
    response = client.get("/cases/")
    assert response.status_code == 403
    _assert_csp_clean(response.content)


def test_the_checker_notices_inline_code() -> None:
    with pytest.raises(AssertionError):
        _assert_csp_clean("<p style='color:red'>x</p>")
    with pytest.raises(AssertionError):
        _assert_csp_clean("<script>alert(1)</script>")
    with pytest.raises(AssertionError):
        _assert_csp_clean('<button hx-on:click="x()">x</button>')
    with pytest.raises(AssertionError):
        _assert_csp_clean('<div hx-vals="js:{a: 1}"></div>')


@pytest.mark.django_db
def test_server_error_page_renders_without_context_or_database(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(0):
        html = render_to_string("500.html")

    assert "<html" in html
    assert "/static/css/app.css" in html
    _assert_csp_clean(html)


@pytest.mark.django_db
def test_not_found_page_is_friendly_and_in_the_layout(client_a: Client) -> None:
    response = client_a.get("/no-such-page/")

    assert response.status_code == 404
    assert response.templates[0].name == "404.html"
    assert parse(response.content).find("a", href="/cases/", **{"class": "button"})


@pytest.mark.django_db
def test_permission_denied_page_is_friendly_and_in_the_layout(client_a: Client) -> None:
    response = client_a.get("/test-shell/forbidden/")

    assert response.status_code == 403
    assert response.templates[0].name == "403.html"


# --------------------------------------------------------------------------------------------
# Template filters
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "amount", "currency", "expected"),
    [
        ("nb", Decimal("1234.50"), "NOK", f"1{NBSP}234,50{NBSP}kr"),
        ("en", Decimal("1234.50"), "NOK", f"NOK{NBSP}1,234.50"),
        ("nb", Decimal("-0.10"), "NOK", f"-0,10{NBSP}kr"),
        ("en", Decimal("1234.5"), "EUR", "€1,234.50"),
        (
            "nb",
            Decimal("12345678901234567.01"),
            "NOK",
            f"12{NBSP}345{NBSP}678{NBSP}901{NBSP}234{NBSP}567,01{NBSP}kr",
        ),
        ("nb", 0, "NOK", f"0,00{NBSP}kr"),
        ("nb", "99.95", "", f"99,95{NBSP}kr"),
    ],
)
def test_money_is_exact_and_in_the_active_locale(
    language: str, amount: object, currency: str, expected: str
) -> None:
    with translation.override(language):
        assert money(amount, currency) == expected


def test_money_defaults_to_norwegian_kroner() -> None:
    with translation.override("en"):
        assert money(Decimal("5")) == f"NOK{NBSP}5.00"


def test_money_shows_a_dash_for_a_missing_amount() -> None:
    assert money(None) == MISSING
    assert money("") == MISSING


def test_money_passes_through_what_is_not_a_number() -> None:
    assert money("n/a") == "n/a"
    assert money(Decimal("NaN")) == "NaN"


def test_number_groups_digits_in_the_active_locale() -> None:
    with translation.override("nb"):
        assert number(1234) == f"1{NBSP}234"
    with translation.override("en"):
        assert number(1234) == "1,234"
    assert number(None) == MISSING


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("OPEN", "Open"),
        ("DEBT_COLLECTION_LIST_MANUAL", "Awaiting debt collection approval"),
        ("LEGAL_COLLECTION", "Legal collection"),
        ("COMPANY", "Company"),
        ("REMINDER_FEE", "Reminder fee"),
        ("BBAN", "Norwegian account number (BBAN)"),
        ("NEW_THING", "New thing"),
        ("partly_paid", "Partly paid"),
        (None, MISSING),
        ("", MISSING),
        ("  ", MISSING),
        (42, "42"),
    ],
)
def test_enum_label_reads_well_and_never_crashes(value: object, expected: str) -> None:
    with translation.override("en"):
        assert enum_label(value) == expected


def test_enum_label_covers_every_value_the_client_knows() -> None:
    known = (
        *CASE_STATUSES,
        *CASE_SUB_STATUSES,
        *CASE_TYPES,
        *DEBTOR_TYPES,
        *CLAIM_TYPES,
        *ACCOUNT_TYPES,
    )
    assert [value for value in known if value not in ENUM_LABELS] == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("OPEN", "badge--open"),
        ("PAUSED", "badge--paused"),
        ("CLOSED", "badge--closed"),
        ("WITHDRAWN", "badge--withdrawn"),
        ("EVICTION_REQUEST_MANUAL", "badge--waiting"),
        ("ARCHIVED", "badge--unknown"),
        ("", "badge--unknown"),
        (None, "badge--unknown"),
    ],
)
def test_status_badge_class(value: object, expected: str) -> None:
    assert status_badge_class(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("01019912345", "•••••••••45"),
        ("987 654 321", "•••••••21"),
        ("12", "••"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_identifier_keeps_only_the_last_two_characters(value: object, expected: str) -> None:
    assert mask_identifier(value) == expected


def test_filters_work_from_a_template() -> None:
    template = Template(
        "{% load collection %}"
        '<span class="badge {{ s|status_badge_class }}">{{ s|enum_label }}</span> '
        "{{ amount|money }} {{ id|mask_identifier }}"
    )
    with translation.override("nb"):
        html = template.render(
            Context({"s": "PAUSED", "amount": Decimal("10"), "id": "01019912345"})
        )

    assert 'class="badge badge--paused"' in html
    assert f"10,00{NBSP}kr" in html
    assert "•••••••••45" in html


# --------------------------------------------------------------------------------------------
# Upstream errors
# --------------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("kind", "status"),
    [
        ("timeout", 504),
        ("unavailable", 502),
        ("maintenance", 503),
        ("ratelimited", 429),
        ("denied", 403),
        ("notfound", 404),
        ("rejected", 502),
        ("badtoken", 502),
        ("other", 502),
    ],
)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "full"])
def test_upstream_errors_answer_with_the_right_status(
    client_a: Client, kind: str, status: int, htmx: bool
) -> None:
    response = client_a.get(f"/test-shell/upstream/?kind={kind}", headers=HTMX if htmx else {})

    assert response.status_code == status
    assert "no-store" in response.headers["Cache-Control"]
    assert "HX-Request" in response.headers["Vary"]


@pytest.mark.django_db
def test_rate_limit_sends_retry_after_when_the_upstream_said(client_a: Client) -> None:
    said = client_a.get(
        "/test-shell/upstream/?kind=ratelimited", headers={**HTMX, "Accept-Language": "en"}
    )
    unsaid = client_a.get("/test-shell/upstream/?kind=ratelimited-unsaid", headers=HTMX)

    assert said.headers["Retry-After"] == "30"
    assert "30 seconds" in said.content.decode()
    assert "Retry-After" not in unsaid.headers


@pytest.mark.django_db
def test_maintenance_sends_retry_after(client_a: Client) -> None:
    response = client_a.get("/test-shell/upstream/?kind=maintenance")

    assert response.headers["Retry-After"] == "120"


@pytest.mark.django_db
def test_htmx_error_is_only_the_partial_rooted_at_the_target(client_a: Client) -> None:
    url = "/test-shell/upstream/?kind=timeout&q=hansen"
    response = client_a.get(
        url, headers={**HTMX, "HX-Current-URL": "http://testserver/cases/?q=hansen"}
    )

    html = response.content.decode()
    assert "<html" not in html
    assert html.strip().startswith('<div id="results"')
    assert response.headers["HX-Retarget"] == "#results"
    assert response.headers["HX-Reswap"] == "outerHTML"
    retry = parse(html).find("button", **{"hx-target": "#results", "hx-swap": "outerHTML"})
    assert retry
    assert retry[0]["hx-get"] == url
    assert parse(html).find("a", href="/cases/?q=hansen")


@pytest.mark.django_db
def test_full_page_error_is_in_the_layout_with_a_plain_retry_link(client_a: Client) -> None:
    url = "/test-shell/upstream/?kind=unavailable&q=hansen"
    response = client_a.get(url)

    markup = parse(response.content)
    assert markup.find("html")
    assert markup.find("div", id="results", **{"class": "upstream-error"})
    assert markup.find("a", href=url, **{"class": "button"})
    assert not [attributes for tag, attributes in markup.tags if "hx-get" in attributes]
    assert markup.find("h1", **{"class": "alert__title"})


@pytest.mark.django_db
def test_history_restore_gets_the_full_page(client_a: Client) -> None:
    response = client_a.get(
        "/test-shell/upstream/?kind=timeout",
        headers={**HTMX, "HX-History-Restore-Request": "true"},
    )

    assert b"<html" in response.content
    assert "HX-Retarget" not in response.headers


@pytest.mark.django_db
def test_access_denied_says_whom_to_ask_and_offers_no_pointless_retry(client_a: Client) -> None:
    with translation.override("en"):
        response = client_a.get(
            "/test-shell/upstream/?kind=denied", headers={**HTMX, "Accept-Language": "en"}
        )

    html = response.content.decode()
    assert "credentials may not read" in html
    assert "Amili contact" in html
    assert "administrator" in html
    assert not parse(html).find("button", **{"hx-target": "#results"})


@pytest.mark.django_db
def test_upstream_text_in_an_error_is_escaped(client_a: Client) -> None:
    response = client_a.get("/test-shell/upstream/?kind=hostile", headers=HTMX)

    html = response.content.decode()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
