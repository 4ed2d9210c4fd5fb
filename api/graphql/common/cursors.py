"""Opaque page cursors: ``base64("<kind>:<value>")``, refused when not this API's or not of the
kind the field pages."""

from __future__ import annotations

import base64

from api.graphql.errors import ClientError


def encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ClientError(f"after: {cursor!r} is not a cursor this API issued") from None
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise ClientError(f"after: {cursor!r} is not a {kind} cursor")
    return value
