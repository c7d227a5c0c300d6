"""Format detection: content first, then the declared name/type.

Uploads arrive with wrong extensions and generic content types (`application/octet-stream`), so magic
bytes decide whenever they are conclusive; the filename and content type only break ties for formats
without a signature (HTML fragments, plain text) and turn "no signature" into a better error.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from tools.documents.errors import CorruptDocument, EncryptedDocument, UnsupportedFormat
from tools.documents.models import DocumentFormat
from tools.documents.package import check_directory

# The PDF spec lets readers accept junk before the header; Acrobat looks in the first 1024 bytes.
_PDF_HEADER_WINDOW = 1024
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_HTML_START = re.compile(rb"^\s*(<!doctype\s+html|<html[\s>]|<head[\s>]|<body[\s>]|<!--)", re.IGNORECASE)
_HTML_ANYWHERE = re.compile(rb"<(html|body)[\s>]", re.IGNORECASE)
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")

# Signatures of things people upload as "resumes" that we cannot read; named in the error.
_KNOWN_BINARY: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"II*\x00", "TIFF image"),
    (b"MM\x00*", "TIFF image"),
    (b"{\\rtf", "RTF document"),
    (b"\x1f\x8b", "gzip archive"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf", "7z archive"),
)

_EXTENSIONS: dict[str, DocumentFormat] = {
    ".pdf": DocumentFormat.PDF,
    ".docx": DocumentFormat.DOCX,
    ".html": DocumentFormat.HTML,
    ".htm": DocumentFormat.HTML,
    ".xhtml": DocumentFormat.HTML,
    ".txt": DocumentFormat.TEXT,
    ".text": DocumentFormat.TEXT,
    ".md": DocumentFormat.TEXT,
    ".csv": DocumentFormat.TEXT,
}
_CONTENT_TYPES: dict[str, DocumentFormat] = {
    "application/pdf": DocumentFormat.PDF,
    "application/x-pdf": DocumentFormat.PDF,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": DocumentFormat.DOCX,
    "text/html": DocumentFormat.HTML,
    "application/xhtml+xml": DocumentFormat.HTML,
    "text/plain": DocumentFormat.TEXT,
    "text/markdown": DocumentFormat.TEXT,
    "text/csv": DocumentFormat.TEXT,
}


def _declared(filename: str | None, content_type: str | None) -> DocumentFormat | None:
    if content_type:
        base = content_type.split(";", 1)[0].strip().lower()
        if base in _CONTENT_TYPES:
            return _CONTENT_TYPES[base]
    if filename:
        return _EXTENSIONS.get(PurePath(filename).suffix.lower())
    return None


def _zip_format(data: bytes) -> DocumentFormat:
    check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocument(f"damaged zip container: {exc}", format="docx") from exc
    if "word/document.xml" in names:
        return DocumentFormat.DOCX
    if "xl/workbook.xml" in names:
        raise UnsupportedFormat("spreadsheet (.xlsx) is not a supported document")
    if "ppt/presentation.xml" in names:
        raise UnsupportedFormat("presentation (.pptx) is not a supported document")
    raise UnsupportedFormat("zip archive that is not a Word document")


def _looks_binary(head: bytes) -> bool:
    if head.startswith(_BOMS):
        return False
    if b"\x00" in head:
        # UTF-16 without BOM has NULs in every other byte of ASCII text; anything else is binary.
        even, odd = head[0::2], head[1::2]
        return not (even.count(0) > 0.4 * len(even) or odd.count(0) > 0.4 * len(odd))
    return False


def detect_format(
    data: bytes, *, filename: str | None = None, content_type: str | None = None
) -> DocumentFormat:
    """The format to parse `data` as. Raises UnsupportedFormat / EncryptedDocument / CorruptDocument."""
    head = data[:_PDF_HEADER_WINDOW]
    if b"%PDF-" in head:
        return DocumentFormat.PDF
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_format(data)
    if data.startswith(_OLE_MAGIC):
        # Encrypted OOXML files are wrapped in an OLE compound file holding an "EncryptedPackage" stream
        # (the name is stored UTF-16LE in the directory); other OLE files are legacy .doc/.xls.
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise EncryptedDocument("password-protected Office document", format="docx")
        raise UnsupportedFormat("legacy binary Office document (.doc); save it as .docx or PDF")
    for magic, name in _KNOWN_BINARY:
        if data.startswith(magic):
            raise UnsupportedFormat(f"{name} is not a supported document")

    declared = _declared(filename, content_type)
    if declared is DocumentFormat.PDF:
        raise CorruptDocument("declared as PDF but has no %PDF header", format="pdf")
    if declared is DocumentFormat.DOCX:
        raise CorruptDocument("declared as .docx but is not a zip container", format="docx")

    if _looks_binary(head):
        raise UnsupportedFormat("binary data of an unknown format")
    if declared is DocumentFormat.HTML or _HTML_START.match(head) or _HTML_ANYWHERE.search(head):
        return DocumentFormat.HTML
    return DocumentFormat.TEXT
