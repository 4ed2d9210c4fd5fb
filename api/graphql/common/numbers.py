"""How the API shows a computed ratio: to 6 significant digits, so float noise
(``0.7815840000000001``) never reaches a business screen and no two equal numbers differ."""

from __future__ import annotations

SIGNIFICANT_DIGITS = 6


def significant(value: float, digits: int = SIGNIFICANT_DIGITS) -> float:
    """``value`` rounded to ``digits`` significant digits.

    Examples
    --------
    >>> significant(0.7815840000000001), significant(0.48886249499999995)
    (0.781584, 0.488862)
    >>> significant(8.575667244045707e-05)
    8.57567e-05
    """
    return float(f"{value:.{digits}g}")
