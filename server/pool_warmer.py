"""Keeps rediscovery's candidate index ready off the request path.

Indexing every mirrored resume (reading them and building the BM25 indexes) takes about 30 s at 100k
people. The rediscovery deps rebuild that index whenever the mirror changed; without this thread the
first run after a start or a sync would pay for it. `PoolWarmer` builds it at service start and then
checks the mirror's state token every `interval` seconds, so a sync done by another process
(`icims-agents sync`, a scheduled job) is indexed in the background too. A run that arrives during a
rebuild waits for it (the deps' pool lock) and so never ranks against a pool older than its mirror.
"""

from __future__ import annotations

import threading
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class PoolWarmer:
    def __init__(self, deps: Any, *, interval_seconds: float) -> None:
        self.deps = deps
        self.interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="rediscovery-pool-warmer", daemon=True)
        self.builds = 0

    def start(self) -> PoolWarmer:
        self._thread.start()
        return self

    def _loop(self) -> None:
        # The first build always happens (even if `stop` came first): it is what a start promises.
        while True:
            self._build()
            if self.interval <= 0 or self._stop.wait(self.interval):
                return

    def _build(self) -> None:
        try:
            report = self.deps.prepare_pool()
        except Exception:  # a failing mirror must not kill the thread; runs surface the error
            log.exception("rediscovery_pool_build_failed")
            return
        if report["rebuilt"]:
            self.builds += 1
            log.info("rediscovery_pool_built", documents=report["documents"], seconds=report["seconds"])

    def stop(self, timeout: float | None = 60.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
