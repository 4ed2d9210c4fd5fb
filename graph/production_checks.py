"""What a production start refuses: settings that would run, but unsafely.

Each check gives one line naming the setting and what to do, and a production start (``crkg
serve``, or any ASGI server building :func:`api.app.create_app`) lists every problem at once
rather than failing on the first: a deployment should be fixable in one round trip.

Development and test starts are never refused here; they generate their own keys.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

from pydantic import SecretStr

from graph.errors import CrkgError
from graph.settings import CrkgSettings, Environment

# RFC 7518 3.2: an HS256 key at least as long as the hash; the same floor for the PII key,
# which is an HMAC-SHA256 key too. One constant for the API's key check and this one.
MIN_HMAC_SECRET_BYTES = 32

# passwords that Neo4j ships with or that guides and compose files use
DEFAULT_NEO4J_PASSWORDS = frozenset(
    {"", "neo4j", "password", "neo4jpassword", "changeme", "changeit", "admin", "secret", "test"}
)

# the interpreter's debug switches: they log far more (asyncio debug logs slow callbacks with
# their arguments) and slow every request
DEBUG_ENVIRONMENT_VARIABLES = ("PYTHONDEVMODE", "PYTHONASYNCIODEBUG")


class ProductionConfigurationError(CrkgError):
    """A production start with settings that must not run in production; one line each."""

    exit_code = 2

    def __init__(self, problems: list[str]) -> None:
        lines = "\n".join(f"  - {problem}" for problem in problems)
        super().__init__(
            f"refusing to start in production: {len(problems)} setting(s) to fix\n{lines}",
            hint="fix each line above (secrets come from your secret store), or set "
            "CRKG_ENVIRONMENT=development for a local trial",
        )
        self.problems = problems


def production_problems(
    settings: CrkgSettings,
    *,
    environ: Mapping[str, str] | None = None,
    dev_mode: bool | None = None,
) -> list[str]:
    """Every reason the settings must not serve production; empty outside production.

    Parameters
    ----------
    settings
        The settings to check.
    environ, dev_mode
        The process environment and ``sys.flags.dev_mode``; given only by tests.

    Examples
    --------
    >>> from pydantic import SecretStr
    >>> production = CrkgSettings(environment=Environment.PRODUCTION, neo4j_uri="bolt://db:7687",
    ...                           neo4j_password=SecretStr("neo4j"))
    >>> for line in production_problems(production, environ={}, dev_mode=False):
    ...     print(line.split(":")[0])
    CRKG_AUTH_JWT_SECRET is not set
    CRKG_PII_HASH_KEY is not set
    CRKG_NEO4J_PASSWORD is a default password
    >>> production_problems(CrkgSettings(), environ={}, dev_mode=True)
    []
    """
    if settings.environment is not Environment.PRODUCTION:
        return []
    environ = os.environ if environ is None else environ
    dev_mode = sys.flags.dev_mode if dev_mode is None else dev_mode
    return [
        *_token_key_problems(settings),
        *_pii_key_problems(settings),
        *_database_problems(settings),
        *_debug_problems(settings, environ, dev_mode),
    ]


def _secret_length(secret: SecretStr) -> int:
    return len(secret.get_secret_value().encode("utf-8"))


def _token_key_problems(settings: CrkgSettings) -> list[str]:
    if settings.auth_jwt_algorithm == "RS256":
        if not settings.auth_jwt_public_key:
            return [
                "CRKG_AUTH_JWT_PUBLIC_KEY is not set: RS256 needs the identity provider's "
                "PEM public key"
            ]
        return []  # its form and size are checked when the verifier is built
    if settings.auth_jwt_secret is None:
        return [
            "CRKG_AUTH_JWT_SECRET is not set: HS256 in production needs the key shared with "
            "the identity provider (or CRKG_AUTH_JWT_ALGORITHM=RS256 with its public key)"
        ]
    length = _secret_length(settings.auth_jwt_secret)
    if length < MIN_HMAC_SECRET_BYTES:
        return [
            f"CRKG_AUTH_JWT_SECRET is too short: {length} bytes, HS256 needs at least "
            f"{MIN_HMAC_SECRET_BYTES} random bytes"
        ]
    return []


def _pii_key_problems(settings: CrkgSettings) -> list[str]:
    if settings.pii_hash_key is None:
        return [
            "CRKG_PII_HASH_KEY is not set: identifier values are hashed with it, and it can "
            "never change once data is loaded"
        ]
    problems = []
    length = _secret_length(settings.pii_hash_key)
    if length < MIN_HMAC_SECRET_BYTES:
        problems.append(
            f"CRKG_PII_HASH_KEY is too short: {length} bytes, at least "
            f"{MIN_HMAC_SECRET_BYTES} random bytes"
        )
    if (
        settings.auth_jwt_secret is not None
        and settings.auth_jwt_secret.get_secret_value() == settings.pii_hash_key.get_secret_value()
    ):
        problems.append(
            "CRKG_PII_HASH_KEY equals CRKG_AUTH_JWT_SECRET: whoever can sign tokens could "
            "then test identifier hashes; give each its own key"
        )
    return problems


def _database_problems(settings: CrkgSettings) -> list[str]:
    if settings.neo4j_password is None:
        return []  # the managed server's generated password, or refused by the settings
    if settings.neo4j_password.get_secret_value().strip().lower() in DEFAULT_NEO4J_PASSWORDS:
        return [
            "CRKG_NEO4J_PASSWORD is a default password: set the database's own strong "
            "password (and change it on the server)"
        ]
    return []


def _debug_problems(
    settings: CrkgSettings, environ: Mapping[str, str], dev_mode: bool
) -> list[str]:
    problems = [
        f"{name} is set: Python's debug mode must be off in production"
        for name in DEBUG_ENVIRONMENT_VARIABLES
        if environ.get(name, "").strip() not in ("", "0")
    ]
    if dev_mode and "PYTHONDEVMODE" not in environ:
        problems.append("Python runs with -X dev: its debug mode must be off in production")
    if settings.api_allow_remote_dev:
        problems.append(
            "CRKG_API_ALLOW_REMOTE_DEV is true: a development switch has no place in a "
            "production configuration (remove it)"
        )
    if settings.algorithm_write_pause_seconds:
        problems.append(
            "CRKG_ALGORITHM_WRITE_PAUSE_SECONDS is set: the crash tests' fault-injection "
            "hook slows every algorithm write-back (remove it)"
        )
    return problems


def check_production_settings(settings: CrkgSettings) -> None:
    """Raise :class:`ProductionConfigurationError` listing every problem, if there is any."""
    problems = production_problems(settings)
    if problems:
        raise ProductionConfigurationError(problems)
