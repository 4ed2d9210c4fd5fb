"""The one notion of "today": the calendar day in UTC, as every answer and run dates it.

Referral eligibility (ages, read-time screens), the coverage an answer reports and the
default reference day of lifecycle stages all ask here, so they agree on the day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def today() -> date:
    """Today's date in UTC."""
    return datetime.now(UTC).date()
