"""Late-bound graph dependencies: every graph module exports a compiled `graph` for langgraph.json,
which must import and compile with nothing configured. `LazyDeps` holds the dependencies a caller
passed, or builds them from the environment's settings on the first node run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from langchain_core.runnables import RunnableConfig

D = TypeVar("D")


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
