"""`make demo` step: a burst of applications, from iCIMS's event to the recruiter's inbox.

Candidates apply to open requisitions in the sandbox; the sandbox sends each "application complete"
event (`AssessmentEvent`, gzip'd, HMAC-signed) to the service's `POST /events/icims`, some twice, as
iCIMS users do. The service stores and acknowledges each one; a worker in this process drains the
queue through the triage graph; then the step prints acknowledgements, refused duplicates, how
applications were scored and routed, what was written, and the inbox (pending approvals).
"""

from __future__ import annotations

import random
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import typer

from sandbox.server import ServerThread
from tools.icims.codes import (
    APPLICANT_NEW_SUBMISSION,
    CANDIDATE_REVIEWED,
    CANDIDATE_UNREVIEWED,
    JOB_APPROVED,
    list_node,
)

if TYPE_CHECKING:
    from server.demo import DemoContext
    from tools.settings import Settings

OPEN_JOB = JOB_APPROVED
NEW_SUBMISSION = list_node(APPLICANT_NEW_SUBMISSION)
CANDIDATE_FOLDERS = (CANDIDATE_UNREVIEWED, CANDIDATE_REVIEWED)


def new_applications(tenant: Any, count: int, *, seed: int = 11, jobs: int = 3) -> list[int]:
    """`count` new applicant workflows in the sandbox (status New Submissions) from candidates to the
    `jobs` open requisitions with the most applications, as if they applied on the career site."""
    rng = random.Random(seed)
    workflows = tenant.records["applicantworkflows"]
    per_job = Counter(int(w.data.get("baseprofile") or 0) for w in workflows.values())
    open_jobs = [
        j for j, r in tenant.records["jobs"].items() if (r.data.get("folder") or {}).get("id") == OPEN_JOB
    ]
    if not open_jobs:
        raise RuntimeError("the sandbox has no open requisition")
    targets = sorted(open_jobs, key=lambda j: (-per_job[j], j))[:jobs]
    applied = {
        (int(w.data.get("baseprofile") or 0), int(w.data.get("associatedprofile") or 0))
        for w in workflows.values()
    }
    people = [
        p
        for p, r in sorted(tenant.records["people"].items())
        if (r.data.get("folder") or {}).get("id") in CANDIDATE_FOLDERS
    ]
    pairs = [(j, p) for p in people for j in targets if (j, p) not in applied]
    if len(pairs) < count:
        raise RuntimeError(f"only {len(pairs)} new (job, candidate) pairs for {count} applications")
    chosen = rng.sample(pairs, count)
    return [
        tenant.add(
            "applicantworkflows",
            {
                "baseprofile": job,
                "associatedprofile": person,
                "status": dict(NEW_SUBMISSION),
                "source": "Career Site",
            },
        )
        for job, person in chosen
    ]


def register_webhook(sandbox_url: str, service_url: str, settings: Settings) -> None:
    tenant = settings.events_tenants[str(settings.icims_customer_id)]
    if tenant.auth != "hmac" or tenant.hmac_secret is None:
        raise RuntimeError("the demo signs events with HMAC; configure the tenant's events auth as hmac")
    hook = {
        "url": f"{service_url}/events/icims",
        "auth": "hmac",
        "hmac_user": tenant.hmac_user,
        "hmac_secret": tenant.hmac_secret.get_secret_value(),
    }
    httpx.put(f"{sandbox_url}/_sandbox/webhook", json=hook, timeout=30).raise_for_status()


def service_settings(settings: Settings, data_dir: Path) -> Settings:
    """The demo's service: its own state beside the demo mirror. Earlier steps move the sandbox clock,
    so signatures are not held to the wall clock here; rediscovery's index is not needed."""
    return settings.model_copy(
        update={
            "data_dir": data_dir,
            "events_hmac_max_skew_seconds": None,
            "rediscovery_pool_warm": False,
            "queue_sweep_seconds": 0.2,
        }
    )


def demo_step(ctx: DemoContext) -> None:
    from server.app import create_app
    from server.auth import KeyStore
    from server.events import intake_queue

    n = 30
    typer.secho(
        f"{ctx.step}. A burst of {n} applications: iCIMS events -> intake -> queue -> triage", bold=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        settings = service_settings(ctx.settings, data_dir)
        # The triage graph reads the mirror first: share the demo's synced mirror file.
        settings = settings.model_copy(update={"mirror_url": ctx.settings.mirror_database_url})
        keys = KeyStore.for_data_dir(data_dir)
        admin_key = keys.create("admin", name="demo-admin")[1]
        keys.close()
        app = create_app(settings)
        with ServerThread(app) as server:
            register_webhook(ctx.sandbox_url, server.url, settings)
            workflows = new_applications(ctx.sandbox.tenant, n)
            requests_before = ctx.sandbox.requests_total
            started = time.perf_counter()
            with httpx.Client(base_url=ctx.sandbox_url, timeout=60) as sandbox:
                numbers = [
                    sandbox.post(
                        "/_sandbox/events", json={"eventType": "AssessmentEvent", "systemId": w}
                    ).json()["event"]["n"]
                    for w in workflows
                ]
                # Three users click again: the same events are sent a second time.
                for number in numbers[:3]:
                    sandbox.post(f"/_sandbox/events/{number}/fire")
                events = sandbox.get("/_sandbox/events", params={"wait": "true"}).json()["events"]
            ack_seconds = time.perf_counter() - started
            replies = Counter(
                d["status_code"] for e in events if e["n"] in set(numbers) for d in e["deliveries"]
            )
            typer.echo(
                f"   sandbox sent {sum(replies.values())} notifications in {ack_seconds:.1f} s: "
                f"{replies.get(303, 0)} accepted (303 back to the portal), "
                f"{replies.get(400, 0)} duplicates refused (400 'Already received; no action taken')"
            )

            queue = intake_queue(app)
            worker = build_worker(app)
            drained = time.perf_counter()
            runs = worker.work(until_idle=True, timeout=600)
            seconds = time.perf_counter() - drained
            rows = [r for r in queue.store.list(limit=10_000) if r.event.workflow_id in set(workflows)]
            outcomes = [r.outcome.get("triage") or {} for r in rows]
            statuses = Counter(r.status for r in rows)
            typer.echo(
                f"   worker ran {runs} events in {seconds:.1f} s: "
                + ", ".join(f"{v} {k}" for k, v in sorted(statuses.items()))
            )
            scored = [o for o in outcomes if o.get("score") is not None]
            tiers = Counter(o.get("tier") for o in scored)
            modes = Counter(o.get("mode") for o in scored)
            typer.echo(
                f"   scored {len(scored)} of {len(rows)}; routed: "
                + ", ".join(f"{v} {k}" for k, v in sorted(tiers.items(), key=lambda kv: str(kv[0])))
                + f"; mode {', '.join(f'{k} x{v}' for k, v in modes.items())}; nobody rejected"
            )
            for o in sorted(scored, key=lambda o: -(o.get("score") or 0))[:3]:
                typer.echo(
                    f"     workflow {o.get('workflow_id')} (job {o.get('job_id')}): score {o.get('score')}, "
                    f"{o.get('tier')}, flags {o.get('flags') or '-'}"
                )
            written = sum(1 for o in outcomes for w in o.get("writes") or [] if w.get("status") == "done")
            requests = ctx.sandbox.requests_total - requests_before
            typer.echo(
                f"   writes to iCIMS: {written}; iCIMS requests: {requests} "
                f"({requests / max(1, len(rows)):.1f} per application)"
            )
            inbox = httpx.get(
                f"{server.url}/approvals",
                params={"graph": "triage"},
                headers={"X-API-Key": admin_key},
                timeout=60,
            )
            inbox.raise_for_status()
            typer.echo(
                f"   inbox: {len(inbox.json())} triage approvals pending (GET /approvals?graph=triage)"
            )
            backlog = queue.backlog()
            typer.echo(
                f"   queue: {backlog['done']} done, {backlog['dead']} dead, {backlog['waiting']} waiting; "
                f"/health shows the same backlog"
            )
            worker.close()


def build_worker(app: Any) -> Any:
    """A queue bound to the app's own runtime, run in this thread (the demo's in-process worker)."""
    from tools.queue import build_queue

    service = app.state.service
    return build_queue(service.settings).bind(service, service.event_routes())
