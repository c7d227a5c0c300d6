"""Triage bench (issue 7): application events posted at a fixed rate, with duplicates, against the
real service; a real worker process drains them through the triage graph under the auto-approve
policy (AI field writes approved by policy; status suggestions wait for a recruiter).

Per run: a seeded sandbox (in this process, quota raised), a full mirror sync, then N new
applications created in the sandbox after the sync (so triage meets them as iCIMS would: new). The
service (`icims-agents serve`) and the worker (`icims-agents worker`) are separate processes. Events
are built exactly as the sandbox sends them (gzip'd, HMAC-signed) and posted open-loop at `rate`
req/s; 10% are posted a second time shortly after. Reported: ack p50/p99 (client-side, send to
reply), the post rate achieved, end-to-end applications/s (first post to last event done), drain
time (last post to last event done), lost events (acknowledged but not done), duplicate writes (the
same write twice in the sandbox's write log), iCIMS requests per application. The second run kills
the worker with SIGKILL when 40% are done and starts a new one.

`python -m evals.bench_triage [--events N] [--rate R] [--no-kill]`
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import hashlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from evals.results import Measurement, print_results, write_results
from sandbox.app import create_app
from sandbox.config import SandboxConfig, client_env
from sandbox.server import ServerThread
from sandbox.webhooks import build_payload
from server.demo_triage import new_applications
from tools.events.models import SANDBOX_EVENTS_TENANT
from tools.events.store import EventStore
from tools.icims.auth import HMACAuth
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync
from tools.settings import Settings

RESULTS = Path("results/bench_triage.json")
EXE = Path(sys.executable).parent / "icims-agents"
DUPLICATE_SHARE = 0.10
KILL_AT = 0.40
# The worker runs at lower CPU priority: acks are latency-bound, triage is throughput-bound, and
# on one 2-core box they share the CPU.
WORKER_NICE = 10
# Issue 7 acceptance on this 2-core machine.
TARGET_ACK_P99_MS = 100.0
TARGET_APPS_PER_S = 10.0
THREADS = 32  # enough to keep 200 req/s going while some replies are slow


def _log(message: str) -> None:
    print(f"[bench_triage] {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _wait_until(predicate: Any, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.1)


class Run:
    """One bench run: sandbox, mirror, service and worker processes, load, measurements."""

    def __init__(self, work: Path, *, events: int, people: int, seed: int) -> None:
        self.work = work
        self.events = events
        config = SandboxConfig(people=people, seed=seed, daily_limit=10_000_000)
        self.sandbox_app = create_app(config)
        self.sandbox = self.sandbox_app.state.sandbox
        self.server = ServerThread(self.sandbox_app, date_header=False).start()
        self.env = {
            **os.environ,
            **client_env(config, self.server.url),
            "ICIMS_AGENTS_DATA_DIR": str(work),
            "ICIMS_AGENTS_TRIAGE_MODE": "auto",
            "ICIMS_AGENTS_QUOTA_DAILY_LIMIT": "10000000",
            "ICIMS_AGENTS_REDISCOVERY_POOL_WARM": "false",
            "ICIMS_AGENTS_LOG_LEVEL": "WARNING",
            "ICIMS_AGENTS_QUEUE_SWEEP_SECONDS": "0.5",
        }
        self.settings = Settings(
            _env_file=None,
            **{
                k.removeprefix("ICIMS_AGENTS_").lower(): v
                for k, v in self.env.items()
                if k.startswith("ICIMS_AGENTS_")
            },
        )
        self.procs: list[subprocess.Popen[bytes]] = []

    # -- set-up -------------------------------------------------------------------------------------

    def prepare(self) -> list[int]:
        store = MirrorStore(self.settings.mirror_database_url)

        async def sync() -> None:
            async with ICIMSClient.from_settings(self.settings) as client:
                await MirrorSync(store, client, progress=False).run(full=True)

        asyncio.run(sync())
        store.close()
        candidates = sum(
            1
            for r in self.sandbox.tenant.records["people"].values()
            if (r.data.get("folder") or {}).get("id") in ("D32006", "D32007")
        )
        jobs = max(3, -(-int(self.events * 1.3) // max(1, candidates)))
        return new_applications(self.sandbox.tenant, self.events, seed=17, jobs=jobs)

    def start_service(self) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            [str(EXE), "serve", "--port", str(port), "--no-demo-keys"],
            env=self.env,
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        url = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(f"{url}/health", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        _wait_until(up, "the service", 120)
        return url

    def start_worker(self) -> subprocess.Popen[bytes]:
        proc = subprocess.Popen(
            [str(EXE), "worker", "--workers", "2", "--nice", str(WORKER_NICE)],
            env=self.env,
            cwd=self.work,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.server.stop()

    # -- load -----------------------------------------------------------------------------------------

    def bodies(self, workflows: list[int]) -> list[tuple[int, bytes]]:
        """(workflow, gzip'd payload) in posting order: every event once, 10% again a few posts later."""
        cid = self.settings.icims_customer_id
        tenant = self.sandbox.tenant
        base = self.server.url
        out: list[tuple[int, bytes]] = []
        for wf in workflows:
            data = tenant.get("applicantworkflows", wf).data
            payload = build_payload(
                event_type="AssessmentEvent",
                customer_id=cid,
                base=base,
                system_id=wf,
                person_id=int(data["associatedprofile"]),
                job_id=int(data["baseprofile"]),
                extra={"returnUrl": f"{base}/portal/return/{wf}"},
            )
            out.append((wf, gzip.compress(json.dumps(payload, separators=(",", ":")).encode(), mtime=0)))
        rng = random.Random(5)
        again = rng.sample(range(len(out)), int(len(out) * DUPLICATE_SHARE))
        for index in sorted(again, reverse=True):
            out.insert(min(len(out), index + 1 + rng.randint(5, 50)), out[index])
        return out

    def post_all(self, url: str, bodies: list[tuple[int, bytes]], rate: float) -> dict[str, Any]:
        """Open loop: post i is sent at start + i / rate whatever earlier replies did; each request is
        built and signed before its send time, so the latency covers send to reply only."""
        auth = HMACAuth(SANDBOX_EVENTS_TENANT["hmac_user"], SANDBOX_EVENTS_TENANT["hmac_secret"])
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
        client = httpx.Client(timeout=30, limits=limits)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        sent_at: list[float] = []
        lock = threading.Lock()
        start = time.perf_counter() + 0.2

        def post(i: int) -> None:
            request = client.build_request(
                "POST",
                f"{url}/events/icims",
                content=bodies[i][1],
                headers={"content-type": "application/json", "content-encoding": "gzip"},
            )
            auth.sign(request)
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)  # the load generator's pacing
            t0 = time.perf_counter()
            try:
                status = client.send(request).status_code
            except httpx.HTTPError:
                status = 0
            elapsed = time.perf_counter() - t0
            with lock:
                latencies.append(elapsed)
                statuses[status] += 1
                sent_at.append(t0)

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            list(pool.map(post, range(len(bodies))))
        client.close()
        return {"latencies": latencies, "statuses": statuses, "first": min(sent_at), "last": max(sent_at)}


def _duplicate_writes(entries: list[Any], workflows: set[int]) -> tuple[int, int, set[int]]:
    """(writes to these applications, writes that repeat an identical earlier write, the
    applications written)."""
    seen: Counter[tuple[str, str, str]] = Counter()
    total = 0
    written: set[int] = set()
    for entry in entries:
        parts = entry.path.rstrip("/").split("/")
        ids = {int(p) for p in parts if p.isdigit()}
        if not ids & workflows or "applicantworkflows" not in parts:
            continue
        total += 1
        written |= ids & workflows
        body = hashlib.sha256(json.dumps(entry.body, sort_keys=True, default=str).encode()).hexdigest()
        seen[(entry.method, entry.path, body)] += 1
    return total, sum(n - 1 for n in seen.values() if n > 1), written


def run_once(events: int, rate: float, *, kill: bool, people: int) -> list[Measurement]:
    label = "kill" if kill else "steady"
    with tempfile.TemporaryDirectory(prefix=f"bench-triage-{label}-") as tmp:
        run = Run(Path(tmp), events=events, people=people, seed=7)
        try:
            _log(f"{label}: seeding {people} people, syncing the mirror, creating {events} applications")
            workflows = run.prepare()
            url = run.start_service()
            worker = run.start_worker()
            bodies = run.bodies(workflows)
            store = EventStore.from_settings(run.settings)
            requests_before = run.sandbox.requests_total
            writes_before = len(run.sandbox.writelog)
            killed: dict[str, Any] = {}

            def killer() -> None:
                _wait_until(lambda: store.counts().get("done", 0) >= KILL_AT * events, "40% done", 3600)
                worker.send_signal(signal.SIGKILL)
                worker.wait()
                killed["running_at_kill"] = store.counts().get("running", 0)
                killed["done_at_kill"] = store.counts().get("done", 0)
                run.start_worker()

            killer_thread = threading.Thread(target=killer, daemon=True)
            if kill:
                killer_thread.start()
            load_avg = os.getloadavg()[0]
            _log(f"{label}: posting {len(bodies)} events at {rate:.0f}/s")
            posted = run.post_all(url, bodies, rate)
            unique = len(workflows)

            def finished() -> bool:
                counts = store.counts()
                return counts.get("done", 0) + counts.get("dead", 0) >= unique

            _wait_until(finished, "the queue to drain", 3600)
            done_at = time.perf_counter()
            if kill:
                killer_thread.join(timeout=60)
            rows = store.list(limit=unique * 2)
            by_workflow = {r.event.workflow_id: r for r in rows}
            done = [r for r in rows if r.status == "done"]
            lost = sum(1 for wf in workflows if wf not in by_workflow or by_workflow[wf].status != "done")
            dead = sum(1 for r in rows if r.status == "dead")
            actions = Counter((r.outcome.get("triage") or {}).get("action") for r in done)
            written, duplicates, touched = _duplicate_writes(
                run.sandbox.writelog[writes_before:], set(workflows)
            )
            # Every triaged application gets its AI fields written under the auto policy.
            unwritten = sorted(set(workflows) - touched)
            if unwritten:
                _log(f"{label}: done without an AI-field write: {unwritten[:20]}")
            requests = run.sandbox.requests_total - requests_before
            statuses = posted["statuses"]
            latencies = posted["latencies"]
            span = posted["last"] - posted["first"]
            note = (
                f"{len(bodies)} posts ({statuses.get(303, 0)} accepted, {statuses.get(400, 0)} duplicates "
                f"refused, {sum(v for k, v in statuses.items() if k not in (303, 400))} other); "
                f"outcomes {dict(actions)}; {written} writes; load average {load_avg:.1f} on "
                f"{os.cpu_count()} cores at start (machine shared)"
            )
            if kill:
                note += (
                    f"; worker SIGKILLed at {killed.get('done_at_kill')} done, "
                    f"{killed.get('running_at_kill')} running"
                )
            store.close()
            return [
                Measurement(
                    name=f"triage_{label}_ack_p50", value=_percentile(latencies, 0.5) * 1000, unit="ms"
                ),
                Measurement(
                    name=f"triage_{label}_ack_p99",
                    value=(p99 := _percentile(latencies, 0.99) * 1000),
                    unit="ms",
                    baseline="target_ack_p99_ms",
                    baseline_value=TARGET_ACK_P99_MS,
                    ratio=p99 / TARGET_ACK_P99_MS,
                    note="target < 100 ms at 200 req/s",
                ),
                Measurement(
                    name=f"triage_{label}_post_rate",
                    value=len(bodies) / span if span else 0,
                    unit="req/s",
                    note=note,
                ),
                Measurement(
                    name=f"triage_{label}_end_to_end",
                    value=(rate_e2e := unique / (done_at - posted["first"])),
                    unit="applications/s",
                    baseline="target_applications_per_s",
                    baseline_value=TARGET_APPS_PER_S,
                    ratio=rate_e2e / TARGET_APPS_PER_S,
                    note="target >= 10 on 2 cores",
                ),
                Measurement(name=f"triage_{label}_drain", value=done_at - posted["last"], unit="s"),
                Measurement(name=f"triage_{label}_lost_events", value=lost, unit="events"),
                Measurement(name=f"triage_{label}_dead_events", value=dead, unit="events"),
                Measurement(name=f"triage_{label}_duplicate_writes", value=duplicates, unit="writes"),
                Measurement(
                    name=f"triage_{label}_applications_without_write",
                    value=len(unwritten),
                    unit="applications",
                    note="applications whose AI fields never reached iCIMS (should be 0)",
                ),
                Measurement(
                    name=f"triage_{label}_requests_per_application", value=requests / unique, unit="requests"
                ),
            ]
        finally:
            run.stop()


def bench(
    events: int = 5000, rate: float = 200.0, kill: bool = True, people: int = 1500
) -> list[Measurement]:
    results = run_once(events, rate, kill=False, people=people)
    if kill:
        killed = run_once(events, rate, kill=True, people=people)
        # What a worker crash costs, against the steady run measured just before.
        steady = {m.name.split("_", 2)[2]: m for m in results}
        for m in killed:
            key = m.name.split("_", 2)[2]
            if key == "end_to_end" and key in steady:
                m.baseline, m.baseline_value = steady[key].name, steady[key].value
                m.ratio = m.value / steady[key].value if steady[key].value else None
        results += killed
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--people", type=int, default=1500)
    parser.add_argument("--no-kill", action="store_true")
    args = parser.parse_args()
    results = bench(args.events, args.rate, kill=not args.no_kill, people=args.people)
    print_results("Triage: event intake, queue and worker", results)
    write_results(RESULTS, results)


if __name__ == "__main__":
    main()
