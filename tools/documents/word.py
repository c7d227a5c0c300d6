"""DOCX text via python-docx: body paragraphs and tables in document order, text boxes, headers/footers.

The container is inflated by `tools.documents.package` under a byte cap and the deadline, never by
python-docx: a zip's headers are the sender's word, not a bound.

(Named `word` rather than `docx` so it never shadows the python-docx package.)
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator

from docx import Document
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from tools.documents.deadline import Deadline
from tools.documents.errors import CorruptDocument, DocumentError
from tools.documents.models import ExtractionLimits
from tools.documents.package import repack

_NS = {
    "w": "http://schemas.openxmlformats.org/wordprocessingml/2006/main",
    "mc": "http://schemas.openxmlformats.org/markup-compatibility/2006",
}
# Text boxes (common in designed resumes: a sidebar with contact details and skills) sit inside runs, so
# paragraph.text misses them. Word stores each twice, as DrawingML (mc:Choice) and VML (mc:Fallback);
# reading only the non-fallback copy avoids duplicates.
_TEXTBOX_PARAGRAPHS = etree.XPath(".//w:txbxContent[not(ancestor::mc:Fallback)]/w:p", namespaces=_NS)


def _table_lines(table: Table, deadline: Deadline) -> Iterator[str]:
    for row in table.rows:
        deadline.check()
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans; keep one copy.
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(_cell_text(cell, deadline))
        line = " | ".join(c for c in cells if c)
        if line:
            yield line


def _cell_text(cell: _Cell, deadline: Deadline) -> str:
    parts: list[str] = []
    for block in cell.iter_inner_content():
        if isinstance(block, Paragraph):
            if block.text.strip():
                parts.append(block.text.strip())
        else:  # nested table
            parts.extend(_table_lines(block, deadline))
    return " ".join(parts)


def extract_docx(data: bytes, limits: ExtractionLimits, deadline: Deadline) -> str:
    # python-docx reads only the checked, uncompressed copy (`tools.documents.package`).
    checked = repack(data, limits.max_uncompressed_bytes, deadline)
    try:
        document = Document(io.BytesIO(checked))
        lines: list[str] = []
        seen_header_footer: set[str] = set()
        header_lines: list[str] = []
        footer_lines: list[str] = []
        # Contact details often live in the page header; sections usually repeat the same one.
        for section in document.sections:
            for part, sink in ((section.header, header_lines), (section.footer, footer_lines)):
                if part.is_linked_to_previous:
                    continue
                text = "\n".join(p.text for p in part.paragraphs if p.text.strip())
                if text and text not in seen_header_footer:
                    seen_header_footer.add(text)
                    sink.append(text)
        lines.extend(header_lines)
        chars = 0
        for block in document.iter_inner_content():
            deadline.check()
            if isinstance(block, Paragraph):
                lines.append(block.text)
                chars += len(block.text)
            else:
                for line in _table_lines(block, deadline):
                    lines.append(line)
                    chars += len(line)
            if chars > limits.max_chars:
                break  # the caller truncates
        for paragraph in _TEXTBOX_PARAGRAPHS(document.element.body):
            text = "".join(t.text or "" for t in paragraph.iter(f"{{{_NS['w']}}}t"))
            if text.strip():
                lines.append(text)
        lines.extend(footer_lines)
    except DocumentError:
        raise
    except (PackageNotFoundError, KeyError, ValueError, etree.XMLSyntaxError, zipfile.BadZipFile) as exc:
        raise CorruptDocument(f"unreadable .docx: {type(exc).__name__}: {exc}", format="docx") from exc
    return "\n".join(lines)
