"""The one place a chat model is made, and the one door every model call goes through.

`make_chat_model(settings)` is `ChatOpenAI` on the settings' OpenAI-compatible endpoint (any LLM server
that speaks the OpenAI API), guarded by the model door, or None when no endpoint is configured, in
which case every caller takes its deterministic path. Every LLM path (enrichment, copilot, nurture
rewrites, offer narrative) gets its model here, or passes an injected one through `guard`, so what
reaches a model is decided in one place: `tools.llm.door` (placeholders out, originals back) over the
patterns of `tools.llm.pii`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tools.llm.door import ModelDoor, is_guarded, known_people
    from tools.settings import Settings

__all__ = ["ModelDoor", "guard", "is_guarded", "known_people", "llm_configured", "make_chat_model"]


def __getattr__(name: str) -> Any:
    # The door imports langchain; importing `tools.llm` alone (no model configured) must stay cheap.
    if name in {"ModelDoor", "is_guarded", "known_people"}:
        from tools.llm import door

        return getattr(door, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def guard(model: Any) -> Any:
    """`model` behind the model door (see `tools.llm.door.guard`); None stays None."""
    if model is None:
        return None
    from tools.llm.door import guard as door_guard

    return door_guard(model)


def llm_configured(settings: Any) -> bool:
    return bool(getattr(settings, "llm_base_url", None))


def make_chat_model(settings: Settings | Any) -> Any:
    """A guarded `ChatOpenAI` (temperature 0, two retries, 60 s timeout; never counts tokens with
    tiktoken), or None without `llm_base_url`."""
    if not llm_configured(settings):
        return None
    from langchain_openai import ChatOpenAI

    key = getattr(settings, "llm_api_key", None)
    return guard(
        ChatOpenAI(
            model=getattr(settings, "llm_model", "gpt-4o-mini"),
            base_url=settings.llm_base_url,
            api_key=key.get_secret_value() if key is not None else "not-needed",
            temperature=0,
            max_retries=2,
            timeout=60,
        )
    )
