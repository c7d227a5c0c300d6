"""Value types for document extraction."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class DocumentFormat(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    HTML = "html"
    TEXT = "text"


class ExtractionLimits(BaseModel):
    """Bounds on what one extraction may cost. Resumes are small; anything far outside these is
    either a mistake or hostile, and must not stall a worker."""

    model_config = ConfigDict(frozen=True)

    max_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    max_pages: int = Field(default=50, gt=0)
    max_chars: int = Field(default=200_000, gt=0)
    timeout_seconds: float = Field(default=10.0, gt=0)
    # The XML a .docx may inflate to (images are never inflated): a 300 KB file can hold 90 MB of tiny
    # paragraphs, which python-docx turns into 1.5 GB of objects. A resume's XML is under 1 MB, and
    # 8 MiB of the densest markup costs python-docx about 150 MB and 2 s.
    max_uncompressed_bytes: int = Field(default=8 * 1024 * 1024, gt=0)


DEFAULT_LIMITS = ExtractionLimits()


class ExtractedDocument(BaseModel):
    model_config = ConfigDict(frozen=True)

    text: str
    format: DocumentFormat
    # Pages read (PDF only); None for formats without a fixed page model.
    pages: int | None = None
    # Total pages in the file when known; greater than `pages` when the page limit cut it short.
    total_pages: int | None = None
    truncated: bool = False
    # Why it was truncated, or what was tolerated (e.g. "decoded as cp1252"), for the caller's record.
    warnings: list[str] = Field(default_factory=list)
    encoding: str | None = None
