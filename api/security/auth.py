"""Who is calling and what they may do: roles, permissions and the principal.

The access model (DESIGN.md, "Access model") as one table, :data:`ROLE_PERMISSIONS`:

=================  ==  ========  ====  =====  =======
permission         rm  marketer  risk  admin  channel
=================  ==  ========  ====  =====  =======
read_customers     x   x         x     x
read_network       x   x         x     x
read_targets       x   x               x
read_pii_own_book  x
read_pii_all                           x
read_financials                  x     x
read_identifiers                 x     x
read_risk                        x     x
read_runs                        x     x
search_any_book        x               x
run_algorithms                         x
write_data                             x
read_lists         x   x         x     x
manage_campaigns       x               x
export_contacts                        x      x
read_effects           x         x     x
=================  ==  ========  ====  =====  =======

Decisions the design leaves open:

* **Risk analysts do not read unmasked names and phones.** They see linkages, identifier
  kinds and identifier keys (keyed hashes, which is what the graph stores), which is enough
  to find a ring; who the people are is PII an investigation asks an admin to reveal, so the
  audit trail names the person who unmasked it. Only ``admin`` holds ``read_pii_all``.
* **An RM reads unmasked PII of their own book only** (``read_pii_own_book``); whether a
  customer is in the book is data, so :meth:`Principal.may_unmask_pii` takes the customer's
  managing RM ids.
* **Financial figures** (AUM, balances, risk rating) are exact for risk and admin
  (``read_financials``) and for an RM on their own book; everyone else sees the band an
  amount lies in and no rating, so an RM cannot read another RM's customers' wealth.
* **Run metadata** (``read_runs``: which algorithm ran when, with which parameters) is for
  the people who act on its results' freshness: risk and admin.
* ``read_network`` (connections, paths, communities, influencers) is separate from
  ``read_customers`` so it can be withdrawn from a role without touching profiles; today
  every role holds it, with names masked as for profiles.
* **Network value is a financial figure**: ``score_network_value`` blends the AUM
  percentile rank with the (public) PageRank percentile rank, so the AUM rank can be solved
  for; it is exact only where AUM is (:meth:`Principal.may_read_financials`), and ranking
  by it (``influencers(metric: NETWORK_VALUE)``) needs ``read_financials``.
* **Referral paths from another RM's book** (``search_any_book``) are for marketers and
  admins; an RM searches from their own book only. Which RM manages a customer is visible
  to every role (the RM of a customer is who to call).

* **Campaign lists (issue 12).** Marketers create campaigns, draw list versions, approve a
  version another person drew (maker-checker) and export it masked: ids, treatment codes and
  reasons, no personal data (``manage_campaigns``). Rows and suppressions are read with
  ``read_lists``; an RM reads the rows and suppressions of their own book only; the risk
  flags behind a ``RISK_FLAGGED`` suppression are shown to ``read_risk`` holders. Contact
  details (name, phone, e-mail) leave only through ``export_contacts``: the ``channel`` role
  (the call centre or messaging system, which reads nothing else) and admins, only for an
  approved version, and every such export leaves one audit event per customer.

Bearer tokens (minting, verification, revocation, the RM check) are in
:mod:`api.security.tokens`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType

from graph.errors import CrkgError


class Role(StrEnum):
    RM = "rm"
    MARKETER = "marketer"
    RISK = "risk"
    ADMIN = "admin"
    CHANNEL = "channel"  # the call centre / messaging system: contact exports only


class Permission(StrEnum):
    READ_CUSTOMERS = "read_customers"
    """Customer profiles; whether PII is masked is decided by the two ``READ_PII_*``."""
    READ_NETWORK = "read_network"
    """Connections, paths, communities and influence scores."""
    READ_TARGETS = "read_targets"
    """Referral targets and referral paths (only customers who consented to marketing)."""
    READ_PII_OWN_BOOK = "read_pii_own_book"
    """Unmasked PII of the customers the caller manages as their RM."""
    READ_PII_ALL = "read_pii_all"
    """Unmasked PII of every customer."""
    READ_FINANCIALS = "read_financials"
    """Exact AUM, balances and risk ratings of every customer (others see bands)."""
    READ_IDENTIFIERS = "read_identifiers"
    """Identifier nodes (kind and keyed hash) and who shares them."""
    READ_RISK = "read_risk"
    """Guarantee circles, risk rings, exposure, related-party groups."""
    READ_RUNS = "read_runs"
    """Algorithm runs and jobs: what ran, when, with which parameters."""
    SEARCH_ANY_BOOK = "search_any_book"
    """Referral paths from any RM's book (``referralPaths(fromRmId:)``); an RM without it
    searches from their own book only."""
    RUN_ALGORITHMS = "run_algorithms"
    WRITE_DATA = "write_data"
    """Upserting customers and ties."""
    READ_LISTS = "read_lists"
    """Campaigns, list versions, their rows and suppressions (an RM: their own book only)."""
    MANAGE_CAMPAIGNS = "manage_campaigns"
    """Creating campaigns, drawing and approving list versions, masked exports."""
    EXPORT_CONTACTS = "export_contacts"
    """Exports of an approved list version with contact details (audited)."""
    READ_EFFECTS = "read_effects"
    """The measured effect of a list version: aggregates over the whole list, not an RM's
    book, so marketers, risk and admin read it."""


_EVERY_ROLE = frozenset({Permission.READ_CUSTOMERS, Permission.READ_NETWORK})

ROLE_PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.RM: _EVERY_ROLE
        | {Permission.READ_TARGETS, Permission.READ_PII_OWN_BOOK, Permission.READ_LISTS},
        Role.MARKETER: _EVERY_ROLE
        | {
            Permission.READ_TARGETS,
            Permission.SEARCH_ANY_BOOK,
            Permission.READ_LISTS,
            Permission.MANAGE_CAMPAIGNS,
            Permission.READ_EFFECTS,
        },
        Role.RISK: _EVERY_ROLE
        | {
            Permission.READ_IDENTIFIERS,
            Permission.READ_RISK,
            Permission.READ_RUNS,
            Permission.READ_FINANCIALS,
            Permission.READ_LISTS,
            Permission.READ_EFFECTS,
        },
        Role.ADMIN: frozenset(Permission),
        Role.CHANNEL: frozenset({Permission.EXPORT_CONTACTS}),
    }
)


# --- errors ---------------------------------------------------------------------------
class AuthenticationError(CrkgError):
    """The request did not prove who it comes from; ``reason`` is safe to show the caller."""

    def __init__(self, reason: str, *, hint: str | None = None) -> None:
        super().__init__(f"not authenticated: {reason}", hint=hint)
        self.reason = reason


class ForbiddenError(CrkgError):
    """An authenticated caller asked for something their role does not allow."""

    def __init__(self, role: Role, permission: Permission) -> None:
        super().__init__(f"role '{role}' lacks the permission '{permission}'")
        self.role = role
        self.permission = permission


class AuthConfigurationError(CrkgError):
    """The token settings cannot work (missing or weak key, minting where it is not allowed)."""

    exit_code = 2


# --- the caller -----------------------------------------------------------------------
@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request."""

    subject: str
    role: Role
    rm_id: str | None = None
    """For role ``rm`` the subject is the RM's ``rm_id``; ``None`` for every other role."""
    token_id: str | None = None
    expires_at: datetime | None = None

    @property
    def permissions(self) -> frozenset[Permission]:
        return ROLE_PERMISSIONS[self.role]

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise ForbiddenError(self.role, permission)

    def may_read_financials(self, managing_rm_ids: Iterable[str]) -> bool:
        """Whether this caller sees exact AUM, balances and risk rating of such a customer."""
        return self._all_or_own_book(Permission.READ_FINANCIALS, managing_rm_ids)

    def may_unmask_pii(self, managing_rm_ids: Iterable[str]) -> bool:
        """Whether this caller sees the unmasked PII of a customer managed by these RMs."""
        return self._all_or_own_book(Permission.READ_PII_ALL, managing_rm_ids)

    def _all_or_own_book(self, everyone: Permission, managing_rm_ids: Iterable[str]) -> bool:
        """``everyone`` held, or an own-book reader among the customer's managing RMs."""
        if self.can(everyone):
            return True
        return (
            self.can(Permission.READ_PII_OWN_BOOK)
            and self.rm_id is not None
            and self.rm_id in set(managing_rm_ids)
        )
