"""Audit trail and idempotency for approval-gated writes.

`AuditLog`: append-only, hash-chained records of what an agent decided and wrote (DESIGN.md "Trust").
`IdempotencyLedger`: per (thread, candidate, action) progress of a write, so a resumed or repeated run
never writes twice. Both live in one SQLite file in `settings.data_dir` by default (any SQLAlchemy URL).
"""

from tools.audit.ledger import IdempotencyLedger, LedgerEntry, LedgerState
from tools.audit.log import (
    GENESIS_HASH,
    AuditLog,
    AuditRecord,
    ChainReport,
    audit_database_url,
    canonical_json,
    value_hash,
)

__all__ = [
    "GENESIS_HASH",
    "AuditLog",
    "AuditRecord",
    "ChainReport",
    "IdempotencyLedger",
    "LedgerEntry",
    "LedgerState",
    "audit_database_url",
    "canonical_json",
    "value_hash",
]
