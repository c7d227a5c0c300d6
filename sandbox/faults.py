"""Fault injection: random 429s and 5xx from a seeded RNG, added latency, forced token expiry."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

from sandbox.config import FaultConfig
from sandbox.errors import INTERNAL_ERROR, RATE_LIMITED


@dataclass
class Fault:
    status: int
    code: int
    message: str
    headers: dict[str, str]


@dataclass
class FaultInjector:
    """Draws from its own RNG so a seeded run faults the same requests every time."""

    config: FaultConfig
    rng: random.Random = field(init=False)
    lock: threading.Lock = field(default_factory=threading.Lock)
    injected: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.config.seed)

    def update(self, changes: dict[str, Any]) -> FaultConfig:
        """Apply a partial update in place (the state and tests hold this same FaultConfig object)."""
        merged = FaultConfig.model_validate({**self.config.model_dump(), **changes})
        for name in FaultConfig.model_fields:
            setattr(self.config, name, getattr(merged, name))
        if "seed" in changes:
            with self.lock:
                self.rng = random.Random(self.config.seed)
        return self.config

    def draw(self) -> Fault | None:
        rate_429, rate_5xx = self.config.rate_429, self.config.rate_5xx
        if rate_429 <= 0 and rate_5xx <= 0:
            return None
        with self.lock:
            roll = self.rng.random()
            pick_503 = self.rng.random() < 0.5
        if roll < rate_429:
            fault = Fault(
                429,
                RATE_LIMITED,
                "Too many requests; retry later.",
                {"Retry-After": str(self.config.retry_after_seconds)},
            )
        elif roll < rate_429 + rate_5xx:
            if pick_503:
                fault = Fault(503, INTERNAL_ERROR, "Service temporarily unavailable.", {})
            else:
                fault = Fault(500, INTERNAL_ERROR, "An internal error occurred.", {})
        else:
            return None
        with self.lock:
            self.injected[fault.status] = self.injected.get(fault.status, 0) + 1
        return fault
