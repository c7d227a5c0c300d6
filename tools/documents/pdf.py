"""PDF text via pypdf, page by page under a deadline."""

from __future__ import annotations

import io

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError

from tools.documents.deadline import Deadline
from tools.documents.errors import CorruptDocument, DocumentError, EncryptedDocument
from tools.documents.models import ExtractionLimits


class RawPages:
    __slots__ = ("pages_read", "text", "total_pages")

    def __init__(self, text: str, pages_read: int, total_pages: int) -> None:
        self.text = text
        self.pages_read = pages_read
        self.total_pages = total_pages


def extract_pdf(data: bytes, limits: ExtractionLimits, deadline: Deadline) -> RawPages:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            _decrypt(reader)
        total = len(reader.pages)
        parts: list[str] = []
        chars = 0
        read = 0
        for index in range(min(total, limits.max_pages)):
            # Between pages is the only safe place to stop pypdf; the caller's own wait bounds the rest.
            deadline.check()
            page_text = reader.pages[index].extract_text() or ""
            parts.append(page_text)
            read += 1
            chars += len(page_text)
            if chars > limits.max_chars:
                break  # the caller truncates; reading further pages would be wasted work
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedDocument(f"password-protected PDF: {exc}", format="pdf") from exc
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, IndexError, AssertionError) as exc:
        # pypdf surfaces malformed structure as a mix of its own and builtin exceptions.
        raise CorruptDocument(f"unreadable PDF: {type(exc).__name__}: {exc}", format="pdf") from exc
    except RecursionError as exc:  # self-referencing object graphs
        raise CorruptDocument("unreadable PDF: recursive structure", format="pdf") from exc
    return RawPages("\n\n".join(parts), read, total)


def _decrypt(reader: PdfReader) -> None:
    # Many "secured" PDFs only carry an owner password (no printing/copying) and open with an empty
    # user password, as in any viewer; those we read. Anything needing a real password we report.
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        # AES needs the optional `cryptography` package; without it the file cannot be opened here.
        raise EncryptedDocument(f"encrypted PDF needs a crypto backend: {exc}", format="pdf") from exc
    except (PdfReadError, NotImplementedError) as exc:
        raise EncryptedDocument(f"encrypted PDF with an unsupported scheme: {exc}", format="pdf") from exc
    if not opened:
        raise EncryptedDocument("password-protected PDF", format="pdf")
