"""Local mirror of iCIMS: `MirrorStore` (SQLAlchemy tables and queries) and `MirrorSync` (the
quota-aware incremental sync that fills it)."""

from tools.mirror.store import MirrorRecord, MirrorStore, PersonWithResume, mirror_fingerprint
from tools.mirror.sync import PROJECTION, MirrorSync, SyncReport

__all__ = [
    "PROJECTION",
    "MirrorRecord",
    "MirrorStore",
    "MirrorSync",
    "PersonWithResume",
    "SyncReport",
    "mirror_fingerprint",
]
