"""Hybrid ranker on a small synthetic pool: ordering, RRF math, the dense prefilter and vector reuse."""

from __future__ import annotations

import pytest

from agents.ranking import (
    CandidateDoc,
    FusionWeights,
    HybridRanker,
    RankQuery,
    match_title,
    occupation_similarity,
    ranks_of,
    rrf,
)
from agents.ranking.text import clean_query_title, headline, word_windows
from tools.embeddings import HashEmbeddings
from tools.vectors import EmbeddingCache


class CountingEmbeddings(HashEmbeddings):
    """Word-hash vectors that remember every text they were asked to embed."""

    def __init__(self) -> None:
        super().__init__(64)
        self.seen: list[str] = []

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        self.seen.extend(texts)
        return super().embed_documents(texts)

    def embed_query(self, text: str) -> list[float]:
        self.seen.append(text)
        return super().embed_query(text)


POOL = [
    CandidateDoc(
        "nurse",
        "REGISTERED NURSE\nSummary\nRegistered nurse with eight years of acute care, patient assessment, "
        "medication administration and charge nurse duties on a busy medical surgical unit.",
    ),
    CandidateDoc(
        "python",
        "Built Python ETL pipelines and REST APIs with Django and PostgreSQL; code reviews, unit tests, "
        "continuous integration, Docker deployments to AWS.",
        title="SOFTWARE ENGINEER",
    ),
    CandidateDoc(
        "accountant",
        "STAFF ACCOUNTANT\nGeneral ledger, month-end close, account reconciliations, accounts payable, "
        "QuickBooks and Excel, supported the external audit.",
    ),
    CandidateDoc(
        "chef",
        "EXECUTIVE CHEF\nMenu development, kitchen staff supervision, food cost control, banquet "
        "service for three hundred guests, food safety certification.",
    ),
    CandidateDoc(
        "recruiter",
        "RECRUITER\nFull-cycle technical recruiting, sourcing engineers on LinkedIn, phone screens, "
        "offer negotiation and onboarding with hiring managers.",
    ),
    CandidateDoc(
        "teacher",
        "TEACHER\nMiddle school history teacher: lesson plans, classroom management, parent "
        "conferences and state curriculum standards.",
    ),
]


def test_obviously_matching_doc_ranks_first() -> None:
    ranker = HybridRanker(CountingEmbeddings())
    ranker.index(POOL)
    cases = {
        "python": RankQuery("q1", "Python Software Engineer (Remote)", "Python, Django, PostgreSQL, AWS."),
        "nurse": RankQuery("q2", "Registered Nurse (RN-CA02-007)", "Acute care nursing, patient care."),
        "chef": RankQuery("q3", "Executive Chef", "Lead our kitchen: menus, staff, food cost."),
        "accountant": RankQuery("q4", "Staff Accountant", "General ledger, reconciliations, month-end."),
    }
    for expected, query in cases.items():
        ranked = ranker.rank(query, top_k=3)
        assert ranked[0].candidate_id == expected, (query.title, ranked)
        assert ranked[0].score > ranked[1].score


def test_results_carry_components_and_respect_top_k() -> None:
    ranker = HybridRanker(CountingEmbeddings())
    ranker.index(POOL)
    ranked = ranker.rank(RankQuery("q", "Recruiter", "Technical recruiting and sourcing."), top_k=4)
    assert len(ranked) == 4
    assert len({r.candidate_id for r in ranked}) == 4
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    top = ranked[0]
    assert top.candidate_id == "recruiter"
    for key in ("bm25", "dense", "title_dense", "occupation", "structured", "bm25_rank", "dense_rank"):
        assert key in top.components
    assert top.components["occupation"] > 0  # "Recruiter" -> Human Resources Specialists on both sides


def test_top_k_beyond_the_candidate_set_appends_the_rest_below_every_candidate() -> None:
    ranker = HybridRanker(CountingEmbeddings(), prefilter=2)
    ranker.index(POOL)
    ranked = ranker.rank(RankQuery("q", "Executive Chef", "kitchen menus"), top_k=len(POOL))
    assert len(ranked) == len(POOL)
    candidates = [r for r in ranked if "prefiltered_out" not in r.components]
    rest = [r for r in ranked if "prefiltered_out" in r.components]
    assert 1 <= len(candidates) <= 2 and rest
    assert min(r.score for r in candidates) > max(r.score for r in rest)
    assert ranked[0].candidate_id == "chef"


def test_empty_pool_and_zero_top_k_return_nothing() -> None:
    ranker = HybridRanker(CountingEmbeddings())
    assert ranker.rank(RankQuery("q", "Chef", ""), 10) == []
    ranker.index(POOL)
    assert ranker.rank(RankQuery("q", "Chef", ""), 0) == []


def test_duplicate_ids_are_rejected() -> None:
    with pytest.raises(ValueError, match="unique"):
        HybridRanker(CountingEmbeddings()).index([POOL[0], POOL[0]])


def test_a_query_with_no_known_words_still_ranks() -> None:
    ranker = HybridRanker(CountingEmbeddings(), prefilter=3)
    ranker.index(POOL)
    ranked = ranker.rank(RankQuery("q", "Zyxwv", "qwertz uiopasd"), top_k=6)
    assert len(ranked) == 6


# -- the dense stage only sees the prefiltered candidates ------------------------------------------------


def _big_pool(n: int) -> list[CandidateDoc]:
    jobs = ["welder", "plumber", "electrician", "carpenter", "painter", "roofer", "mason", "glazier"]
    docs = []
    for i in range(n):
        job = jobs[i % len(jobs)]
        text = (
            f"{job.upper()}\nExperienced {job} number {i}; site safety, blueprints, tools, crew of {i % 7}."
        )
        docs.append(CandidateDoc(f"c{i:03d}", text))
    return docs


def test_dense_embeds_only_the_prefiltered_documents() -> None:
    pool = _big_pool(120)
    fake = CountingEmbeddings()
    ranker = HybridRanker(fake, prefilter=10)
    ranker.index(pool)
    assert fake.seen == []  # indexing embeds nothing

    ranker.rank(RankQuery("q", "Welder", "Structural welder for site work, blueprints."), top_k=5)
    first_windows = {word_windows(d.text, 160, 1)[0]: d.candidate_id for d in pool}
    embedded_docs = {first_windows[t] for t in fake.seen if t in first_windows}
    assert 0 < len(embedded_docs) <= 10
    # Every text sent to the encoder is a candidate's window, a candidate's headline, or the query.
    headlines = {headline(d.title, d.text) for d in pool}
    others = [t for t in fake.seen if t not in first_windows and t not in headlines]
    assert len(others) <= 2  # the posting text and its cleaned title
    candidate_headlines = {headline(d.title, d.text) for d in pool if d.candidate_id in embedded_docs}
    assert {t for t in fake.seen if t in headlines} <= candidate_headlines


def test_vectors_are_reused_across_queries_and_reindexing() -> None:
    pool = _big_pool(40)
    fake = CountingEmbeddings()
    cache = EmbeddingCache()
    ranker = HybridRanker(fake, prefilter=40, cache=cache)
    ranker.index(pool)
    # Every resume mentions blueprints, so every one is a BM25 candidate.
    query = RankQuery("q", "Plumber", "Residential plumbing repairs from blueprints.")
    ranker.rank(query, top_k=5)
    after_first = len(fake.seen)
    ranker.rank(query, top_k=5)
    assert len(fake.seen) == after_first  # warm: nothing re-embedded

    changed = [*pool[:-1], CandidateDoc(pool[-1].candidate_id, pool[-1].text + " Certified.")]
    ranker.index(changed)
    ranker.rank(query, top_k=5)
    new = fake.seen[after_first:]
    assert new == [word_windows(changed[-1].text, 160, 1)[0]]  # only the changed resume


def test_only_ids_titles_and_text_are_read() -> None:
    # CandidateDoc has no other fields to leak (e.g. category); the ranker works from these alone.
    assert set(CandidateDoc.__slots__) == {"candidate_id", "text", "title"}
    assert set(RankQuery.__slots__) == {"query_id", "title", "description"}


def test_weights_can_switch_channels_off() -> None:
    only_bm25 = FusionWeights(dense=0, title_dense=0, structured=0)
    ranker = HybridRanker(CountingEmbeddings(), weights=only_bm25)
    ranker.index(POOL)
    ranked = ranker.rank(RankQuery("q", "", "general ledger reconciliations"), top_k=1)
    assert ranked[0].candidate_id == "accountant"


# -- fusion ----------------------------------------------------------------------------------------------


def test_rrf_matches_the_formula() -> None:
    fused = rrf([["a", "b", "c"], ["b", "a"]], k=60)
    assert fused["a"] == pytest.approx(1 / 61 + 1 / 62)
    assert fused["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert fused["c"] == pytest.approx(1 / 63)  # missing from the second ranking: adds nothing there


def test_weighted_rrf_and_bad_weights() -> None:
    fused = rrf([["a", "b"], ["b", "a"]], k=1, weights=[2.0, 1.0])
    assert fused["a"] == pytest.approx(2 / 2 + 1 / 3)
    assert fused["b"] == pytest.approx(2 / 3 + 1 / 2)
    assert fused["a"] > fused["b"]
    with pytest.raises(ValueError):
        rrf([["a"]], weights=[1.0, 2.0])


def test_ranks_break_ties_by_id() -> None:
    assert ranks_of({"b": 1.0, "a": 1.0, "c": 2.0}) == {"c": 1, "a": 2, "b": 3}


# -- titles and occupations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "code_prefix"),
    [
        ("Registered Nurse (RN-CA02-007)", "29-1141"),
        ("HR SPECIALIST", "13-1071"),
        ("Senior Accountant (Remote)", "13-2011"),
        ("EXECUTIVE CHEF", "35-1011"),
        ("Software Engineer (US-Remote)", "15-1252"),
        ("Construction Project Manager", "11-9021"),
    ],
)
def test_titles_map_to_occupations(title: str, code_prefix: str) -> None:
    match = match_title(title)
    assert any(code.startswith(code_prefix) for code in match.codes), match
    assert match.confidence > 0


def test_generic_titles_and_names_do_not_map() -> None:
    for title in ("CONSULTANT", "MANAGER", "Summary", ""):
        assert match_title(title).codes == ()


def test_occupation_similarity_prefers_the_same_occupation() -> None:
    query = match_title("Registered Nurse")
    assert occupation_similarity(query, match_title("REGISTERED NURSE")) == pytest.approx(1.0)
    assert occupation_similarity(query, match_title("EXECUTIVE CHEF")) == 0.0


def test_headline_and_query_title_cleaning() -> None:
    assert headline(None, "HR SPECIALIST\nSummary\n...") == "HR SPECIALIST"
    assert headline(None, "Education Details\nMay 2011 ...") == ""
    assert (
        headline(None, "Skills: Python, SQL, Excel, Tableau, and a very long first line of text here") == ""
    )
    assert headline("  Chef  ", "whatever") == "Chef"
    assert clean_query_title("Registered Nurse (RN-CA02-007)") == "Registered Nurse"
    assert clean_query_title("Customer Service Representative / Remote") == "Customer Service Representative"
    assert clean_query_title("(Remote)") == "(Remote)"  # nothing left: keep the original
