"""`make bench`: mirror sync throughput against the sandbox at 1k and 10k people, then rediscovery
latency (`evals/bench_rediscovery.py`), triage event throughput (`evals/bench_triage.py`) and nurture
selection and drafting (`evals/bench_nurture.py`); each part also runs alone as `python -m evals.<module>`.

The sandbox runs in its own process (as a real tenant would be remote) so the two cores are split
between server and client. The baseline, measured in the same run, is the same full sync with the
client limited to one request in flight: the ratio shows what bounded concurrency buys.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from evals.results import Measurement, print_results, write_results
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync
from tools.settings import Settings

RESULTS = Path("results/bench.json")


class SandboxProcess:
    def __init__(self, people: int, seed: int, workdir: Path):
        self.env_file = workdir / f"sandbox-{people}.env"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.cli",
                "sandbox",
                "--port",
                "0",
                "--people",
                str(people),
                "--seed",
                str(seed),
                "--daily-limit",
                "10000000",
                "--env-file",
                str(self.env_file),
            ],
            stderr=subprocess.PIPE,
            text=True,
        )
        # The CLI prints this line after binding its socket, so reading it is the readiness signal.
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if line.startswith("iCIMS sandbox on"):
                break
        else:
            raise RuntimeError("sandbox process exited before serving")

    def settings(self, data_dir: Path, **overrides) -> Settings:
        return Settings(_env_file=self.env_file, data_dir=data_dir, **overrides)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


async def _full_sync(settings: Settings) -> tuple[float, int, int]:
    store = MirrorStore(settings.mirror_database_url)
    async with ICIMSClient.from_settings(settings) as client:
        started = time.perf_counter()
        report = await MirrorSync(store, client, progress=False).run(full=True)
        seconds = time.perf_counter() - started
    return seconds, report.records.get("people", 0), report.requests


def bench() -> list[Measurement]:
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for people in (1_000, 10_000):
            sandbox = SandboxProcess(people, seed=7, workdir=work)
            try:
                if people == 1_000:
                    seconds, synced, requests = asyncio.run(
                        _full_sync(sandbox.settings(work / "seq", icims_max_concurrency=1))
                    )
                    baseline_rate = synced / seconds
                    results.append(
                        Measurement(
                            name="sync_1k_sequential_people_per_s",
                            value=baseline_rate,
                            unit="people/s",
                            note=f"{requests:,} requests in {seconds:.1f} s, one request in flight",
                        )
                    )
                seconds, synced, requests = asyncio.run(_full_sync(sandbox.settings(work / f"c{people}")))
                rate = synced / seconds
                results.append(
                    Measurement(
                        name=f"sync_{people // 1000}k_people_per_s",
                        value=rate,
                        unit="people/s",
                        baseline="sync_1k_sequential_people_per_s",
                        baseline_value=baseline_rate,
                        ratio=rate / baseline_rate,
                        note=f"{requests:,} requests in {seconds:.1f} s ({requests / seconds:,.0f} req/s)",
                    )
                )
                results.append(
                    Measurement(
                        name=f"sync_{people // 1000}k_requests_per_person",
                        value=requests / synced,
                        unit="requests/person",
                        note="includes jobs, workflows, pools and search pages",
                    )
                )
            finally:
                sandbox.stop()
    return results


def main() -> None:
    from evals.bench_nurture import bench as bench_nurture
    from evals.bench_rediscovery import bench as bench_rediscovery
    from evals.bench_triage import bench as bench_triage

    results = bench()
    print_results("Mirror sync against the sandbox (separate process, loopback)", results)
    write_results(RESULTS, results)  # kept if the rediscovery part fails
    rediscovery = bench_rediscovery()
    print_results("Rediscovery: the graph up to the approval interrupt, offline mirror fixture", rediscovery)
    results += rediscovery
    write_results(RESULTS, results)
    triage = bench_triage()
    print_results("Triage: event intake, queue and worker against the sandbox", triage)
    results += triage
    write_results(RESULTS, results)
    nurture = bench_nurture()
    print_results("Nurture: selection and drafting for a 10k-member pool", nurture)
    results += nurture
    write_results(RESULTS, results)
    print(f"\nwritten to {RESULTS}")


if __name__ == "__main__":
    main()
