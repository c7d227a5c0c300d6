"""The opening terms of an offer started without proposed terms (e.g. by an iCIMS status event).

Base at the band midpoint, kept inside the requisition's posted range, rounded down to $500 so the
opening offer never lands above the midpoint (which would route to the comp partner by itself);
start on the first Monday at least three weeks out; the offer open for a week.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from agents.offer.models import OfferRole, OfferTerms, PayBand, money

ROUND_TO = Decimal(500)
NOTICE_DAYS = 21
OPEN_DAYS = 7


def first_monday(after: date) -> date:
    return after + timedelta(days=(7 - after.weekday()) % 7)


def opening_base(band: PayBand, role: OfferRole | None = None) -> Decimal:
    base = band.mid
    if role is not None and role.posted_min is not None and role.posted_max is not None:
        base = min(max(base, role.posted_min), role.posted_max)
    rounded = (base / ROUND_TO).to_integral_value(rounding=ROUND_FLOOR) * ROUND_TO
    # Rounding must not drop below the band or the posted minimum.
    floor = max(band.min, role.posted_min if role and role.posted_min is not None else band.min)
    return money(max(rounded, floor))


def default_terms(
    role: OfferRole, band: PayBand, *, today: date, level: str | None = None, **overrides: Any
) -> OfferTerms:
    start = first_monday(today + timedelta(days=NOTICE_DAYS))
    values: dict[str, Any] = {
        "base_salary": opening_base(band, role),
        "start_date": start,
        "level": level or band.level or "L3",
        "remote": role.remote,
        "expires_on": today + timedelta(days=OPEN_DAYS),
    }
    values.update({k: v for k, v in overrides.items() if v is not None})
    return OfferTerms.model_validate(values)
