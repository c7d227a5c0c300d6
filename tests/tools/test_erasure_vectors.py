"""Erasure reaches the vectors: when the mirror sync erases a person, the registered erasure hooks run,
and the rediscovery dependencies drop that person's cached embeddings and run-index vectors."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from graphs.rediscovery import RediscoveryDeps, build_graph, start_run
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync
from tools.mirror.sync import register_erasure_hook, registered_erasure_hooks

pytestmark = pytest.mark.integration

OPEN = "D31001"


class CountingEmbeddings(HashEmbeddings):
    """Counts texts embedded, to tell a cache hit from a re-embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.embedded = 0

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return super().embed_documents(texts)


def admin(box: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    response = httpx.request(method, f"{box.url}/_sandbox{path}", json=body, timeout=10)
    response.raise_for_status()
    return response.json() if response.content else None


def sync(settings: Any, store: MirrorStore, *, full: bool = False, **options: Any) -> Any:
    async def run() -> Any:
        async with ICIMSClient.from_settings(settings) as client:
            return await MirrorSync(store, client, progress=False, **options).run(full=full)

    return asyncio.run(run())


@pytest.mark.parametrize("wiring", ["registered", "on_erase"])
def test_erased_person_loses_cached_and_indexed_vectors(sandbox_factory, tmp_path, wiring):
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    store = MirrorStore(settings.mirror_database_url)
    sync(settings, store, full=True)
    embeddings = CountingEmbeddings()
    deps = RediscoveryDeps.from_settings(
        settings, mirror=store, embeddings=embeddings, register_erasure=wiring == "registered"
    )
    cache = deps.vector_cache
    try:
        # A run waiting for approval holds its retrieved candidates' vectors in its run index.
        job = next(r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN)
        with open_checkpointer(settings) as saver:
            run = start_run(
                build_graph(saver, deps=deps), job_id=job, customer_id=settings.icims_customer_id, top_k=3
            )
        index, vector_ids = deps._run_indexes[run.values["run"]["trace_id"]]
        person = int(next(iter(vector_ids)))
        their_ids = list(vector_ids[str(person)])
        assert all(vid in index for vid in their_ids)

        # And their text embedded into the shared cache, owned by them.
        text = store.resume_text(person)
        assert text
        cache.get_or_embed([text], embeddings, owners=[str(person)])
        before = embeddings.embedded
        cache.get_or_embed([text], embeddings)
        assert embeddings.embedded == before  # cached
        size = len(cache)

        admin(box, "POST", f"/people/{person}/erase")
        admin(box, "POST", "/clock", {"advance_seconds": 120})
        hooks = {"on_erase": deps.forget_person} if wiring == "on_erase" else {}
        report = sync(settings, store, **hooks)  # incremental
        assert report.erased == 1 and report.erase_hook_errors == 0
        assert store.is_erased(person)

        # Their vectors are gone from the run index, and their cached embeddings from the cache.
        assert not any(vid in index for vid in their_ids)
        assert str(person) not in deps._run_indexes[run.values["run"]["trace_id"]][1]
        assert len(cache) < size
        cache.get_or_embed([text], embeddings)
        assert embeddings.embedded == before + 1  # not cached any more: embedded again
    finally:
        deps.close()
    assert deps.forget_person not in registered_erasure_hooks()


def test_hooks_run_once_per_erasure_and_failures_do_not_stop_the_sync(sandbox_factory, tmp_path):
    box = sandbox_factory(people=20, seed=5)
    settings = box.settings(data_dir=str(tmp_path / "state"))
    store = MirrorStore(settings.mirror_database_url)
    sync(settings, store, full=True)
    people = sorted(store.ids("people"))
    seen: list[int] = []
    registered: list[int] = []

    def broken(person_id: int) -> None:
        raise RuntimeError("index unreachable")

    unregister = register_erasure_hook(registered.append)
    try:
        admin(box, "POST", f"/people/{people[0]}/erase")
        admin(box, "POST", "/clock", {"advance_seconds": 120})
        report = sync(settings, store, on_erase=[broken, seen.append])
        assert report.erased == 1 and report.erase_hook_errors == 1
        # A full pass that reconciles a person deleted from iCIMS erases them too; the one already
        # erased is not reported again.
        box.state.tenant.delete("people", people[1])
        report = sync(settings, store, full=True, on_erase=seen.append)
        assert report.erased == 1
    finally:
        unregister()
    assert seen == [people[0], people[1]]
    assert registered == [people[0], people[1]]
    assert registered.append not in registered_erasure_hooks()
