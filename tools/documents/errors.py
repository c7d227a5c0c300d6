"""Typed extraction errors.

Callers (enrichment, intake) record the failure against the document and carry on, so every error
has a stable machine-readable `code` that can be stored and counted; the message is for humans and
may change.
"""

from __future__ import annotations

from typing import ClassVar


class DocumentError(Exception):
    """Base class: the document could not be turned into text."""

    code: ClassVar[str] = "document_error"

    def __init__(self, message: str, *, format: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.format = format

    def __reduce__(self):  # keyword-only `format` would otherwise be lost when pickled across processes
        return (_rebuild, (type(self), self.message, self.format))

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "format": self.format}


def _rebuild(cls: type[DocumentError], message: str, format: str | None) -> DocumentError:
    return cls(message, format=format)


class EncryptedDocument(DocumentError):
    """Password-protected and not openable with an empty password."""

    code = "encrypted"


class CorruptDocument(DocumentError):
    """The bytes claim a format but cannot be parsed as it."""

    code = "corrupt"


class EmptyDocument(DocumentError):
    """Parsed fine but holds no extractable text (e.g. a scanned PDF, which would need OCR)."""

    code = "empty"


class DocumentTooLarge(DocumentError):
    """Over the byte limit, or a container whose decompressed content is over the limit."""

    code = "too_large"


class UnsupportedFormat(DocumentError):
    """A format we do not read (images, legacy .doc, RTF, spreadsheets, arbitrary binary)."""

    code = "unsupported_format"


class ExtractionTimeout(DocumentError):
    """Parsing did not finish within the wall-clock budget."""

    code = "timeout"
