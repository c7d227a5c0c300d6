"""Structured logging (structlog) shared by the CLI, the server and workers.

Log lines carry ids, counts and timings only; never names, emails or resume text.
"""

from __future__ import annotations

import logging
import sys

import structlog


class _CurrentStderr:
    """Whatever `sys.stderr` is when a line is written, not when logging was configured: a CLI run
    inside a test runner swaps stderr for a buffer it later closes, and a logger holding that buffer
    would fail every later line with "I/O operation on closed file"."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    logging.basicConfig(stream=_CurrentStderr(), level=level.upper(), format="%(message)s", force=True)
    # httpx logs every request URL at INFO; that is noise at sync volumes.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # WeasyPrint logs each rendering step ("Step 5 - Creating layout") at INFO: noise for every caller.
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
    # huey logs two lines per task at INFO; the worker logs each event's outcome itself.
    logging.getLogger("huey").setLevel(logging.WARNING)
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_CurrentStderr()),
        cache_logger_on_first_use=False,
    )


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
