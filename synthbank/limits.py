"""The synthetic bank's limits, shared by the generator and the command line that checks them
first (so ``crkg generate --customers 50`` is refused by the option, with the same bound)."""

from __future__ import annotations

from typing import Final

from graph.errors import CrkgError

MIN_CUSTOMERS: Final = 200  # fewer leave some planted structures (circles, rings) with no room
MAX_BAD_ROW_RATE: Final = 0.2  # the share of planted invalid rows per file


class InvalidBankSpecError(CrkgError, ValueError):
    """A generation option outside its limits (a ValueError too, as before it was typed)."""

    exit_code = 2
