"""The optional LLM welcome paragraph of an offer letter: only first name, title and company reach
the model (the real langchain-openai client against a local stub); a paragraph that names figures or
terms is refused and the letter goes without it."""

from __future__ import annotations

import json

import pytest
from support.llm_stub import llm_stub  # noqa: F401 - fixture
from test_offer_graph import env  # noqa: F401 - fixture

from agents.offer.narrative import check_narrative

WARM = "Alex, we are delighted to invite you to join the team and look forward to your ideas."


def test_check_narrative_refuses_figures_and_terms() -> None:
    assert check_narrative(WARM) is None
    assert "figures" in (check_narrative("Your $120,000 salary reflects our excitement.") or "")
    assert "bonus" in (check_narrative("A signing bonus awaits you.") or "")
    assert check_narrative("") == "empty"
    assert "longer" in (check_narrative("word " * 200) or "")


@pytest.mark.integration
def test_llm_paragraph_reaches_the_letter_and_only_safe_facts_reach_the_model(env, llm_stub) -> None:  # noqa: F811
    stub, url = llm_stub
    stub.on(when_last="job_title", text=WARM, times=1)
    env.deps.chat_model = stub.chat_model(url)
    run = env.start()
    draft = run.values["draft"]
    assert draft["narrative"] == WARM and WARM in draft["html"]
    assert "narrative: llm" in run.values["versions"][-1]["reason"]
    (request,) = stub.requests
    sent = json.dumps(request["messages"])
    candidate = env.box.state.tenant.records["people"][env.person_id].data
    assert candidate["lastname"] not in sent and candidate["email"] not in sent
    assert not any(ch.isdigit() for ch in request["messages"][-1]["content"])  # no figures asked about

    # A paragraph that states figures is refused: the letter has none, the version says why.
    stub.on(when_last="job_title", text="We offer you $150,000 and a generous bonus.")
    again = env.start()
    assert again.values["draft"]["narrative"] == "" and "$150,000" not in again.values["draft"]["html"]
    assert "narrative: refused" in again.values["versions"][-1]["reason"]
