"""Opaque page cursors: ``base64("<kind>:<value>")``, refused when not this API's or not of the
kind the field pages."""

from __future__ import annotations

import base64
import unicodedata

from api.graphql.errors import ClientError
from api.security.limits import MAX_ID_LENGTH
from api.security.requests import shown


def encode_cursor(kind: str, value: str | int) -> str:
    return base64.urlsafe_b64encode(f"{kind}:{value}".encode()).decode()


def decode_cursor(kind: str, cursor: str | None) -> str | None:
    """The value inside a cursor of ``kind``; a cursor the API cannot have issued (not
    base64 of ``kind:value``, a value longer than an id or holding control characters, which
    no id holds) is a ``BAD_REQUEST``."""
    if cursor is None:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (ValueError, UnicodeDecodeError):
        raise ClientError(f"after: {shown(cursor)!r} is not a cursor this API issued") from None
    prefix, _, value = text.partition(":")
    if prefix != kind or not value:
        raise ClientError(f"after: {shown(cursor)!r} is not a {kind} cursor")
    if len(value) > MAX_ID_LENGTH or any(unicodedata.category(c)[0] == "C" for c in value):
        raise ClientError(f"after: {shown(cursor)!r} is not a {kind} cursor this API issued")
    return value
