"""Approved writes always land, once: one resume per thread across processes, and a reconciler
that finishes approved-but-unfinished runs with backoff, never asking for a second approval.

- Every resume of a graph thread (an approval resolved over HTTP or on the command line, a run
  started or finished, the reconciler) holds the thread's lease (`tools.leases`, a row in the
  audit/ledger database), so two processes never resume the same interrupt: the second one is told
  the approval is being resolved elsewhere.
- A decision is durable before it is applied: the approve node's `approval` record is in the
  checkpoint before the write step runs. When the writes then fail (iCIMS throttling, outages),
  the thread is approved-but-unfinished (`graphs.kit.runs.approved_unfinished`); its row in
  `tools.applying` says so in the approvals list ("approved, applying (retry N, next at T, last
  error)") and the worker's reconciler (`ApprovedWrites.reconcile`) runs `graphs.kit.runs.finish`
  when it is due, backing off after each failure. The write step is idempotent (ledger), so a
  retry repeats nothing that landed.
- The reconciler also finds such runs that nobody recorded: a thread whose latest checkpoint holds
  a node error (read from the SQLite/Postgres saver's tables), or one whose lease expired (its
  process was killed mid-resume).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphs.kit.inbox import PendingApproval, unfinished
from graphs.kit.runs import approved_unfinished, decided, finish, run_config
from server.approval_records import append_applied, applying_fields, owners_for
from tools.applying import Applying, ApplyingStore
from tools.leases import DEFAULT_TTL_SECONDS, Lease, LeaseHeld, Leases
from tools.logs import get_logger

if TYPE_CHECKING:
    from langgraph.checkpoint.base import BaseCheckpointSaver

    from server.service_types import ServiceView, SpecView

log = get_logger("server.applying")

LEASE_PREFIX = "thread:"
RECONCILE_SECONDS = 15.0  # how often the worker looks for due retries


def lease_key(thread_id: str) -> str:
    return f"{LEASE_PREFIX}{thread_id}"


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


@dataclass(frozen=True)
class Backoff:
    """Seconds before retry N: `base * factor**(N-1)`, at most `cap`."""

    base: float = 15.0
    factor: float = 2.0
    cap: float = 900.0

    def __call__(self, attempts: int) -> float:
        return min(self.cap, self.base * self.factor ** max(0, attempts - 1))


# Threads whose latest root checkpoint holds a node's error (the run stopped there), from the
# savers' own primary keys like `graphs.kit.inbox.interrupted_thread_ids`.
_ERRORED_SQL = """
SELECT c.thread_id, c.checkpoint_id FROM checkpoints c
JOIN (SELECT thread_id, MAX(checkpoint_id) AS cid FROM checkpoints WHERE checkpoint_ns = ''
      GROUP BY thread_id) latest
  ON c.thread_id = latest.thread_id AND c.checkpoint_id = latest.cid AND c.checkpoint_ns = ''
WHERE EXISTS (SELECT 1 FROM {writes} w WHERE w.thread_id = c.thread_id AND w.checkpoint_ns = ''
              AND w.checkpoint_id = c.checkpoint_id AND w.channel = '__error__')
ORDER BY c.thread_id
"""


def errored_threads(checkpointer: BaseCheckpointSaver) -> dict[str, str]:
    """thread id -> latest checkpoint id, for threads whose run stopped on an error; empty for
    savers other than SQLite and Postgres (their runs are found through the applying rows and
    the leases only)."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from langgraph.checkpoint.sqlite import SqliteSaver

    saver = getattr(checkpointer, "inner", checkpointer)  # server.state.ThreadedSaver wraps one
    if isinstance(saver, SqliteSaver):
        with saver.cursor(transaction=False) as cur:
            rows = cur.execute(_ERRORED_SQL.format(writes="writes")).fetchall()
        return {str(r[0]): str(r[1]) for r in rows}
    if isinstance(saver, PostgresSaver):
        with saver._cursor() as cur:
            cur.execute(_ERRORED_SQL.format(writes="checkpoint_writes"))
            rows = cur.fetchall()
        pairs = [(r["thread_id"], r["checkpoint_id"]) if isinstance(r, dict) else (r[0], r[1]) for r in rows]
        return {str(t): str(c) for t, c in pairs}
    return {}


def last_request(graph: Any, thread_id: str, *, depth: int = 25) -> PendingApproval | None:
    """The Agent Inbox request the thread's run was last paused on (from its checkpoint history)."""
    for snapshot in graph.get_state_history(run_config(thread_id), limit=depth):
        for item in snapshot.interrupts or ():
            values = item.value if isinstance(item.value, list) else [item.value]
            for request in values:
                if isinstance(request, dict) and "action_request" in request:
                    return PendingApproval(thread_id, item.id, request, None, snapshot.created_at)  # type: ignore[arg-type]
    return None


def _person_approved_unfinished(graph: Any, thread_id: str) -> bool:
    """Approved by a person and stopped before its end. A policy's automatic approval is left to
    the event queue that ran it: the queue retries its event, which finishes the run."""
    snapshot = graph.get_state(run_config(thread_id))
    values = dict(snapshot.values or {})
    policy = (values.get("approval") or {}).get("policy")
    return not snapshot.interrupts and unfinished(snapshot) and decided(values) and not policy


class ApprovedWrites:
    """The service's leases and applying rows (on the audit database's engine) and its reconciler."""

    def __init__(
        self,
        service: ServiceView,
        *,
        backoff: Backoff | None = None,
        lease_ttl: float = DEFAULT_TTL_SECONDS,
    ) -> None:
        self.service = service
        self.backoff = backoff or Backoff()
        self.lease_ttl = lease_ttl
        self._leases: Leases | None = None
        self._store: ApplyingStore | None = None
        # Errored threads found not approved, by checkpoint: not read again until they change.
        self._not_approved: dict[str, str] = {}

    @property
    def leases(self) -> Leases:
        if self._leases is None:
            self._leases = Leases(self.service.audit.engine, ttl_seconds=self.lease_ttl)
        return self._leases

    @property
    def store(self) -> ApplyingStore:
        if self._store is None:
            self._store = ApplyingStore(self.service.audit.engine)
        return self._store

    @contextlib.contextmanager
    def hold(self, thread_id: str) -> Iterator[Lease]:
        """The thread's lease for the block; raises `tools.leases.LeaseHeld` when another holds it."""
        with self.leases.hold(lease_key(thread_id)) as lease:
            yield lease

    def busy(self, thread_id: str) -> bool:
        """Whether some process holds the thread's lease now (resolving, running or finishing it)."""
        lease = self.leases.get(lease_key(thread_id))
        return lease is not None and lease.expires_at > self.leases.clock()

    def row(self, thread_id: str) -> Applying | None:
        return self.store.get(thread_id)

    def rows(self, graph: str | None = None) -> list[Applying]:
        return self.store.all(graph)

    def failed(self, spec: SpecView, thread_id: str, pending: PendingApproval | None, error: str) -> Applying:
        """Record a failed attempt to apply the thread's approved decision (due again after backoff)."""
        values = dict(spec.graph.get_state(run_config(thread_id)).values or {})
        if pending is None:
            pending = last_request(spec.graph, thread_id)
        owners = (
            owners_for(self.service, spec, pending)
            if pending is not None
            else self.service.job_owners(spec.job_id_of_state(values) or spec.job_id_of_thread(thread_id))
        )
        fields = applying_fields(spec, pending, owners, values.get("approval") or {})
        row = self.store.failed(thread_id, error, backoff=self.backoff, **fields)
        log.warning("approval.applying", thread_id=thread_id, attempts=row.attempts, error=error[:200])
        return row

    # -- the reconciler ----------------------------------------------------------------------------
    def discover(self) -> list[str]:
        """Approved-but-unfinished threads nobody recorded: stopped on an error, or left by a killed
        resume (expired lease)."""
        found: dict[str, None] = {}
        tracked = {r.thread_id for r in self.store.all()}
        for thread_id, checkpoint_id in errored_threads(self.service.checkpointer).items():
            if thread_id in tracked or self._not_approved.get(thread_id) == checkpoint_id:
                continue
            spec = self.service.spec_for_thread(thread_id)
            if spec is not None and _person_approved_unfinished(spec.graph, thread_id):
                found[thread_id] = None
            else:
                self._not_approved[thread_id] = checkpoint_id
        for lease in self.leases.expired(LEASE_PREFIX):
            found.setdefault(lease.key[len(LEASE_PREFIX) :], None)
        return [t for t in found if t not in tracked]

    def reconcile(
        self, now: float | None = None, *, discover: bool = True, limit: int = 200
    ) -> dict[str, int]:
        """One pass: finish every due applying row (and, with `discover`, every unrecorded one).
        Returns counts: finished, failed (retried later), busy (another holder), cleared (nothing
        left to finish), waiting (rows left)."""
        threads = dict.fromkeys(r.thread_id for r in self.store.due(now))
        if discover:
            threads.update(dict.fromkeys(self.discover()))
        report = {"finished": 0, "failed": 0, "busy": 0, "cleared": 0}
        for thread_id in list(threads)[:limit]:
            report[self.finish_one(thread_id)] += 1
        report["waiting"] = len(self.store.all())
        if any(report[k] for k in ("finished", "failed", "cleared")):
            log.info("approval.reconciled", **report)
        return report

    def finish_one(self, thread_id: str) -> str:
        spec = self.service.spec_for_thread(thread_id)
        if spec is None:
            self.store.clear(thread_id)
            return "cleared"
        try:
            with self.hold(thread_id):
                if not approved_unfinished(spec.graph, thread_id):
                    self.store.clear(thread_id)
                    return "cleared"
                row = self.store.get(thread_id)
                try:
                    finished = finish(spec.graph, thread_id)
                    if approved_unfinished(spec.graph, thread_id):
                        raise RuntimeError("the run stopped before its end")
                except Exception as exc:  # iCIMS still failing: the next attempt backs off further
                    self.failed(spec, thread_id, None, error_text(exc))
                    return "failed"
                if finished is not None:
                    if row is None:  # found by discovery and finished at the first attempt
                        fields = applying_fields(spec, None, None, finished.values.get("approval") or {})
                        row = Applying(
                            thread_id=thread_id,
                            **fields,
                            attempts=0,
                            next_at=0.0,
                            last_error=None,
                            updated_at=0.0,
                        )
                    append_applied(self.service.audit, row, finished.values)
                    log.info("approval.applied", thread_id=thread_id, attempts=row.attempts + 1)
                self.store.clear(thread_id)
                return "finished"
        except LeaseHeld:
            return "busy"
