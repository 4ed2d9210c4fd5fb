"""The small value types every area returns: masked PII strings, exact and banded money,
withheld ratings and scores, and the helpers that build them from stored minor units."""

from __future__ import annotations

from decimal import Decimal

import strawberry

from api.graphql.context import context_value
from api.security.masking import (
    amount_band,
)
from graph.money import to_decimal


@strawberry.type(description="A PII value: masked unless you may see it, and saying which.")
class MaskedString:
    value: str | None
    masked: bool


@strawberry.type(description="An exact amount of money in the bank's one currency (CRKG_CURRENCY)")
class Money:
    amount: Decimal
    currency: str


@strawberry.type(
    description="A financial figure: exact when your role may read it (risk and admin; an RM "
    "for their own book), otherwise only the band it lies in, saying it is masked"
)
class MaskedMoney:
    amount: Decimal | None = strawberry.field(description="exact; null when masked")
    low: Decimal | None = strawberry.field(description="the band's lower bound, when masked")
    high: Decimal | None = strawberry.field(
        description="the band's upper bound (exclusive; null: open-ended), when masked"
    )
    currency: str
    masked: bool


@strawberry.type(description="A risk rating 1..5: withheld (null, masked) unless you may read it")
class MaskedRating:
    value: int | None
    masked: bool


@strawberry.type(
    description="A score computed from a financial figure: exact when your role may read that "
    "figure (risk and admin; an RM for their own book), otherwise withheld (null, masked)"
)
class MaskedScore:
    value: float | None
    masked: bool


def amount(info: strawberry.Info, minor: int) -> Money:
    """Integer minor units as an exact amount in the deployment's currency."""
    return Money(amount=to_decimal(int(minor)), currency=context_value(info).settings.currency)


def money(info: strawberry.Info, minor: int | None) -> Money | None:
    """Stored integer minor units as an exact amount (None stays None)."""
    return None if minor is None else amount(info, minor)


def masked_money(info: strawberry.Info, minor: int | None, *, exact: bool) -> MaskedMoney | None:
    if minor is None:
        return None
    amount = to_decimal(int(minor))
    currency = context_value(info).settings.currency
    if exact:
        return MaskedMoney(amount=amount, low=None, high=None, currency=currency, masked=False)
    low, high = amount_band(amount)
    return MaskedMoney(amount=None, low=low, high=high, currency=currency, masked=True)
