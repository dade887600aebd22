"""A missing case is a page users meet: the product's 404, in development as in production."""

import pytest
from django.test import Client, override_settings

from dashboard.models import Organization
from tests.support.sandbox_data import sandbox_organization
from tests.support.transport import RecordingTransport


@pytest.mark.parametrize("debug", [True, False])
def test_a_missing_case_shows_the_products_404_page(
    client_a: Client, org_a: Organization, sandbox_upstream: RecordingTransport, debug: bool
) -> None:
    sandbox_organization(org_a)
    with override_settings(DEBUG=debug):
        response = client_a.get("/cases/99999999/", headers={"Accept-Language": "en"})
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()
    assert "URLconf" not in response.content.decode()  # not Django's technical page
