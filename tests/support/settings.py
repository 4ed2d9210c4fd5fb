"""Settings that unit tests of configuration build from their own fields alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from graph.settings import CrkgSettings, Environment

SOUND_PRODUCTION: Final[dict[str, Any]] = {
    "environment": Environment.PRODUCTION,
    "auth_jwt_secret": "j" * 48,
    "pii_hash_key": "p" * 48,
    "neo4j_uri": "bolt://db.bank.internal:7687",
    "neo4j_password": "a-strong-database-password",
}
"""A production configuration every start check passes (each test spoils one field)."""


def settings_in(data_dir: Path, **fields: Any) -> CrkgSettings:
    """Settings over ``data_dir`` with ``fields`` (environment: test unless given); no ``.env``
    file is read."""
    values: dict[str, Any] = {"environment": Environment.TEST, "data_dir": data_dir} | fields
    return CrkgSettings(_env_file=None, **values)
