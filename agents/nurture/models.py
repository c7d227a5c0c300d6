"""Nurture campaign definitions (pydantic), as written in YAML (`agents/nurture/campaigns/*.yaml`) or
sent to `POST /nurture/campaigns`.

A campaign targets talent-pool members (optionally narrowed by enrichment tags and filters), sends
them a cadence of steps (`day` = days after the person's first message of the campaign: 0, 14, 45),
each step with its own versioned template, within caps, outside quiet hours in the candidate's time
zone, on working days, and stops for a person on reply, application, hire, opt-out or the last step.
"""

from __future__ import annotations

import itertools
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tools.icims.codes import SOURCE_WORKFLOW_NOT_INTERESTED

StopReason = Literal["replied", "applied", "hired", "opted_out", "step_limit"]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TEMPLATE = re.compile(r"^[a-z0-9_]+\.v\d+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class Target(BaseModel):
    """Who is in the campaign: members of these pools, narrowed by the segment rules."""

    model_config = ConfigDict(extra="forbid")

    pool_ids: list[int] = Field(min_length=1, description="talent pool ids (source workflows)")
    # Segment by the enrichment tags rediscovery writes (`enrichment_tags` field): any of these.
    tags_any: list[str] = Field(default_factory=list)
    states: list[str] = Field(default_factory=list, description="address state abbreviations")
    countries: list[str] = Field(default_factory=list, description="address country abbreviations")
    # Source-workflow statuses to leave out (default: "Not Interested").
    exclude_pool_statuses: list[str] = Field(default_factory=lambda: [SOURCE_WORKFLOW_NOT_INTERESTED])


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    day: int = Field(ge=0, le=3650, description="days after the person's first message in this campaign")
    template: str = Field(description="prompts/nurture/<name>.<version>.j2, e.g. 'checkin.v1'")

    @field_validator("template")
    @classmethod
    def _template(cls, value: str) -> str:
        if not _TEMPLATE.match(value):
            raise ValueError("template must look like 'name.v1'")
        return value


class Caps(BaseModel):
    """Per-campaign frequency limits (the global ones are in settings and span every campaign)."""

    model_config = ConfigDict(extra="forbid")

    min_days_between: int = Field(default=7, ge=0, description="days between two messages of this campaign")
    max_per_run: int = Field(default=50, ge=1, le=10_000, description="drafts per run (one approval batch)")


class QuietHours(BaseModel):
    """No message is sent between `start` and `end` local time (wrapping midnight), nor on days not
    in `working_days`, in the candidate's time zone (from their address)."""

    model_config = ConfigDict(extra="forbid")

    start: str = "19:00"
    end: str = "08:00"
    working_days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    default_timezone: str = "America/New_York"

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.match(value):
            raise ValueError("use HH:MM (24 h)")
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str]) -> list[str]:
        days = [d.lower()[:3] for d in value]
        bad = [d for d in days if d not in WEEKDAYS]
        if bad or not days:
            raise ValueError(f"working_days: use {', '.join(WEEKDAYS)}")
        return days

    @field_validator("default_timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        ZoneInfo(value)  # raises for an unknown zone
        return value


class Signature(BaseModel):
    """The sender identity every message carries."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="The Talent Team", min_length=1, max_length=80)
    title: str = Field(default="Recruiting", max_length=80)
    company: str = Field(default="Example Corp", min_length=1, max_length=80)


class Campaign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    name: str = Field(min_length=1, max_length=120)
    enabled: bool = True
    target: Target
    steps: list[Step] = Field(min_length=1, max_length=12)
    schedule: str | None = Field(
        default=None, description="cron (minute hour day month day_of_week), e.g. '0 10 * * 1-5'"
    )
    caps: Caps = Field(default_factory=Caps)
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    stop_on: list[StopReason] = Field(
        default_factory=lambda: ["replied", "applied", "hired", "opted_out", "step_limit"]
    )
    signature: Signature = Field(default_factory=Signature)
    # The recruiter (iCIMS person id) whose inbox the campaign's drafts go to; default: the owner of
    # its first talent pool. Admins see every campaign's drafts.
    owner_id: int | None = None
    # Rewrite drafts with the configured LLM (only when one is configured; never for auto-approval).
    llm_rewrite: bool = False

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("id: lowercase letters, digits, '-' and '_' (max 64)")
        return value

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parse_cron(value)
        return value

    @model_validator(mode="after")
    def _steps_ordered(self) -> Campaign:
        days = [s.day for s in self.steps]
        if days[0] != 0:
            raise ValueError("the first step must be day 0")
        if any(b <= a for a, b in itertools.pairwise(days)):
            raise ValueError("step days must increase")
        return self


def parse_cron(spec: str) -> dict[str, str]:
    """Five fields -> the keyword arguments of `huey.crontab` (validated by building one)."""
    from huey import crontab

    parts = spec.split()
    if len(parts) != 5:
        raise ValueError("schedule: five cron fields (minute hour day month day_of_week)")
    kwargs = dict(zip(("minute", "hour", "day", "month", "day_of_week"), parts, strict=True))
    try:
        crontab(**kwargs)
    except Exception as exc:  # huey raises ValueError for bad fields
        raise ValueError(f"schedule: {exc}") from None
    return kwargs
