"""Text helpers shared by the retrievers: word windows for the encoder, headlines and query titles."""

from __future__ import annotations

import re

_WORD = re.compile(r"\S+")
# Resume section headings that sit on the first line when a resume has no headline.
_SECTION_WORDS = frozenset(
    [
        "summary",
        "profile",
        "objective",
        "skills",
        "education",
        "experience",
        "resume",
        "cv",
        "curriculum",
        "vitae",
        "about",
        "contact",
        "career",
        "professional",
        "details",
        "personal",
        "information",
        "overview",
        "highlights",
        "qualifications",
    ]
)
_PARENS = re.compile(r"\([^)]*\)?|\[[^\]]*\]?")
# Work pattern and hiring noise in posting titles: they say how the job is done, not what it is.
_TITLE_NOISE = re.compile(
    r"(?i)\b(remote|hybrid|on-?site|work[- ]at[- ]home|full[- ]time|part[- ]time|nights?|weekends?|"
    r"temporary|contract|urgent(ly)?|hiring|immediate(ly)?)\b"
)
# Requisition codes such as "RN-CA02-007".
_REQ_CODE = re.compile(r"\b[A-Z0-9]+-[A-Z0-9-]*\d[A-Z0-9-]*\b")


def word_windows(text: str, size: int = 160, limit: int | None = None) -> list[str]:
    """Consecutive, non-overlapping windows of `size` words (at least one, possibly empty).

    MiniLM truncates at 256 word pieces (about 190 English words), so a resume embedded whole would be
    represented by its first paragraph only; 160-word windows stay under the limit, and the best window
    can stand for the document (max-pooled cosine).
    """
    words = _WORD.findall(text)
    windows = [" ".join(words[i : i + size]) for i in range(0, len(words), size)] or [""]
    return windows if limit is None else windows[:limit]


def headline(title: str | None, text: str, *, max_words: int = 10) -> str:
    """The resume's headline: the given title, else a short first line that is not a section heading.

    Many resumes open with the current job title ("HR SPECIALIST"); others open with a name or straight
    into "Summary" or a skills list, and those give no headline rather than a misleading one.
    """
    if title and title.strip():
        return " ".join(title.split())
    for line in text.splitlines():
        line = " ".join(line.split())
        if not line:
            continue
        words = re.findall(r"[^\W\d_]+", line.casefold())
        if 0 < len(line.split()) <= max_words and words and not _SECTION_WORDS.intersection(words):
            return line
        return ""
    return ""


def clean_query_title(title: str) -> str:
    """A posting title without parentheses, requisition codes and work-pattern words.

    "Registered Nurse (RN-CA02-007)" and "Entry Level Customer Service Representative (Remote)" embed
    closer to resumes' headlines once the parts no resume headline contains are gone.
    """
    cleaned = _REQ_CODE.sub(" ", _TITLE_NOISE.sub(" ", _PARENS.sub(" ", title)))
    cleaned = re.sub(r"^[\s\-–—,/|:]+|[\s\-–—,/|:]+$", "", " ".join(cleaned.split()))
    return cleaned or " ".join(title.split())
