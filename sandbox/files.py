"""Binary fields: text extraction from uploads and the multipart reply of `.../fields/{id}/text`."""

from __future__ import annotations

import io
import secrets
from pathlib import PurePath

from sandbox.store import Binary


def extract_text(binary: Binary) -> str | None:
    """Text of an uploaded document, as iCIMS extracts it on demand; None when nothing is readable."""
    content_type = binary.content_type.split(";")[0].strip().lower()
    name = binary.filename.lower()
    try:
        if content_type.startswith("text/") or name.endswith((".txt", ".md")):
            text = binary.content.decode("utf-8", errors="replace")
        elif content_type == "application/pdf" or name.endswith(".pdf"):
            from pypdf import PdfReader

            reader = PdfReader(io.BytesIO(binary.content))
            text = "\n".join(page.extract_text() or "" for page in reader.pages)
        elif "wordprocessingml" in content_type or name.endswith(".docx"):
            from docx import Document

            text = "\n".join(p.text for p in Document(io.BytesIO(binary.content)).paragraphs)
        else:
            return None
    except Exception:  # a corrupt upload must not break the request that stored it
        return None
    text = text.strip()
    return text or None


def text_filename(binary: Binary | None, field_id: str) -> str:
    """`<doc>.txt` after the stored document's name (API_NOTES 3.4)."""
    stem = PurePath(binary.filename).stem if binary is not None and binary.filename else field_id
    return f"{stem}.txt"


def text_multipart(text: str, filename: str) -> tuple[bytes, str]:
    """A `multipart/mixed` body holding one UTF-8 `text/plain` file; returns (body, content type)."""
    boundary = "sandbox-" + secrets.token_hex(12)
    head = (
        f"--{boundary}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f'Content-Disposition: attachment; filename="{filename}"\r\n'
        "\r\n"
    )
    body = head.encode() + text.encode("utf-8") + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/mixed; boundary={boundary}"
