"""iCIMS date and datetime text formats (API_NOTES section 4): dates `yyyy-mm-dd`, datetimes
`yyyy-mm-dd hh:mm a` in UTC. Search accepts either form for date filters."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

DATETIME_FORMAT = "%Y-%m-%d %I:%M %p"
DATE_FORMAT = "%Y-%m-%d"


def format_datetime(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return value.strftime(DATETIME_FORMAT)


def format_date(value: date) -> str:
    return value.strftime(DATE_FORMAT)


def parse_datetime(text: str) -> datetime:
    """Parse either iCIMS form into an aware UTC datetime; raises ValueError otherwise."""
    text = text.strip()
    for fmt in (DATETIME_FORMAT, DATE_FORMAT, "%Y-%m-%d %H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    raise ValueError(f"not an iCIMS date or datetime: {text!r}")


def floor_minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def same_value(served: Any, wanted: Any) -> bool:
    """Whether a served field already holds a value we write: iCIMS may serve a number written as
    text or the reverse, and the field "holds the value" either way (read-before-write checks)."""
    return served == wanted or (served is not None and str(served) == str(wanted))
