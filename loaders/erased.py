"""Rows that name a customer erased by ``crkg erase`` (PIPL art. 47): refused as
``ERASED_SUBJECT``, and reported without the row, which is the person's."""

from __future__ import annotations

from typing import Any

from graph.repositories.erasure import subject_pseudonym
from loaders.contract import FileSpec
from loaders.rejects import Reject, RejectReason


def erased_reject(
    erased: dict[str, str], spec: FileSpec, line: int, values: dict[str, Any]
) -> Reject | None:
    """The reject of a row (``values`` at ``line``) naming a customer whose pseudonym is in
    ``erased`` (pseudonym -> erasure id); None for any other row."""
    if not erased:
        return None
    columns = [c for c, referenced in dict(spec.refs).items() if referenced == "customers"]
    if spec.name == "customers":
        columns.insert(0, spec.key[0])
    for column in columns:
        value = values.get(column)
        erasure = None if value is None else erased.get(subject_pseudonym(str(value)))
        if erasure is not None:
            message = (
                f"{column} names a customer erased on request ({erasure}): the row is "
                "neither loaded nor copied here"
            )
            return Reject(spec.name, line, column, RejectReason.ERASED_SUBJECT, message, {})
    return None
