"""What the graphs' node functions share.

`LazyDeps`: every graph module exports a compiled `graph` for langgraph.json, which must import and
compile with nothing configured; it holds the dependencies a caller passed, or builds them from the
environment's settings on the first node run. `run_async`: the async iCIMS client from sync nodes."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from langchain_core.runnables import RunnableConfig

D = TypeVar("D")
T = TypeVar("T")


class LazyDeps(Generic[D]):
    def __init__(self, from_settings: Callable[[Any], D], deps: D | None = None) -> None:
        self._from_settings = from_settings
        self._deps = deps
        self._lock = threading.Lock()

    def get(self) -> D:
        with self._lock:
            if self._deps is None:
                from tools.settings import get_settings

                self._deps = self._from_settings(get_settings())
            return self._deps

    def node(self, fn: Callable[[D, Any, RunnableConfig], Any]) -> Callable[[Any, RunnableConfig], Any]:
        """A node function `fn(deps, state, config)` as LangGraph calls it: `(state, config)`."""

        def run(state: Any, config: RunnableConfig) -> Any:
            return fn(self.get(), state, config)

        return run


def run_async(factory: Callable[[], Awaitable[T]]) -> T:
    """Run async client code from a sync node. LangGraph runs sync nodes in worker threads under
    `ainvoke`, where a fresh event loop is fine; if this thread already runs a loop, use another."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(factory())  # type: ignore[arg-type]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()  # type: ignore[arg-type]
