"""The state keys the kit reads and writes, which every graph's state schema extends: a graph adds
its own keys; it does not redefine these."""

from __future__ import annotations

from typing import Any

from typing_extensions import TypedDict


class KitState(TypedDict, total=False):
    run: dict[str, Any]  # graphs.kit.runs.run_record: thread, trace, version, input hash, start
    approval: dict[str, Any]  # graphs.kit.review's decision record (a reviewer's or a policy's)
    approval_error: str | None  # why the last answer was refused (the inbox shows it as a banner)
    writes: list[dict[str, Any]]  # what the write step did, one entry per write


class KitOutput(TypedDict, total=False):
    run: dict[str, Any]
    approval: dict[str, Any]
    writes: list[dict[str, Any]]
