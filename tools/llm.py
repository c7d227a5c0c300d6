"""The one place a chat model is made: `make_chat_model(settings)` is `ChatOpenAI` on the settings'
OpenAI-compatible endpoint (any LLM server that speaks the OpenAI API), or None when no endpoint is
configured, in which case every caller takes its deterministic path. Every LLM path (enrichment,
copilot, nurture rewrites, offer narrative) gets its model here, so what reaches a model is decided
in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.settings import Settings


def llm_configured(settings: Any) -> bool:
    return bool(getattr(settings, "llm_base_url", None))


def make_chat_model(settings: Settings | Any) -> Any:
    """`ChatOpenAI` (temperature 0, two retries, 60 s timeout; never counts tokens with tiktoken),
    or None without `llm_base_url`."""
    if not llm_configured(settings):
        return None
    from langchain_openai import ChatOpenAI

    key = getattr(settings, "llm_api_key", None)
    return ChatOpenAI(
        model=getattr(settings, "llm_model", "gpt-4o-mini"),
        base_url=settings.llm_base_url,
        api_key=key.get_secret_value() if key is not None else "not-needed",
        temperature=0,
        max_retries=2,
        timeout=60,
    )
