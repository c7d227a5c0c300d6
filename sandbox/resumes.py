"""Render plain resume text into the files candidates upload: PDF (reportlab) and DOCX (python-docx).

Both renderers lay the text out line by line, so text extracted from the file is the text it was
rendered from (PDF only adds soft line breaks when wrapping long lines). Output is deterministic:
the same text gives the same bytes, which keeps seeded tenants reproducible.
"""

from __future__ import annotations

import io
import textwrap
import zipfile
from datetime import datetime

from docx import Document
from docx.shared import Pt
from reportlab.lib.pagesizes import LETTER
from reportlab.pdfgen.canvas import Canvas

PDF_TYPE = "application/pdf"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TXT_TYPE = "text/plain"

_FIXED_TIME = datetime(2020, 1, 1)
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def is_heading(line: str) -> bool:
    """Section headings are upper-case lines ("EXPERIENCE"); the renderers set them in bold."""
    stripped = line.strip()
    return bool(stripped) and stripped.upper() == stripped and any(ch.isalpha() for ch in stripped)


def _pdf_safe(line: str) -> str:
    # The standard Type 1 fonts only cover cp1252; anything else would come out as a blank glyph.
    return line.encode("cp1252", "replace").decode("cp1252")


def render_pdf(text: str) -> bytes:
    buffer = io.BytesIO()
    # invariant=1 drops the creation date and random document id, so output depends on text only.
    canvas = Canvas(buffer, pagesize=LETTER, invariant=1, pageCompression=1)
    canvas.setTitle(text.split("\n", 1)[0][:80])
    _width, height = LETTER
    margin, leading = 54, 13
    y = height - margin
    first = True
    for raw in text.split("\n"):
        line = _pdf_safe(raw.rstrip())
        if first:
            font, size = "Helvetica-Bold", 16
        elif is_heading(line):
            font, size = "Helvetica-Bold", 11
        else:
            font, size = "Helvetica", 10
        indent = "  " if line.startswith("- ") else ""
        pieces = textwrap.wrap(line, width=95, subsequent_indent=indent) if line else [""]
        for piece in pieces:
            if y < margin:
                canvas.showPage()
                y = height - margin
            canvas.setFont(font, size)
            canvas.drawString(margin, y, piece)
            y -= leading + (6 if first else 0)
        first = False
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_docx(text: str) -> bytes:
    document = Document()
    props = document.core_properties
    props.author = ""
    props.title = text.split("\n", 1)[0][:80]
    props.created = props.modified = _FIXED_TIME
    props.last_modified_by = ""
    props.revision = 1
    style = document.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    for index, line in enumerate(text.split("\n")):
        paragraph = document.add_paragraph()
        run = paragraph.add_run(line)
        if index == 0:
            run.bold = True
            run.font.size = Pt(16)
        elif is_heading(line):
            run.bold = True
            run.font.size = Pt(12)
    buffer = io.BytesIO()
    document.save(buffer)
    return _fix_zip_times(buffer.getvalue())


def _fix_zip_times(payload: bytes) -> bytes:
    """python-docx stamps each zip member with the current time; pin them so bytes are reproducible."""
    source = zipfile.ZipFile(io.BytesIO(payload))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            member = zipfile.ZipInfo(info.filename, date_time=_ZIP_TIME)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = info.external_attr
            target.writestr(member, source.read(info.filename))
    return out.getvalue()


def render_txt(text: str) -> bytes:
    return text.encode("utf-8")


def docx_text(payload: bytes) -> str:
    """The paragraph text of a DOCX, one line per paragraph (the inverse of `render_docx`)."""
    return "\n".join(p.text for p in Document(io.BytesIO(payload)).paragraphs)
