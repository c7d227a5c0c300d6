"""Nurture bench: selection over a 10k-member talent pool, then drafting a run's batch (ranker match
to the open requisitions, rubric score, template, moderation), with time and memory.

The tenant is seeded (12k people, seed 7) and one extra pool gets the first 10,000 candidates as
members; the mirror is written as a full sync leaves it (`evals.mirror_fixture`). Selection applies
every rule to all 10k members (measured cold, then warm as the median of three); drafting covers
`--drafts` selected people (a campaign's `max_per_run`) with the packaged MiniLM encoder, or
`HashEmbeddings` with `--hash`. The whole bench runs in a child process so its peak RSS is its own.

    python -m evals.bench_nurture [--members 10000] [--drafts 200] [--hash]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from evals.results import Measurement, print_results

SEED = 7
AS_OF = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # a Tuesday, 10:00 in New York
ALWAYS_OPEN = {
    "start": "00:00",
    "end": "00:00",
    "working_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
}


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _log(message: str) -> None:
    print(f"  [nurture bench] {message}", file=sys.stderr, flush=True)


def run_child(members: int, drafts: int, use_hash: bool, work: Path, out: Path) -> None:
    from agents.nurture.matching import open_jobs, personalise
    from agents.nurture.models import Campaign
    from agents.nurture.selection import select_members
    from evals.mirror_fixture import write_mirror
    from graphs.nurture import NurtureDeps, draft_for
    from sandbox.seed import seed_tenant
    from sandbox.store import Tenant
    from tools.mirror import MirrorStore
    from tools.settings import Settings

    started = time.perf_counter()
    tenant = Tenant(1000, clock=lambda: AS_OF)
    seed_tenant(tenant, people=int(members * 1.2), seed=SEED, now=AS_OF)
    candidates = sorted(
        pid for pid, r in tenant.records["people"].items() if r.data["folder"]["id"] in ("D32006", "D32007")
    )[:members]
    pool = tenant.add(
        "talentpools", {"title": "Bench pool", "folder": {"id": "D37002024001", "value": "Active"}}
    )
    for pid in candidates:
        tenant.add(
            "sourceworkflows",
            {
                "baseprofile": pool,
                "associatedprofile": pid,
                "status": {"id": "D37002021001", "value": "Needs Review"},
            },
        )
    settings = Settings(_env_file=None, data_dir=work)
    store = MirrorStore(settings.mirror_database_url)
    write_mirror(tenant, store, now=AS_OF)
    build_s = time.perf_counter() - started
    _log(f"tenant and mirror ready in {build_s:.1f} s ({len(candidates):,} pool members)")

    embeddings = None
    if use_hash:
        from tools.embeddings import HashEmbeddings

        embeddings = HashEmbeddings()
    deps = NurtureDeps.from_settings(settings, mirror=store, embeddings=embeddings, clock=lambda: AS_OF)
    campaign = Campaign.model_validate(
        {
            "id": "bench",
            "name": "Bench",
            "target": {"pool_ids": [pool]},
            "steps": [{"day": 0, "template": "intro.v1"}],
            "caps": {"max_per_run": drafts},
            "quiet_hours": ALWAYS_OPEN,
        }
    )

    def select() -> Any:
        return select_members(
            campaign,
            now=AS_OF,
            mirror=store,
            contacts=deps.store.contacts(),
            stops=deps.store.stop_map(),
            field_map=settings.field_map,
            caps=deps.global_caps(),
        )

    t0 = time.perf_counter()
    selection = select()
    cold = time.perf_counter() - t0
    warm = []
    for _ in range(3):
        t0 = time.perf_counter()
        select()
        warm.append(time.perf_counter() - t0)
    # Memory on a separate run: tracemalloc slows the code it watches.
    tracemalloc.start()
    select()
    _, select_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    _log(f"selection: {cold:.2f} s cold, {statistics.median(warm):.2f} s warm; {selection.summary()}")

    t0 = time.perf_counter()
    index = open_jobs(deps.ranking)
    index_s = time.perf_counter() - t0
    made, held = [], 0
    t0 = time.perf_counter()
    for item in selection.selected:
        person = store.get_data("people", item.person_id) or {}
        role, skills = personalise(deps.ranking, item.person_id, person, index)
        draft = draft_for(deps, campaign, {**item.to_json(), "first_name": item.first_name}, role, skills)
        made.append(draft)
        held += bool(draft.moderation["held"])
    drafting = time.perf_counter() - t0
    _log(f"drafting: {len(made)} drafts in {drafting:.1f} s (+{index_s:.2f} s job index)")
    result = {
        "members": selection.members,
        "selected": len(selection.selected),
        "excluded": selection.summary()["excluded"],
        "build_s": build_s,
        "select_cold_s": cold,
        "select_warm_s": statistics.median(warm),
        "select_peak_mb": select_peak / 2**20,
        "open_jobs": len(index.jobs),
        "index_s": index_s,
        "drafts": len(made),
        "held": held,
        "with_role": sum(1 for d in made if d.role is not None),
        "drafting_s": drafting,
        "embeddings": "hash"
        if use_hash
        else getattr(deps.ranking.ranker_factory().embeddings, "model_id", "minilm"),
        "peak_rss_mb": _peak_rss_mb(),
    }
    deps.close()
    store.close()
    out.write_text(json.dumps(result))


def measurements(r: dict[str, Any]) -> list[Measurement]:
    excluded = ", ".join(f"{k} {v:,}" for k, v in r["excluded"].items())
    per_draft = r["drafting_s"] / r["drafts"] if r["drafts"] else 0.0
    return [
        Measurement(
            name="nurture_10k_select_s",
            value=r["select_warm_s"],
            unit="s",
            baseline="cold",
            baseline_value=r["select_cold_s"],
            ratio=r["select_warm_s"] / r["select_cold_s"] if r["select_cold_s"] else None,
            note=f"{r['members']:,} members, {r['selected']:,} selected (batch limit applies after every "
            f"rule); excluded: {excluded}; median of 3 warm runs",
        ),
        Measurement(
            name="nurture_10k_select_peak_mb",
            value=r["select_peak_mb"],
            unit="MB",
            note="Python allocations during one selection (tracemalloc)",
        ),
        Measurement(
            name="nurture_draft_ms_per_message",
            value=per_draft * 1000,
            unit="ms",
            note=f"{r['drafts']} drafts in {r['drafting_s']:.1f} s ({r['with_role']} naming a matched role, "
            f"{r['held']} held by moderation) against {r['open_jobs']} open jobs indexed in "
            f"{r['index_s']:.2f} s; embeddings {r['embeddings']}",
        ),
        Measurement(
            name="nurture_bench_peak_rss_mb", value=r["peak_rss_mb"], unit="MB", note="bench process"
        ),
        Measurement(
            name="nurture_fixture_build_s",
            value=r["build_s"],
            unit="s",
            note="seed + extra pool + mirror write (not part of a run)",
        ),
    ]


def bench(members: int = 10_000, drafts: int = 200, use_hash: bool = False) -> list[Measurement]:
    with tempfile.TemporaryDirectory(prefix="bench-nurture-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "evals.bench_nurture", "_run", "--members", str(members)]
        cmd += ["--drafts", str(drafts), "--work", tmp, "--out", str(out)] + (["--hash"] if use_hash else [])
        subprocess.run(cmd, check=True)
        return measurements(json.loads(out.read_text()))


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m evals.bench_nurture")
    parser.add_argument("command", nargs="?", choices=["_run"])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--drafts", type=int, default=200)
    parser.add_argument("--hash", action="store_true", help="HashEmbeddings instead of MiniLM")
    parser.add_argument("--work", type=Path)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.command == "_run":
        run_child(args.members, args.drafts, args.hash, args.work, args.out)
    else:
        print_results("Nurture (selection + drafting, offline)", bench(args.members, args.drafts, args.hash))


if __name__ == "__main__":
    main()
