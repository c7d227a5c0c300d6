"""Hostile documents for the document and triage tests (no tests here): a .docx whose zip headers
understate what its document.xml inflates to, and a password-protected PDF."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from docx import Document
from pypdf import PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

BODY_START = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    b'<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
    b"<w:body><w:p><w:r><w:t>"
)
BODY_END = b"</w:t></w:r></w:p></w:body></w:document>"


def small_docx() -> bytes:
    document = Document()
    document.add_paragraph("Jordan Avery, data engineer")
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def lying_docx(inflated_bytes: int, *, declared: int = 1_000, forge_crc: bool = True) -> bytes:
    """A valid .docx whose word/document.xml is one run of `inflated_bytes` repeated letters, deflated,
    with the local and central headers rewritten to declare `declared` bytes (and, with `forge_crc`,
    the CRC of those first bytes, so a reader that stops at the declared size sees a valid member)."""
    source = zipfile.ZipFile(io.BytesIO(small_docx()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            if info.filename != "word/document.xml":
                target.writestr(info, source.read(info))
                continue
            entry = zipfile.ZipInfo("word/document.xml", date_time=info.date_time)
            entry.compress_type = zipfile.ZIP_DEFLATED
            with target.open(entry, "w") as member:  # streamed: the test never holds it inflated
                member.write(BODY_START)
                chunk = b"A" * (1 << 20)
                left = inflated_bytes
                while left > 0:
                    member.write(chunk[: min(left, len(chunk))])
                    left -= len(chunk)
                member.write(BODY_END)
    data = bytearray(out.getvalue())
    prefix = (BODY_START + b"A" * declared)[:declared]
    crc = zlib.crc32(prefix) if forge_crc else 0x12345678
    name = b"word/document.xml"
    for magic, crc_at, size_at in ((b"PK\x03\x04", 14, 22), (b"PK\x01\x02", 16, 24)):
        name_at = 30 if magic == b"PK\x03\x04" else 46
        at = 0
        while True:
            at = data.index(magic, at)
            if data[at + name_at : at + name_at + len(name)] == name:
                break
            at += 4
        struct.pack_into("<I", data, at + crc_at, crc)
        struct.pack_into("<I", data, at + size_at, declared)
    return bytes(data)


def encrypted_pdf(lines: list[str], *, password: str = "s3cret") -> bytes:
    """A one-page PDF that opens only with `password` (RC4: no optional crypto package needed)."""
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    y = 800
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 18
    pdf.showPage()
    pdf.save()
    writer = PdfWriter(clone_from=io.BytesIO(buf.getvalue()))
    writer.encrypt(user_password=password, owner_password=password + "-owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
