"""The sandbox's OAuth2 client-credentials tokens: HS256 JWTs signed with SECRET_KEY.

Real JWTs (header.payload.signature) so a client that peeks at `exp` sees what it would see
upstream; the standard library is enough to sign and check them.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from django.conf import settings

TOKEN_LIFETIME_SECONDS = 3600
RESOURCE = "https://api.amili.no/collection"  # [ours] what the token is for, echoed as `resource`
ISSUER = "amili-autocollect-sandbox"
_HEADER = {"alg": "HS256", "typ": "JWT"}


class InvalidToken(Exception):
    """The bearer token is missing, forged or unreadable."""


class ExpiredToken(InvalidToken):
    """The bearer token was genuine but its lifetime is over."""


@dataclass(frozen=True)
class Grant:
    """What an access token vouches for."""

    client_id: str
    not_before: int
    expires_on: int


def issue_token(
    client_id: str, *, now: float | None = None, lifetime: int = TOKEN_LIFETIME_SECONDS
) -> tuple[str, Grant]:
    """A signed token for `client_id`, valid from now for `lifetime` seconds."""
    issued_at = int(time.time() if now is None else now)
    grant = Grant(client_id=client_id, not_before=issued_at, expires_on=issued_at + lifetime)
    claims = {
        "iss": ISSUER,
        "aud": RESOURCE,
        "sub": client_id,
        "iat": issued_at,
        "nbf": grant.not_before,
        "exp": grant.expires_on,
        "jti": uuid.uuid4().hex,
    }
    signing_input = f"{_encode_segment(_HEADER)}.{_encode_segment(claims)}"
    return f"{signing_input}.{_b64encode(_sign(signing_input))}", grant


def verify_token(token: str, *, now: float | None = None) -> Grant:
    """The grant of a genuine, current token; InvalidToken or ExpiredToken otherwise."""
    try:
        header_segment, claims_segment, signature_segment = token.split(".")
        signature = _b64decode(signature_segment)
    except (ValueError, binascii.Error) as error:
        raise InvalidToken("The token is not a JWT.") from error
    signing_input = f"{header_segment}.{claims_segment}"
    if not hmac.compare_digest(signature, _sign(signing_input)):
        raise InvalidToken("The token's signature is not valid.")
    try:
        header = _decode_segment(header_segment)
        claims = _decode_segment(claims_segment)
        client_id, not_before, expires_on = (
            str(claims["sub"]),
            int(claims["nbf"]),
            int(claims["exp"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error) as error:
        raise InvalidToken("The token's claims are unreadable.") from error
    if header.get("alg") != "HS256" or claims.get("aud") != RESOURCE:
        raise InvalidToken("The token was not issued for this API.")
    current = time.time() if now is None else now
    if current >= expires_on:
        raise ExpiredToken("The token has expired.")
    if current + 60 < not_before:  # a minute of clock skew, as most issuers allow
        raise InvalidToken("The token is not valid yet.")
    return Grant(client_id=client_id, not_before=not_before, expires_on=expires_on)


def credentials_are_valid(client_id: str, client_secret: str) -> bool:
    """Constant-time check against SANDBOX_CLIENT_ID / SANDBOX_CLIENT_SECRET (read per request)."""
    id_ok = hmac.compare_digest(client_id.encode(), str(settings.SANDBOX_CLIENT_ID).encode())
    secret_ok = hmac.compare_digest(
        client_secret.encode(), str(settings.SANDBOX_CLIENT_SECRET).encode()
    )
    return id_ok and secret_ok


def _sign(signing_input: str) -> bytes:
    return hmac.new(settings.SECRET_KEY.encode(), signing_input.encode(), hashlib.sha256).digest()


def _encode_segment(value: dict[str, Any]) -> str:
    return _b64encode(json.dumps(value, separators=(",", ":")).encode())


def _decode_segment(segment: str) -> dict[str, Any]:
    value = json.loads(_b64decode(segment))
    if not isinstance(value, dict):
        raise ValueError("A JWT segment must be a JSON object.")
    return value


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
