"""The machinery every workflow graph shares (docs/ARCHITECTURE.md "The graph kit").

- `threads`: `ThreadKey(prefix)(customer, *key)`, which thread a run lives on.
- `runs`: `run_config`, the run-start record, `start / resume / proceed / finish` (one return shape).
- `inbox`: the Agent Inbox interrupt schema, reply parsing, pending approvals from the checkpointer.
- `review`: `reviewed(...)`, the approval step and its one decision record.
- `write`: the write step: ledger guard, read-compare-write, write-through to the mirror.
- `audit`: the audit append.
- `resources`: what deps are opened from, closed by whoever opened them.
- `nodes`: `LazyDeps` (a graph importable with nothing configured) and `run_async`.
- `kind`: `GraphKind`, a graph's declaration for the service, the worker and the inbox.

Imports only `tools/` (and LangGraph).
"""
