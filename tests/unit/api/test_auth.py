"""Bearer tokens and the permission table, without a server: tokens are made here."""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from api.security.auth import (
    ROLE_PERMISSIONS,
    AuthConfigurationError,
    AuthenticationError,
    ForbiddenError,
    Permission,
    Principal,
    Role,
)
from api.security.tokens import DEVELOPMENT_SECRET_FILE, TokenVerifier, hmac_secret, mint_token
from graph.errors import CrkgError
from graph.settings import CrkgSettings, Environment
from tests.support.settings import settings_in

SECRET = "s" * 40
ISSUER = "crkg-test"
AUDIENCE = "crkg-api-test"


def settings_for(tmp_path: Path, **overrides: Any) -> CrkgSettings:
    return settings_in(
        tmp_path, **({"auth_jwt_issuer": ISSUER, "auth_jwt_audience": AUDIENCE} | overrides)
    )


@pytest.fixture
def settings(tmp_path: Path) -> CrkgSettings:
    return settings_for(tmp_path, auth_jwt_secret=SECRET)


@pytest.fixture
def verifier(settings: CrkgSettings) -> TokenVerifier:
    return TokenVerifier.from_settings(settings)


@pytest.fixture(scope="module")
def rsa_private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_pem(private_key: rsa.RSAPrivateKey) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def claims(**overrides: Any) -> dict[str, Any]:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "sub": "RM0001",
        "role": "rm",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + timedelta(minutes=5),
        "jti": "token-1",
    }
    # a timedelta is relative to now *at call time*: parameters are built at collection,
    # minutes before a long test run reaches them
    values.update({k: now + v if isinstance(v, timedelta) else v for k, v in overrides.items()})
    return {name: value for name, value in values.items() if value is not None}


def segment(values: dict[str, Any]) -> str:
    """One base64url JSON segment of a hand-built token (datetimes as NumericDate)."""
    numeric = {k: int(v.timestamp()) if isinstance(v, datetime) else v for k, v in values.items()}
    return jwt.utils.base64url_encode(json.dumps(numeric).encode()).decode()


def hs256(**overrides: Any) -> str:
    return jwt.encode(claims(**overrides), SECRET, algorithm="HS256")


def rejection(verify: Callable[[], object]) -> str:
    with pytest.raises(AuthenticationError) as caught:
        verify()
    return caught.value.reason


# --- verifying ----------------------------------------------------------------------------
def test_a_valid_token_gives_its_principal(verifier: TokenVerifier) -> None:
    principal = verifier.verify(hs256())
    assert principal.subject == "RM0001"
    assert principal.role is Role.RM
    assert principal.rm_id == "RM0001"
    assert principal.token_id == "token-1"
    assert principal.expires_at is not None
    assert principal.expires_at > datetime.now(UTC)


def test_only_the_rm_role_carries_an_rm_id(verifier: TokenVerifier) -> None:
    assert verifier.verify(hs256(role="risk", sub="analyst-7")).rm_id is None


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": timedelta(minutes=-1)}, "token expired"),
        ({"aud": "someone-else"}, "wrong audience"),
        ({"aud": [AUDIENCE, "someone-else"]}, "wrong audience"),
        ({"iss": "someone-else"}, "wrong issuer"),
        ({"nbf": timedelta(minutes=5)}, "token not yet valid"),
        ({"iat": timedelta(minutes=5)}, "token not yet valid"),
        ({"exp": None}, "missing claim 'exp'"),
        ({"iat": None}, "missing claim 'iat'"),
        ({"aud": None}, "missing claim 'aud'"),
        ({"iss": None}, "missing claim 'iss'"),
        ({"sub": None}, "missing claim 'sub'"),
        ({"role": None}, "missing claim 'role'"),
        ({"role": "superuser"}, "unknown role 'superuser'"),
        ({"sub": 42}, "malformed claims"),
    ],
)
def test_bad_claims_are_refused_with_a_public_reason(
    verifier: TokenVerifier, overrides: dict[str, Any], reason: str
) -> None:
    assert rejection(lambda: verifier.verify(hs256(**overrides))) == reason


def test_a_few_seconds_of_clock_skew_are_tolerated(verifier: TokenVerifier) -> None:
    token = hs256(exp=datetime.now(UTC) - timedelta(seconds=3))
    assert verifier.verify(token).role is Role.RM


def test_a_token_signed_with_another_secret_has_a_bad_signature(verifier: TokenVerifier) -> None:
    forged = jwt.encode(claims(), "x" * 40, algorithm="HS256")
    assert rejection(lambda: verifier.verify(forged)) == "bad signature"


def test_a_tampered_payload_has_a_bad_signature(verifier: TokenVerifier) -> None:
    header, _, signature = hs256().split(".")
    admin_payload = segment(claims(role="admin"))
    assert rejection(lambda: verifier.verify(f"{header}.{admin_payload}.{signature}")) == (
        "bad signature"
    )


def test_alg_none_is_refused(verifier: TokenVerifier) -> None:
    unsigned = jwt.encode(claims(role="admin"), "", algorithm="none")
    assert rejection(lambda: verifier.verify(unsigned)) == "signing algorithm not accepted"


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "....", "eyJhbGciOiJIUzI1NiJ9.e30"])
def test_garbage_is_a_malformed_token(verifier: TokenVerifier, garbage: str) -> None:
    assert rejection(lambda: verifier.verify(garbage)) == "malformed token"


def test_the_token_is_never_echoed(verifier: TokenVerifier) -> None:
    token = hs256(aud="someone-else")
    with pytest.raises(AuthenticationError) as caught:
        verifier.verify(token)
    assert token not in str(caught.value)
    assert caught.value.__cause__ is None
    assert caught.value.__suppress_context__


def test_rs256_accepts_tokens_of_the_identity_provider(
    tmp_path: Path, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    settings = settings_for(
        tmp_path, auth_jwt_algorithm="RS256", auth_jwt_public_key=public_pem(rsa_private_key)
    )
    token = jwt.encode(claims(role="marketer", sub="mkt-1"), rsa_private_key, algorithm="RS256")
    assert TokenVerifier.from_settings(settings).verify(token).role is Role.MARKETER


def test_rs256_refuses_an_hmac_signed_with_the_public_key(
    tmp_path: Path, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    # The classic confusion: the public key is public, so an HS256 token "signed" with it
    # must not verify against a verifier that holds it.
    pem = public_pem(rsa_private_key)
    verifier = TokenVerifier.from_settings(
        settings_for(tmp_path, auth_jwt_algorithm="RS256", auth_jwt_public_key=pem)
    )
    signing_input = f"{segment({'alg': 'HS256', 'typ': 'JWT'})}.{segment(claims(role='admin'))}"
    mac = hmac.new(pem.encode(), signing_input.encode(), hashlib.sha256).digest()
    forged = f"{signing_input}.{jwt.utils.base64url_encode(mac).decode()}"
    assert rejection(lambda: verifier.verify(forged)) == "signing algorithm not accepted"


def test_hs256_refuses_an_rs256_token(
    verifier: TokenVerifier, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    token = jwt.encode(claims(role="admin"), rsa_private_key, algorithm="RS256")
    assert rejection(lambda: verifier.verify(token)) == "signing algorithm not accepted"


# --- the Authorization header ---------------------------------------------------------
@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_bearer_scheme_is_case_insensitive(verifier: TokenVerifier, scheme: str) -> None:
    principal = verifier.principal_from_authorization_header(f"{scheme} {hs256()}")
    assert principal.subject == "RM0001"


def test_surrounding_whitespace_is_ignored(verifier: TokenVerifier) -> None:
    assert verifier.principal_from_authorization_header(f"  Bearer   {hs256()}  ").role is Role.RM


@pytest.mark.parametrize("value", [None, "", "   "])
def test_no_header_is_a_missing_bearer_token(verifier: TokenVerifier, value: str | None) -> None:
    with pytest.raises(AuthenticationError) as caught:
        verifier.principal_from_authorization_header(value)
    assert caught.value.reason == "missing bearer token"
    assert caught.value.hint is not None
    assert "crkg token" in caught.value.hint


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", "Token abc"])
def test_other_schemes_are_refused(verifier: TokenVerifier, value: str) -> None:
    assert rejection(lambda: verifier.principal_from_authorization_header(value)) == (
        "expected 'Authorization: Bearer <token>'"
    )


# --- keys and minting ---------------------------------------------------------------------
def test_minted_tokens_verify_and_carry_every_claim(settings: CrkgSettings) -> None:
    token = mint_token(settings, role=Role.ADMIN, subject="ops", ttl_minutes=5)
    raw = jwt.decode(token, options={"verify_signature": False})
    assert set(raw) >= {"jti", "iat", "exp", "iss", "aud", "sub", "role"}
    assert raw["exp"] - raw["iat"] == 300
    principal = TokenVerifier.from_settings(settings).verify(token)
    assert (principal.subject, principal.role, principal.token_id) == (
        "ops",
        Role.ADMIN,
        raw["jti"],
    )


def test_minted_tokens_default_to_the_configured_lifetime(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, auth_token_ttl_minutes=60)
    raw = jwt.decode(
        mint_token(settings, role=Role.RM, subject="RM1"), options={"verify_signature": False}
    )
    assert raw["exp"] - raw["iat"] == 3600


def test_outside_production_a_generated_secret_is_kept_and_reused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, environment=Environment.DEVELOPMENT)
    token = mint_token(settings, role=Role.RISK, subject="analyst")
    key_file = tmp_path / DEVELOPMENT_SECRET_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    first = key_file.read_text()
    # A new verifier (a restarted server) reads the same file.
    assert TokenVerifier.from_settings(settings).verify(token).role is Role.RISK
    assert key_file.read_text() == first
    assert len(hmac_secret(settings)) >= 32


def test_production_with_hs256_needs_a_secret(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, environment=Environment.PRODUCTION)
    with pytest.raises(AuthConfigurationError, match="CRKG_AUTH_JWT_SECRET is not set"):
        TokenVerifier.from_settings(settings)
    assert not (tmp_path / DEVELOPMENT_SECRET_FILE).exists()


def test_a_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigurationError, match="at least 32"):
        TokenVerifier.from_settings(settings_for(tmp_path, auth_jwt_secret="short"))


def test_rs256_needs_a_public_key(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigurationError, match="CRKG_AUTH_JWT_PUBLIC_KEY is not set"):
        TokenVerifier.from_settings(settings_for(tmp_path, auth_jwt_algorithm="RS256"))


def test_rs256_refuses_a_key_that_is_not_pem(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, auth_jwt_algorithm="RS256", auth_jwt_public_key="nope")
    with pytest.raises(AuthConfigurationError, match="not a PEM public key"):
        TokenVerifier.from_settings(settings)


def test_tokens_are_not_minted_with_rs256(
    tmp_path: Path, rsa_private_key: rsa.RSAPrivateKey
) -> None:
    settings = settings_for(
        tmp_path, auth_jwt_algorithm="RS256", auth_jwt_public_key=public_pem(rsa_private_key)
    )
    with pytest.raises(AuthConfigurationError, match="identity provider"):
        mint_token(settings, role=Role.ADMIN, subject="ops")


def test_tokens_are_not_minted_in_production(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, environment=Environment.PRODUCTION, auth_jwt_secret=SECRET)
    with pytest.raises(AuthConfigurationError, match="production"):
        mint_token(settings, role=Role.ADMIN, subject="ops")


# --- permissions ----------------------------------------------------------------------
EXPECTED_TABLE = {
    Permission.READ_CUSTOMERS: {Role.RM, Role.MARKETER, Role.RISK, Role.ADMIN},
    Permission.READ_NETWORK: {Role.RM, Role.MARKETER, Role.RISK, Role.ADMIN},
    Permission.READ_TARGETS: {Role.RM, Role.MARKETER, Role.ADMIN},
    Permission.READ_PII_OWN_BOOK: {Role.RM, Role.ADMIN},
    Permission.READ_PII_ALL: {Role.ADMIN},
    Permission.READ_FINANCIALS: {Role.RISK, Role.ADMIN},
    Permission.READ_IDENTIFIERS: {Role.RISK, Role.ADMIN},
    Permission.READ_RISK: {Role.RISK, Role.ADMIN},
    Permission.READ_RUNS: {Role.RISK, Role.ADMIN},
    Permission.SEARCH_ANY_BOOK: {Role.MARKETER, Role.ADMIN},
    Permission.RUN_ALGORITHMS: {Role.ADMIN},
    Permission.WRITE_DATA: {Role.ADMIN},
    Permission.READ_LISTS: {Role.RM, Role.MARKETER, Role.RISK, Role.ADMIN},
    Permission.MANAGE_CAMPAIGNS: {Role.MARKETER, Role.ADMIN},
    Permission.EXPORT_CONTACTS: {Role.CHANNEL, Role.ADMIN},
    Permission.READ_EFFECTS: {Role.MARKETER, Role.RISK, Role.ADMIN},
}


def test_the_permission_table_is_the_access_model() -> None:
    assert set(EXPECTED_TABLE) == set(Permission), "every permission is decided here"
    assert set(ROLE_PERMISSIONS) == set(Role)
    for permission, roles in EXPECTED_TABLE.items():
        assert {role for role in Role if permission in ROLE_PERMISSIONS[role]} == roles, permission


def test_require_names_the_role_and_the_missing_permission() -> None:
    marketer = Principal(subject="mkt-1", role=Role.MARKETER)
    marketer.require(Permission.READ_TARGETS)
    with pytest.raises(ForbiddenError) as caught:
        marketer.require(Permission.RUN_ALGORITHMS)
    assert isinstance(caught.value, CrkgError)
    assert "marketer" in str(caught.value)
    assert "run_algorithms" in str(caught.value)


def test_an_rm_unmasks_only_their_own_book() -> None:
    rm = Principal(subject="RM1", role=Role.RM, rm_id="RM1")
    assert rm.may_unmask_pii(["RM2", "RM1"])
    assert not rm.may_unmask_pii(["RM2"])
    assert not rm.may_unmask_pii([])


def test_an_rm_reads_exact_figures_of_their_own_book_only() -> None:
    rm = Principal(subject="RM1", role=Role.RM, rm_id="RM1")
    assert rm.may_read_financials(["RM1"])
    assert not rm.may_read_financials(["RM2"])
    assert not Principal(subject="m", role=Role.MARKETER).may_read_financials(["m"])
    assert Principal(subject="r", role=Role.RISK).may_read_financials([])


@pytest.mark.parametrize(
    ("role", "unmasks"), [(Role.ADMIN, True), (Role.RISK, False), (Role.MARKETER, False)]
)
def test_other_roles_unmask_by_permission_alone(role: Role, unmasks: bool) -> None:
    assert Principal(subject="someone", role=role).may_unmask_pii(["someone"]) is unmasks


# --- times, lifetimes, revocation (the attacker review's tokens) ---------------------------
@pytest.mark.parametrize("exp", [1e20, 10**30, -(10**30)])
def test_a_time_no_clock_can_hold_is_malformed_not_a_crash(
    verifier: TokenVerifier, exp: float
) -> None:
    token = jwt.encode(claims(exp=exp), SECRET, algorithm="HS256")
    reason = rejection(lambda: verifier.verify(token))
    assert reason in ("malformed claims (a time that is not a date)", "token expired")


def test_a_token_living_longer_than_the_maximum_is_refused(tmp_path: Path) -> None:
    settings = settings_for(
        tmp_path, auth_jwt_secret=SECRET, auth_max_token_ttl_minutes=60, auth_token_ttl_minutes=60
    )
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.verify(hs256(exp=timedelta(minutes=59))).subject == "RM0001"
    hundred_years = hs256(exp=timedelta(days=36_500))
    reason = rejection(lambda: verifier.verify(hundred_years))
    assert "above the maximum of 60 min" in reason
    assert "CRKG_AUTH_MAX_TOKEN_TTL_MINUTES" in reason


def test_the_default_maximum_lifetime_is_a_day(verifier: TokenVerifier) -> None:
    assert verifier.verify(hs256(exp=timedelta(hours=23))).role is Role.RM
    assert "maximum of 1440 min" in rejection(
        lambda: verifier.verify(hs256(exp=timedelta(hours=25)))
    )


def test_crkg_token_refuses_to_mint_beyond_the_maximum(settings: CrkgSettings) -> None:
    with pytest.raises(AuthConfigurationError, match="above the maximum of 1440 min"):
        mint_token(settings, role=Role.ADMIN, subject="ops", ttl_minutes=1441)
    assert mint_token(settings, role=Role.ADMIN, subject="ops", ttl_minutes=1440)


def test_the_minting_default_cannot_exceed_the_maximum(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="CRKG_AUTH_TOKEN_TTL_MINUTES"):
        settings_for(tmp_path, auth_token_ttl_minutes=600, auth_max_token_ttl_minutes=60)


def test_a_revoked_token_is_refused_once_its_id_is_listed(tmp_path: Path) -> None:
    revoked = tmp_path / "revoked.txt"
    settings = settings_for(tmp_path, auth_jwt_secret=SECRET, auth_revoked_tokens_file=revoked)
    verifier = TokenVerifier.from_settings(settings)
    token = hs256(jti="stolen-1")
    assert verifier.verify(token).token_id == "stolen-1"  # no file yet: nothing revoked
    revoked.write_text("# revoked after the laptop was lost\nstolen-1  # RM0001\nother\n")
    assert verifier.revoked is not None
    verifier.revoked._checked -= 10  # as if a second had passed: the file is looked at again
    assert rejection(lambda: verifier.verify(token)) == "token revoked"
    assert verifier.verify(hs256(jti="fresh-2")).token_id == "fresh-2"


async def test_an_rm_token_is_checked_against_the_rms_once_per_token() -> None:
    from api.security.tokens import ManagerCheck

    asked: list[list[str]] = []
    known = {"RM0001"}

    async def missing(rm_ids: list[str]) -> list[str]:
        asked.append(rm_ids)
        return [r for r in rm_ids if r not in known]

    check = ManagerCheck(missing, ttl_seconds=60)
    real = Principal(subject="RM0001", role=Role.RM, rm_id="RM0001", token_id="t1")
    ghost = Principal(subject="rm0001", role=Role.RM, rm_id="rm0001", token_id="t2")
    marketer = Principal(subject="m", role=Role.MARKETER, token_id="t3")
    assert await check.exists(real)
    assert not await check.exists(ghost)
    assert await check.exists(marketer)
    for _ in range(5):
        assert await check.exists(real)
        assert not await check.exists(ghost)
    assert asked == [["RM0001"], ["rm0001"]]  # once per token, not once per request
