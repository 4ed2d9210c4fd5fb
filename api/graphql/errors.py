"""Errors a client may see verbatim (``api.security.errors`` gives them ``extensions.code``)."""

from __future__ import annotations

from graph.errors import CrkgError


class ClientError(CrkgError):
    """A problem with the request itself; its message is safe to return."""
