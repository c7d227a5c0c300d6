"""Persisted nurture state (SQLite in `data_dir` by default, any SQLAlchemy URL):

- `campaigns`: definitions created by the API, kept as their JSON (`agents.nurture.campaigns` parses
  them; YAML files in the repo are loaded alongside, an API definition with the same id wins);
- `contacts`: every message sent (campaign, person, step, when, message id): cadence and caps read it,
  across campaigns;
- `stops`: a person's sequences stopped (campaign `*` = every campaign) and why: reply, application,
  hire, opt-out;
- `ticks`: the last minute the scheduler fired each campaign, so a minute never fires twice.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Column, Integer, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from tools.sqlengine import make_engine

if TYPE_CHECKING:
    from tools.settings import Settings

ALL_CAMPAIGNS = "*"

_metadata = MetaData()
campaigns_table = Table(
    "nurture_campaigns",
    _metadata,
    Column("id", String(64), primary_key=True),
    Column("definition", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
)
contacts_table = Table(
    "nurture_contacts",
    _metadata,
    Column("campaign_id", String(64), primary_key=True),
    Column("person_id", Integer, primary_key=True),
    Column("step", Integer, primary_key=True),
    Column("sent_at", String(40), nullable=False),
    Column("message_id", String(200), nullable=False),
    Column("run_id", String(64), nullable=False),
)
stops_table = Table(
    "nurture_stops",
    _metadata,
    Column("person_id", Integer, primary_key=True),
    Column("campaign_id", String(64), primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("at", String(40), nullable=False),
    Column("source", String(200)),
)
# Runs holding approved drafts back for the candidate's quiet hours: the tick re-sends only these.
deferred_table = Table(
    "nurture_deferred",
    _metadata,
    Column("thread_id", String(200), primary_key=True),
    Column("at", String(40), nullable=False),
)
ticks_table = Table(
    "nurture_ticks",
    _metadata,
    Column("campaign_id", String(64), primary_key=True),
    Column("minute", String(40), nullable=False),
)


class CampaignDefinition(Protocol):
    """What the store keeps of a campaign (`agents.nurture.models.Campaign`): its id and JSON."""

    @property
    def id(self) -> str: ...

    def model_dump_json(self) -> str: ...


@dataclass(frozen=True, slots=True)
class Contact:
    campaign_id: str
    person_id: int
    step: int
    sent_at: datetime
    message_id: str
    run_id: str


@dataclass(frozen=True, slots=True)
class Stop:
    person_id: int
    campaign_id: str
    reason: str
    at: str
    source: str | None


def nurture_database_url(settings: Settings) -> str:
    return settings.nurture_database_url or f"sqlite:///{settings.data_dir / 'nurture.sqlite'}"


class NurtureStore:
    def __init__(self, url: str, *, clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.engine = make_engine(url, busy_timeout_ms=10_000)
        self._clock = clock or (lambda: datetime.now(UTC))
        _metadata.create_all(self.engine)

    @classmethod
    def from_settings(cls, settings: Settings) -> NurtureStore:
        return cls(nurture_database_url(settings))

    def close(self) -> None:
        self.engine.dispose()

    def _now(self) -> str:
        return self._clock().astimezone(UTC).isoformat()

    # -- campaigns --------------------------------------------------------------------------------
    def save_campaign(self, campaign: CampaignDefinition) -> None:
        values = {"definition": campaign.model_dump_json(), "updated_at": self._now()}
        with self.engine.begin() as conn:
            changed = conn.execute(
                campaigns_table.update().where(campaigns_table.c.id == campaign.id).values(**values)
            ).rowcount
            if not changed:
                conn.execute(campaigns_table.insert().values(id=campaign.id, **values))

    def delete_campaign(self, campaign_id: str) -> bool:
        with self.engine.begin() as conn:
            return bool(
                conn.execute(campaigns_table.delete().where(campaigns_table.c.id == campaign_id)).rowcount
            )

    def campaign_definitions(self) -> list[str]:
        """The API-defined campaigns' JSON, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(campaigns_table.c.definition).order_by(campaigns_table.c.id))
            return [row.definition for row in rows]

    # -- contacts ---------------------------------------------------------------------------------
    def record_contact(
        self, campaign_id: str, person_id: int, step: int, *, sent_at: datetime, message_id: str, run_id: str
    ) -> None:
        """Idempotent: the first record of (campaign, person, step) stays."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    contacts_table.insert().values(
                        campaign_id=campaign_id,
                        person_id=int(person_id),
                        step=int(step),
                        sent_at=sent_at.astimezone(UTC).isoformat(),
                        message_id=message_id,
                        run_id=run_id,
                    )
                )
        except IntegrityError:
            pass

    def contacts(
        self, *, person_ids: Iterable[int] | None = None, campaign_id: str | None = None
    ) -> list[Contact]:
        query = select(contacts_table)
        if campaign_id is not None:
            query = query.where(contacts_table.c.campaign_id == campaign_id)
        if person_ids is not None:
            ids = [int(p) for p in person_ids]
            rows: list[Any] = []
            with self.engine.connect() as conn:
                for i in range(0, len(ids), 500):
                    rows += conn.execute(query.where(contacts_table.c.person_id.in_(ids[i : i + 500]))).all()
            return [_contact(r) for r in rows]
        with self.engine.connect() as conn:
            return [_contact(r) for r in conn.execute(query)]

    # -- erasure ----------------------------------------------------------------------------------
    def erase(self, person_id: int, *, tombstone: str) -> int:
        """Forget a person: their contacts and stops go, one `erased` stop for every campaign stays as
        the tombstone (the id and `tombstone`, a hash: nothing that names them), so no campaign ever
        selects them again. Returns the rows removed."""
        pid = int(person_id)
        with self.engine.begin() as conn:
            removed = conn.execute(contacts_table.delete().where(contacts_table.c.person_id == pid)).rowcount
            removed += conn.execute(stops_table.delete().where(stops_table.c.person_id == pid)).rowcount
            conn.execute(
                stops_table.insert().values(
                    person_id=pid,
                    campaign_id=ALL_CAMPAIGNS,
                    reason="erased",
                    at=self._now(),
                    source=tombstone,
                )
            )
        return int(removed or 0)

    # -- stops ------------------------------------------------------------------------------------
    def stop(
        self, person_id: int, reason: str, *, campaign_id: str = ALL_CAMPAIGNS, source: str | None = None
    ) -> bool:
        """Stop a person's sequence (every campaign by default). True when newly stopped."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    stops_table.insert().values(
                        person_id=int(person_id),
                        campaign_id=campaign_id,
                        reason=reason,
                        at=self._now(),
                        source=source,
                    )
                )
            return True
        except IntegrityError:
            return False

    def stops(self, person_ids: Iterable[int] | None = None) -> list[Stop]:
        query = select(stops_table)
        if person_ids is not None:
            query = query.where(stops_table.c.person_id.in_([int(p) for p in person_ids]))
        with self.engine.connect() as conn:
            return [Stop(r.person_id, r.campaign_id, r.reason, r.at, r.source) for r in conn.execute(query)]

    def stop_map(self) -> dict[int, dict[str, str]]:
        """person id -> {campaign id or '*': reason}."""
        out: dict[int, dict[str, str]] = {}
        for stop in self.stops():
            out.setdefault(stop.person_id, {})[stop.campaign_id] = stop.reason
        return out

    def in_sequence(self, person_id: int) -> list[str]:
        """Campaigns that have messaged the person."""
        return sorted({c.campaign_id for c in self.contacts(person_ids=[person_id])})

    # -- deferred sends ---------------------------------------------------------------------------
    def set_deferred(self, thread_id: str, held: bool) -> None:
        with self.engine.begin() as conn:
            conn.execute(deferred_table.delete().where(deferred_table.c.thread_id == thread_id))
            if held:
                conn.execute(deferred_table.insert().values(thread_id=thread_id, at=self._now()))

    def deferred_threads(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r.thread_id for r in conn.execute(select(deferred_table).order_by(deferred_table.c.at))]

    # -- scheduler ticks --------------------------------------------------------------------------
    def claim_tick(self, campaign_id: str, minute: datetime) -> bool:
        """True once per (campaign, minute): the first caller fires it."""
        stamp = minute.astimezone(UTC).replace(second=0, microsecond=0).isoformat()
        with self.engine.begin() as conn:
            row = conn.execute(select(ticks_table).where(ticks_table.c.campaign_id == campaign_id)).first()
            if row is not None and row.minute >= stamp:
                return False
            if row is None:
                try:
                    with conn.begin_nested():
                        conn.execute(ticks_table.insert().values(campaign_id=campaign_id, minute=stamp))
                except IntegrityError:
                    return False
                return True
            updated = conn.execute(
                ticks_table.update()
                .where((ticks_table.c.campaign_id == campaign_id) & (ticks_table.c.minute < stamp))
                .values(minute=stamp)
            ).rowcount
            return bool(updated)


def _contact(row: Any) -> Contact:
    return Contact(
        campaign_id=row.campaign_id,
        person_id=row.person_id,
        step=row.step,
        sent_at=datetime.fromisoformat(row.sent_at),
        message_id=row.message_id,
        run_id=row.run_id,
    )
