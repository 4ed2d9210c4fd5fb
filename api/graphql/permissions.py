"""Permission checks declared with the field: ``extensions=requires(Permission.READ_RISK)``.

The check runs before the resolver. A caller whose role lacks the permission gets the field
as null with a FORBIDDEN error on its own path; the parent and its other fields stand (every
guarded field is nullable). A request without a principal is UNAUTHENTICATED. Checks that
depend on an argument (an influencer list by exposure needs ``read_risk``) stay in the
resolver, next to the argument.
"""

from __future__ import annotations

from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.permission import BasePermission, PermissionExtension

from api.graphql.context import context_value
from api.security.auth import Permission


class Allowed(BasePermission):
    """The caller's role holds ``permission`` (else :class:`~api.security.auth.ForbiddenError`)."""

    def __init__(self, permission: Permission) -> None:
        self.permission = permission

    def has_permission(self, source: Any, info: strawberry.Info, **kwargs: Any) -> bool:
        context_value(info).principal.require(self.permission)  # raises ForbiddenError
        return True


def requires(permission: Permission) -> list[FieldExtension]:
    """The field extensions that check ``permission`` before the resolver runs (one per
    field: an extension is bound to the field it is applied to)."""
    # no schema directive: permissions are the server's business, not the schema's
    return [PermissionExtension(permissions=[Allowed(permission)], use_directives=False)]


def guarded_field(permission: Permission, description: str | None = None) -> Any:
    """``@strawberry.field`` with ``permission`` checked before the resolver runs: how every
    guarded field is declared, so the check stands beside the field's description."""
    return strawberry.field(description=description, extensions=requires(permission))


def guarded_mutation(permission: Permission, description: str) -> Any:
    """``@strawberry.mutation`` with ``permission`` checked before the resolver runs."""
    return strawberry.mutation(description=description, extensions=requires(permission))
