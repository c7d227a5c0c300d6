"""`extract_text`: bytes of an uploaded document -> normalised text, within limits, or a typed error."""

from __future__ import annotations

from tools.documents.deadline import Deadline, run_with_deadline
from tools.documents.detect import detect_format
from tools.documents.errors import CorruptDocument, DocumentError, DocumentTooLarge, EmptyDocument
from tools.documents.markup import html_to_text
from tools.documents.models import DEFAULT_LIMITS, DocumentFormat, ExtractedDocument, ExtractionLimits
from tools.documents.pdf import extract_pdf
from tools.documents.text import decode_bytes, normalize_text, sniff_html_charset
from tools.documents.word import extract_docx


def extract_text(
    data: bytes,
    *,
    filename: str | None = None,
    content_type: str | None = None,
    limits: ExtractionLimits = DEFAULT_LIMITS,
) -> ExtractedDocument:
    """Extract the text of a PDF, DOCX, HTML or plain-text document.

    Raises a `DocumentError` subclass (never anything else for bad input): `DocumentTooLarge`,
    `UnsupportedFormat`, `EncryptedDocument`, `CorruptDocument`, `EmptyDocument`, `ExtractionTimeout`.
    """
    if len(data) > limits.max_bytes:
        raise DocumentTooLarge(f"{len(data)} bytes (limit {limits.max_bytes})")
    if not data.strip():
        raise EmptyDocument("no content")
    fmt = detect_format(data, filename=filename, content_type=content_type)
    deadline = Deadline(limits.timeout_seconds, format=fmt.value)
    return run_with_deadline(lambda d: _extract(data, fmt, limits, d), deadline)


def _extract(
    data: bytes, fmt: DocumentFormat, limits: ExtractionLimits, deadline: Deadline
) -> ExtractedDocument:
    warnings: list[str] = []
    pages: int | None = None
    total_pages: int | None = None
    encoding: str | None = None
    truncated = False
    try:
        if fmt is DocumentFormat.PDF:
            raw = extract_pdf(data, limits, deadline)
            text, pages, total_pages = raw.text, raw.pages_read, raw.total_pages
            if total_pages > limits.max_pages:
                truncated = True
                warnings.append(f"read the first {limits.max_pages} of {total_pages} pages")
        elif fmt is DocumentFormat.DOCX:
            text = extract_docx(data, limits, deadline)
        elif fmt is DocumentFormat.HTML:
            markup, encoding = decode_bytes(data, declared_charset=sniff_html_charset(data))
            text = html_to_text(markup, deadline, limits.max_chars)
        else:
            text, encoding = decode_bytes(data)
        deadline.check()
    except DocumentError:
        raise
    except MemoryError as exc:
        raise DocumentTooLarge("ran out of memory while parsing", format=fmt.value) from exc
    except Exception as exc:  # a parser bug on hostile input must still come out as a typed error
        raise CorruptDocument(
            f"unreadable {fmt.value}: {type(exc).__name__}: {exc}", format=fmt.value
        ) from exc

    if encoding not in (None, "utf-8", "utf-8-sig", "ascii"):
        warnings.append(f"decoded as {encoding}")
    text = normalize_text(text)
    if not text:
        hint = " (scanned? OCR is not supported)" if fmt is DocumentFormat.PDF else ""
        raise EmptyDocument(f"no extractable text{hint}", format=fmt.value)
    if len(text) > limits.max_chars:
        text = text[: limits.max_chars]
        truncated = True
        warnings.append(f"text cut to {limits.max_chars} characters")
    return ExtractedDocument(
        text=text,
        format=fmt,
        pages=pages,
        total_pages=total_pages,
        truncated=truncated,
        warnings=warnings,
        encoding=encoding,
    )
