"""The ranker index of the mirror's candidates is built once per process and reused by later runs
while the mirror is unchanged; a sync that changes the mirror makes the next run rebuild it. Per-run
exclusions are applied at rank time (`HybridRanker.rank(..., allowed=...)`)."""

from __future__ import annotations

import pytest
from test_rediscovery_vectors import _setup, _sync

from agents.ranking import HybridRanker
from agents.ranking.models import CandidateDoc, RankQuery
from graphs.rediscovery import RediscoveryDeps, build_graph, start_run
from tools.checkpoint import open_checkpointer
from tools.embeddings import HashEmbeddings


def test_rank_allowed_restricts_results():
    docs = [CandidateDoc(str(i), f"registered nurse {i} patient care hospital", "Nurse") for i in range(6)]
    ranker = HybridRanker(embeddings=HashEmbeddings())
    ranker.index(docs)
    query = RankQuery("q", "Registered Nurse", "patient care")
    assert {h.candidate_id for h in ranker.rank(query, 10)} == {d.candidate_id for d in docs}
    hits = ranker.rank(query, 10, allowed={"1", "4", "unknown"})
    assert {h.candidate_id for h in hits} == {"1", "4"}
    assert ranker.rank(query, 10, allowed=set()) == []
    assert ranker.index_builds == 1


@pytest.mark.integration
def test_index_reused_until_the_mirror_changes(sandbox_factory, tmp_path):
    settings, store, job = _setup(sandbox_factory, tmp_path)
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    try:
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            first = start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3)
            assert first.values["retrieved"]
            assert deps.index_builds == 1
            ranker = deps._pool.ranker
            second = start_run(
                graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3, restart=True
            )
            assert deps.index_builds == 1 and deps._pool.ranker is ranker and ranker.index_builds == 1
            assert second.values["retrieval"]["indexed"] == first.values["retrieval"]["indexed"]
            # The shared index outlives the runs' purges.
            assert len(ranker) > 0

            _sync(settings, store)  # a new sync run: the mirror's state changed
            start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3, restart=True)
            assert deps.index_builds == 2
    finally:
        deps.close()


@pytest.mark.integration
def test_pool_prepared_off_the_request_path(sandbox_factory, tmp_path):
    """The service's warmer builds the index before any run asks for it, and again only after the
    mirror changed; a run then finds it ready (no build of its own)."""
    from server.pool_warmer import PoolWarmer

    settings, store, job = _setup(sandbox_factory, tmp_path)
    deps = RediscoveryDeps.from_settings(settings, mirror=store, embeddings=HashEmbeddings())
    try:
        warmer = PoolWarmer(deps, interval_seconds=0).start()  # one pass, then the thread ends
        warmer.stop()
        assert warmer.builds == 1 and deps.index_builds == 1
        assert deps.prepare_pool()["rebuilt"] is False  # mirror unchanged: nothing to do
        with open_checkpointer(settings) as saver:
            graph = build_graph(saver, deps=deps)
            run = start_run(graph, job_id=job, customer_id=settings.icims_customer_id, top_k=3)
            assert run.values["retrieved"] and deps.index_builds == 1
        _sync(settings, store)
        report = deps.prepare_pool()
        assert report["rebuilt"] is True and report["documents"] > 0 and deps.index_builds == 2
    finally:
        deps.close()
