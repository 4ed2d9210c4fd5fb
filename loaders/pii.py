"""Keyed hashes of identifier values: phones, devices, addresses and e-mails are never stored.

The key (``CRKG_PII_HASH_KEY``) makes the hashes useless to anyone who reads the database
without it: an unkeyed hash of an 11-digit phone number is reversed by brute force in minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from pathlib import Path

from graph.errors import CrkgError
from graph.settings import CrkgSettings, Environment

_NOT_DIGITS = re.compile(r"[^0-9+]")
_SPACES = re.compile(r"\s+")


def normalise(kind: str, value: str) -> str:
    """The same identifier written two ways must hash the same (138 0013 8000 = 13800138000)."""
    if kind == "PHONE":
        digits = _NOT_DIGITS.sub("", value)
        return digits[3:] if digits.startswith("+86") else digits
    if kind == "EMAIL":
        return value.strip().lower()
    return _SPACES.sub(" ", value.strip()).upper() if kind == "ADDRESS" else value.strip()


class IdentifierHasher:
    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise CrkgError("the PII hash key must be at least 16 bytes")
        self._key = key

    def key_for(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, normalise(kind, value).encode("utf-8"), hashlib.sha256)
        return f"{kind}:{digest.hexdigest()}"


def hasher_from_settings(settings: CrkgSettings) -> IdentifierHasher:
    """The configured key; outside production a generated one kept in the data directory."""
    if settings.pii_hash_key is not None:
        return IdentifierHasher(settings.pii_hash_key.get_secret_value().encode("utf-8"))
    if settings.environment is Environment.PRODUCTION:
        raise CrkgError(
            "CRKG_PII_HASH_KEY is not set",
            hint="production needs its own secret key (32+ random characters) for hashing "
            "identifier values; keep it in your secret store, it cannot be changed later",
        )
    return IdentifierHasher(_development_key(settings.resolved_data_dir / "pii-hash.key"))


def _development_key(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
