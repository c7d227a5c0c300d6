"""The run's dense vectors go into the vector index the settings choose: in-process by default, or a
Pinecone namespace of the run's own (here: the loopback fake data plane of test_vectors_pinecone),
held with a TTL while the run waits for approval and dropped by the purge node."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from support.fake_pinecone import API_KEY, FakeDataPlane

from graphs.rediscovery import RediscoveryDeps, build_graph, resume_run, run_namespace, start_run
from sandbox.server import ServerThread
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings
from tools.icims.client import ICIMSClient
from tools.mirror import MirrorStore, MirrorSync
from tools.vectors import EXPIRES_KEY
from tools.vectors.pinecone_index import NO_EXPIRY

pytestmark = pytest.mark.integration

OPEN = "D31001"


@pytest.fixture
def plane() -> Iterator[tuple[FakeDataPlane, str]]:
    fake = FakeDataPlane()
    with ServerThread(fake.app()) as server:
        yield fake, server.url


def _sync(settings: Any, store: MirrorStore) -> None:
    async def run() -> None:
        async with ICIMSClient.from_settings(settings) as client:
            await MirrorSync(store, client, progress=False).run(full=True)

    asyncio.run(run())


def _setup(sandbox_factory, tmp_path, **overrides: Any) -> tuple[Any, MirrorStore, int]:
    box = sandbox_factory(people=30, seed=7)
    settings = box.settings(data_dir=str(tmp_path / "state"), **overrides)
    store = MirrorStore(settings.mirror_database_url)
    _sync(settings, store)
    job = next(r.id for r in store.iter_records("jobs") if (r.data.get("folder") or {}).get("id") == OPEN)
    return settings, store, job


def test_memory_backend_by_default(sandbox_factory, tmp_path):
    settings, store, job = _setup(sandbox_factory, tmp_path)
    assert settings.vector_backend == "memory"
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    try:
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            run = start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3)
            trace = run.values["run"]["trace_id"]
            info = run.values["retrieval"]["vector_index"]
            assert info["backend"] == "memory" and info["vectors"] > 0
            index, ids = deps._run_indexes[trace]
            assert len(index) == info["vectors"] == sum(len(v) for v in ids.values())
            assert index.default_ttl_seconds == deps.vector_cache.ttl_seconds

            values = resume_run(graph, run.thread_id, {"type": "ignore", "args": None})
            assert values["purge_report"]["vector_index"]["dropped"]
            assert trace not in deps._run_indexes and len(index) == 0
    finally:
        deps.close()


@pytest.mark.parametrize("resume_with_fresh_deps", [False, True])
def test_pinecone_backend_one_namespace_per_run_dropped_at_purge(
    sandbox_factory, tmp_path, plane, resume_with_fresh_deps
):
    fake, url = plane
    settings, store, job = _setup(
        sandbox_factory,
        tmp_path,
        vector_backend="pinecone",
        pinecone_index_host=url,
        pinecone_api_key=API_KEY,
    )
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    other = None
    try:
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            run = start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3)
            trace = run.values["run"]["trace_id"]
            namespace = run_namespace(trace)
            info = run.values["retrieval"]["vector_index"]
            assert info == {"backend": "pinecone", "namespace": namespace, "vectors": info["vectors"]}

            # While the run waits for approval, its vectors sit in its own namespace, with a TTL.
            assert set(fake.namespaces) == {namespace}
            stored = fake.namespaces[namespace]
            assert len(stored) == info["vectors"] > 0
            retrieved = {str(r["person_id"]) for r in run.values["retrieved"]}
            for vid, (_values, metadata) in stored.items():
                assert vid.split(":")[0] == metadata["person_id"] and metadata["person_id"] in retrieved
                assert metadata[EXPIRES_KEY] < NO_EXPIRY  # expires (the cache's TTL), not kept for ever
            assert all(body["namespace"] == namespace for kind, body in fake.requests if kind == "upsert")

            if resume_with_fresh_deps:
                # As another process would: no index held in memory, the namespace is in the state.
                other = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
                graph = build_graph(saver, deps=other)
            values = resume_run(graph, run.thread_id, {"type": "ignore", "args": None})

        report = values["purge_report"]["vector_index"]
        assert report == {"backend": "pinecone", "namespace": namespace, "dropped": True}
        assert fake.namespaces == {}  # the run's namespace is gone
        assert fake.requests[-1] == ("delete", {"deleteAll": True, "namespace": namespace})
    finally:
        deps.close()
        if other is not None:
            other.close()


def test_pinecone_backend_needs_a_host(tmp_path):
    from tools.settings import Settings

    settings = Settings(_env_file=None, data_dir=tmp_path, vector_backend="pinecone", pinecone_api_key="k")
    store = MirrorStore(f"sqlite:///{tmp_path}/m.sqlite")
    try:
        with pytest.raises(ValueError, match="PINECONE_INDEX_HOST"):
            RediscoveryDeps.from_settings(settings, mirror=store)
    finally:
        store.close()
