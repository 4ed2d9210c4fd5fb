"""JWT bearer tokens: minted for development, verified on every request.

Tokens (:class:`TokenVerifier`): only the configured algorithm; issuer, audience, expiry
and issued-at enforced; a lifetime (``exp - iat``) above ``CRKG_AUTH_MAX_TOKEN_TTL_MINUTES``
refused; a time that is not representable (``exp: 1e20``) is "malformed claims", never a
crash; a token whose ``jti`` is listed in ``CRKG_AUTH_REVOKED_TOKENS_FILE`` is refused
(:class:`RevocationList`, re-read when the file changes).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from jwt.exceptions import InvalidJTIError, InvalidSubjectError

from api.security.auth import (
    AuthConfigurationError,
    AuthenticationError,
    Principal,
    Role,
)
from graph.production_checks import MIN_HMAC_SECRET_BYTES
from graph.settings import CrkgSettings, Environment

logger = logging.getLogger("crkg.api.tokens")

CLOCK_SKEW_LEEWAY_SECONDS = 10
MIN_RSA_KEY_BITS = 2048
DEVELOPMENT_SECRET_FILE = "jwt-secret.key"  # noqa: S105 -- a file name, not a secret
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "role"]
_BEARER = re.compile(r"^bearer[ \t]+(?P<token>\S+)[ \t]*$", re.IGNORECASE)
_LONGEST_ECHOED_ROLE = 32


class TokenVerifier:
    """Turns a bearer token into a :class:`Principal`, or refuses it with a public reason.

    Only the one configured algorithm is accepted, so neither ``alg: none`` nor an
    RS256/HS256 confusion (an HMAC signed with the public key) can pass.
    """

    def __init__(
        self,
        *,
        algorithm: str,
        key: bytes | RSAPublicKey,
        issuer: str,
        audience: str,
        leeway_seconds: float = CLOCK_SKEW_LEEWAY_SECONDS,
        max_lifetime_minutes: int | None = None,
        revoked: RevocationList | None = None,
    ) -> None:
        self.algorithm = algorithm
        self._key = key
        self.issuer = issuer
        self.audience = audience
        self.leeway_seconds = leeway_seconds
        self.max_lifetime_minutes = max_lifetime_minutes
        self.revoked = revoked

    @classmethod
    def from_settings(cls, settings: CrkgSettings) -> TokenVerifier:
        key: bytes | RSAPublicKey = (
            _rsa_public_key(settings)
            if settings.auth_jwt_algorithm == "RS256"
            else hmac_secret(settings)
        )
        revoked = settings.auth_revoked_tokens_file
        return cls(
            algorithm=settings.auth_jwt_algorithm,
            key=key,
            issuer=settings.auth_jwt_issuer,
            audience=settings.auth_jwt_audience,
            max_lifetime_minutes=settings.auth_max_token_ttl_minutes,
            revoked=None if revoked is None else RevocationList(revoked),
        )

    def verify(self, token: str) -> Principal:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.PyJWTError as error:
            raise AuthenticationError(_public_reason(error)) from None
        except (OverflowError, ValueError, OSError):  # a time no clock can hold
            raise AuthenticationError("malformed claims (a time that is not a date)") from None
        principal = _principal_from_claims(claims)
        self._check_lifetime(claims)
        if self.revoked is not None and self.revoked.is_revoked(principal.token_id):
            raise AuthenticationError(
                "token revoked", hint="ask your identity provider for a new token"
            )
        return principal

    def _check_lifetime(self, claims: Mapping[str, Any]) -> None:
        if self.max_lifetime_minutes is None:
            return
        lifetime = _seconds(claims["exp"]) - _seconds(claims["iat"])
        if lifetime > self.max_lifetime_minutes * 60 + self.leeway_seconds:
            raise AuthenticationError(
                f"token lifetime of {lifetime / 60:.0f} min is above the maximum of "
                f"{self.max_lifetime_minutes} min (CRKG_AUTH_MAX_TOKEN_TTL_MINUTES)",
                hint="tokens must expire within that time of being issued",
            )

    def principal_from_authorization_header(self, value: str | None) -> Principal:
        """The caller behind an ``Authorization: Bearer <jwt>`` header value."""
        if value is None or not value.strip():
            raise AuthenticationError(
                "missing bearer token",
                hint="send 'Authorization: Bearer <token>'; for development, "
                "`crkg token --role <role>` prints one",
            )
        match = _BEARER.match(value.strip())
        if match is None:
            raise AuthenticationError("expected 'Authorization: Bearer <token>'")
        return self.verify(match["token"])


# What a client is told of a rejected token. Most specific first: several of these subclass
# DecodeError or each other.
_PUBLIC_REASONS: tuple[tuple[type[jwt.PyJWTError], str], ...] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.InvalidAlgorithmError, "signing algorithm not accepted"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
)


def _public_reason(error: jwt.PyJWTError) -> str:
    for kind, reason in _PUBLIC_REASONS:
        if isinstance(error, kind):
            return reason
    if isinstance(error, jwt.MissingRequiredClaimError):
        return f"missing claim '{error.claim}'"
    if isinstance(error, jwt.InvalidIssuedAtError | InvalidSubjectError | InvalidJTIError):
        return "malformed claims"
    return "malformed token"


def _principal_from_claims(claims: Mapping[str, Any]) -> Principal:
    raw_role = claims["role"]
    try:
        role = Role(raw_role)
    except ValueError:
        shown = str(raw_role)[:_LONGEST_ECHOED_ROLE]
        raise AuthenticationError(f"unknown role {shown!r}") from None
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise AuthenticationError("malformed claims")
    token_id = claims.get("jti")
    return Principal(
        subject=subject,
        role=role,
        rm_id=subject if role is Role.RM else None,
        token_id=token_id if isinstance(token_id, str) else None,
        expires_at=datetime.fromtimestamp(_seconds(claims["exp"]), tz=UTC),
    )


def _seconds(value: Any) -> int:
    """A NumericDate claim as whole seconds, or "malformed claims" if it is no date."""
    try:
        seconds = int(value)
        datetime.fromtimestamp(seconds, tz=UTC)  # within what a clock can hold
    except (OverflowError, ValueError, OSError, TypeError):
        raise AuthenticationError("malformed claims (a time that is not a date)") from None
    return seconds


class RevocationList:
    """Revoked token ids (``jti``), one per line of a file (``#`` starts a comment).

    The file is looked at (its modification time) at most once a second and re-read when it
    changed, so revoking a token is writing one line: no restart. A missing file revokes
    nothing (and is logged once); a token without a ``jti`` cannot be revoked, only expire.
    """

    CHECK_EVERY_SECONDS = 1.0

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._ids: frozenset[str] = frozenset()
        self._stamp: float | None = None
        self._checked = -self.CHECK_EVERY_SECONDS
        self._warned = False

    def is_revoked(self, token_id: str | None) -> bool:
        self._refresh()
        return token_id is not None and token_id in self._ids

    def _refresh(self) -> None:
        now = time.monotonic()
        if now - self._checked < self.CHECK_EVERY_SECONDS:
            return
        with self._lock:
            self._checked = now
            try:
                stamp = self.path.stat().st_mtime
            except OSError:
                if not self._warned:
                    logger.warning("revoked-tokens file %s not found: none revoked", self.path)
                    self._warned = True
                self._ids, self._stamp = frozenset(), None
                return
            if stamp == self._stamp:
                return
            lines = self.path.read_text(encoding="utf-8").splitlines()
            self._ids = frozenset(
                line.split("#", 1)[0].strip() for line in lines if line.split("#", 1)[0].strip()
            )
            self._stamp = stamp
            logger.info("revoked-tokens file %s: %d token ids", self.path, len(self._ids))


class ManagerCheck:
    """Whether the rm_id of an ``rm`` token names a RelationshipManager, asked once per
    token for ``ttl_seconds`` (both answers kept: a token for no RM is refused on every
    request without a database round trip each time).

    ``missing`` takes rm_ids and returns those that name no RelationshipManager (the API
    gives it ``ViewRepository.missing``); the cache holds at most ``max_entries`` tokens.
    """

    def __init__(
        self,
        missing: Callable[[list[str]], Awaitable[list[str]]],
        *,
        ttl_seconds: float = 30.0,
        max_entries: int = 10_000,
    ) -> None:
        self.missing = missing
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._known: OrderedDict[tuple[str | None, str], tuple[float, bool]] = OrderedDict()

    async def exists(self, principal: Principal) -> bool:
        """True for every principal but an ``rm`` whose rm_id names no RM."""
        if principal.rm_id is None:
            return True
        key = (principal.token_id, principal.rm_id)
        now = time.monotonic()
        found = self._known.get(key)
        if found is not None and now - found[0] < self.ttl_seconds:
            return found[1]
        exists = not await self.missing([principal.rm_id])
        self._known[key] = (now, exists)
        self._known.move_to_end(key)
        while len(self._known) > self.max_entries:
            self._known.popitem(last=False)
        return exists


# --- keys -----------------------------------------------------------------------------
def hmac_secret(settings: CrkgSettings) -> bytes:
    """The HS256 key: configured, or outside production one generated once under data_dir."""
    if settings.auth_jwt_secret is not None:
        secret = settings.auth_jwt_secret.get_secret_value().encode("utf-8")
        if len(secret) < MIN_HMAC_SECRET_BYTES:
            raise AuthConfigurationError(
                f"CRKG_AUTH_JWT_SECRET is {len(secret)} bytes; HS256 needs at least "
                f"{MIN_HMAC_SECRET_BYTES}",
                hint="generate one with `python -c 'import secrets; print(secrets.token_hex(32))'`",
            )
        return secret
    if settings.environment is Environment.PRODUCTION:
        raise AuthConfigurationError(
            "CRKG_AUTH_JWT_SECRET is not set",
            hint="production with HS256 needs the secret shared with the identity provider "
            "(32+ random bytes, from your secret store), or RS256 with "
            "CRKG_AUTH_JWT_PUBLIC_KEY",
        )
    return _development_secret(settings.resolved_data_dir / DEVELOPMENT_SECRET_FILE)


def _development_secret(path: Path) -> bytes:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass  # made by an earlier run, or by a process racing this one
    else:
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
    secret = path.read_text(encoding="utf-8").strip().encode("utf-8")
    if len(secret) < MIN_HMAC_SECRET_BYTES:
        raise AuthConfigurationError(
            f"the development JWT secret in {path} is damaged (too short)",
            hint="delete the file; a new one is generated (tokens minted before stop working)",
        )
    return secret


def _rsa_public_key(settings: CrkgSettings) -> RSAPublicKey:
    pem = settings.auth_jwt_public_key
    if not pem:
        raise AuthConfigurationError(
            "CRKG_AUTH_JWT_ALGORITHM is RS256 but CRKG_AUTH_JWT_PUBLIC_KEY is not set",
            hint="set it to the identity provider's PEM public key",
        )
    try:
        key = load_pem_public_key(pem.encode("utf-8"))
    except ValueError as error:
        raise AuthConfigurationError(
            f"CRKG_AUTH_JWT_PUBLIC_KEY is not a PEM public key: {error}"
        ) from None
    if not isinstance(key, RSAPublicKey):
        raise AuthConfigurationError("CRKG_AUTH_JWT_PUBLIC_KEY is not an RSA key (RS256)")
    if key.key_size < MIN_RSA_KEY_BITS:
        raise AuthConfigurationError(
            f"CRKG_AUTH_JWT_PUBLIC_KEY has {key.key_size} bits; RS256 needs {MIN_RSA_KEY_BITS}+"
        )
    return key


def mint_token(
    settings: CrkgSettings,
    *,
    role: Role,
    subject: str,
    ttl_minutes: int | None = None,
) -> str:
    """A development token (HS256, signed with the key :class:`TokenVerifier` checks).

    For role ``rm`` the subject is the RM's ``rm_id``. Refused in production and with
    RS256: there tokens come from the identity provider, which holds the private key.
    """
    if settings.auth_jwt_algorithm != "HS256":
        raise AuthConfigurationError(
            f"cannot mint tokens with {settings.auth_jwt_algorithm}: tokens must come from "
            "the identity provider, which holds the private key",
            hint="for a development token set CRKG_AUTH_JWT_ALGORITHM=HS256",
        )
    if settings.environment is Environment.PRODUCTION:
        raise AuthConfigurationError(
            "development tokens are not minted in production",
            hint="tokens come from the identity provider",
        )
    if not subject:
        raise AuthConfigurationError("a token needs a subject (for role rm: the RM's rm_id)")
    if ttl_minutes is not None and ttl_minutes <= 0:
        raise AuthConfigurationError(f"a token's lifetime must be positive, not {ttl_minutes} min")
    if ttl_minutes is not None and ttl_minutes > settings.auth_max_token_ttl_minutes:
        raise AuthConfigurationError(
            f"a lifetime of {ttl_minutes} min is above the maximum of "
            f"{settings.auth_max_token_ttl_minutes} min (CRKG_AUTH_MAX_TOKEN_TTL_MINUTES): "
            "the API would refuse the token",
            hint="mint a shorter-lived token, or raise CRKG_AUTH_MAX_TOKEN_TTL_MINUTES",
        )
    issued = datetime.now(UTC).replace(microsecond=0)
    minutes = settings.auth_token_ttl_minutes if ttl_minutes is None else ttl_minutes
    lifetime = timedelta(minutes=minutes)
    claims = {
        "jti": uuid.uuid4().hex,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "iss": settings.auth_jwt_issuer,
        "aud": settings.auth_jwt_audience,
        "sub": subject,
        "role": str(Role(role)),
    }
    return jwt.encode(claims, hmac_secret(settings), algorithm="HS256")
