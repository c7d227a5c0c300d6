"""Text extraction from uploaded documents (PDF, DOCX, HTML, plain text) with size, page and time limits."""

from tools.documents.detect import detect_format
from tools.documents.errors import (
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedDocument,
    ExtractionTimeout,
    UnsupportedFormat,
)
from tools.documents.extract import extract_text
from tools.documents.models import DEFAULT_LIMITS, DocumentFormat, ExtractedDocument, ExtractionLimits

__all__ = [
    "DEFAULT_LIMITS",
    "CorruptDocument",
    "DocumentError",
    "DocumentFormat",
    "DocumentTooLarge",
    "EmptyDocument",
    "EncryptedDocument",
    "ExtractedDocument",
    "ExtractionLimits",
    "ExtractionTimeout",
    "UnsupportedFormat",
    "detect_format",
    "extract_text",
]
