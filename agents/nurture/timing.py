"""The candidate's time zone (from their address), whether a moment is inside quiet hours, and
whether a campaign's cron schedule is due at a minute.

A compact table: US states by their main zone (a few states span two; the larger population's zone
wins), then countries by their capital's zone. Unknown -> the campaign's default zone.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from agents.nurture.models import WEEKDAYS, QuietHours, parse_cron

_EASTERN = "America/New_York"
_CENTRAL = "America/Chicago"
_MOUNTAIN = "America/Denver"
_PACIFIC = "America/Los_Angeles"
US_STATE_TZ: dict[str, str] = {
    **dict.fromkeys(
        [
            "CT",
            "DE",
            "DC",
            "FL",
            "GA",
            "IN",
            "KY",
            "ME",
            "MD",
            "MA",
            "MI",
            "NH",
            "NJ",
            "NY",
            "NC",
            "OH",
            "PA",
            "RI",
            "SC",
            "VT",
            "VA",
            "WV",
        ],
        _EASTERN,
    ),
    **dict.fromkeys(
        ["AL", "AR", "IL", "IA", "KS", "LA", "MN", "MS", "MO", "NE", "ND", "OK", "SD", "TN", "TX", "WI"],
        _CENTRAL,
    ),
    **dict.fromkeys(["CO", "ID", "MT", "NM", "UT", "WY"], _MOUNTAIN),
    "AZ": "America/Phoenix",
    **dict.fromkeys(["CA", "NV", "OR", "WA"], _PACIFIC),
    "AK": "America/Anchorage",
    "HI": "Pacific/Honolulu",
    "PR": "America/Puerto_Rico",
}
COUNTRY_TZ: dict[str, str] = {
    "US": _EASTERN,
    "CA": "America/Toronto",
    "MX": "America/Mexico_City",
    "BR": "America/Sao_Paulo",
    "GB": "Europe/London",
    "UK": "Europe/London",
    "IE": "Europe/Dublin",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "ES": "Europe/Madrid",
    "IT": "Europe/Rome",
    "PL": "Europe/Warsaw",
    "SE": "Europe/Stockholm",
    "CH": "Europe/Zurich",
    "IN": "Asia/Kolkata",
    "SG": "Asia/Singapore",
    "JP": "Asia/Tokyo",
    "CN": "Asia/Shanghai",
    "AU": "Australia/Sydney",
    "NZ": "Pacific/Auckland",
    "ZA": "Africa/Johannesburg",
}


def abbrev(node: Any) -> str | None:
    """A list node's abbreviation (or value), upper-case: `{"abbrev": "ny"}` -> "NY"."""
    value = node.get("abbrev") or node.get("value") if isinstance(node, dict) else node
    return str(value).strip().upper() if value else None


def person_timezone(person: dict[str, Any], default: str) -> str:
    """The IANA zone of the person's first address: US state first, then country, else `default`."""
    addresses = person.get("addresses") or []
    address = addresses[0] if addresses and isinstance(addresses[0], dict) else {}
    country = abbrev(address.get("addresscountry"))
    state = abbrev(address.get("addressstate"))
    if state and country in (None, "US", "USA") and state in US_STATE_TZ:
        return US_STATE_TZ[state]
    if country and country in COUNTRY_TZ:
        return COUNTRY_TZ[country]
    return default


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def quiet_reason(now: datetime, zone: str, rules: QuietHours) -> str | None:
    """None when a message may go out at `now` (aware) in `zone`; else "quiet_hours" or
    "non_working_day"."""
    local = now.astimezone(ZoneInfo(zone))
    if WEEKDAYS[local.weekday()] not in rules.working_days:
        return "non_working_day"
    start, end, clock = _hhmm(rules.start), _hhmm(rules.end), local.time().replace(tzinfo=None)
    if start == end:
        return None  # no quiet period
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    return "quiet_hours" if quiet else None


def is_due(schedule: str | None, now: datetime) -> bool:
    """Whether a cron `schedule` (five fields) matches `now`'s minute, evaluated with `huey.crontab`."""
    from huey import crontab

    if not schedule:
        return False
    # huey's crontab compares naive fields: evaluate in UTC.
    return bool(crontab(**parse_cron(schedule))(now.astimezone(UTC).replace(tzinfo=None)))
