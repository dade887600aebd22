"""Helpers for tests (and benchmarks) that talk to the sandbox through Django's test client.

They live with the tests, not in the sandbox app, so nothing test-only ships with the product.
"""

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.test import Client

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as Response
else:
    Response = Any

DOCUMENTED_EXAMPLE = (
    Path(__file__).resolve().parents[2] / "docs" / "upstream" / "GetCasesByOrganization.txt"
)
API_ROOT = "/sandbox/collection/v1"
TOKEN_URL = "/sandbox/token"


def documented_cases_example() -> dict[str, Any]:
    """The JSON response example from the upstream's GetCasesByOrganization page."""
    text = DOCUMENTED_EXAMPLE.read_text(encoding="utf-8")
    start = text.index("{", text.index("Response Response Example"))
    example, _ = json.JSONDecoder().raw_decode(text[start:])
    if not isinstance(example, dict):
        raise TypeError("The documented example is not a JSON object.")
    return example


def fetch_token(
    client: Client,
    client_id: str = "sandbox",
    client_secret: str = "sandbox",  # noqa: S107
) -> str:
    response = client.post(
        TOKEN_URL,
        {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        },
    )
    if response.status_code != 200:
        raise AssertionError(f"token endpoint answered {response.status_code}")
    return str(json.loads(response.content)["access_token"])


class SandboxApi:
    """Calls one sandbox organisation's API with a bearer token, as the upstream client would."""

    def __init__(
        self, client: Client, organization_id: uuid.UUID, token: str | None = None
    ) -> None:
        self.client = client
        self.organization_id = organization_id
        self.token = token or fetch_token(client)

    def url(self, path: str, organization_id: uuid.UUID | None = None) -> str:
        return f"{API_ROOT}/orgs/{organization_id or self.organization_id}/{path}"

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> Response:
        url = self.url(path, organization_id)
        return self.client.get(url, params or {}, headers=self.headers(headers))

    def post(
        self,
        path: str,
        body: object = None,
        *,
        headers: dict[str, str] | None = None,
        organization_id: uuid.UUID | None = None,
    ) -> Response:
        data = b"" if body is None else body if isinstance(body, bytes) else json.dumps(body)
        return self.client.post(
            self.url(path, organization_id),
            data,
            content_type="application/json",
            headers=self.headers(headers),
        )

    def cases(self, **params: Any) -> dict[str, Any]:
        """One page of GetCasesByOrganization, failing loudly unless it is a 200."""
        response = self.get("cases", params)
        if response.status_code != 200:
            raise AssertionError(f"cases answered {response.status_code}: {response.content!r}")
        page: dict[str, Any] = json.loads(response.content)
        return page

    def all_cases(self, **params: Any) -> list[dict[str, Any]]:
        """Every case matching `params`, following nextPageToken to the end."""
        found: list[dict[str, Any]] = []
        page = self.cases(PageSize=100, **params)
        found += page["data"]
        while page["cursorSummary"]["nextPageToken"]:
            page = self.cases(
                PageSize=100, PageToken=page["cursorSummary"]["nextPageToken"], **params
            )
            found += page["data"]
        return found

    def action(
        self, case_id: str, action: str, body: object = None, *, key: str | None = None
    ) -> Response:
        headers = {"Idempotency-Key": key} if key else None
        return self.post(f"cases/{case_id}/{action}", body, headers=headers)
