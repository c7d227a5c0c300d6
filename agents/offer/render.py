"""Render an offer draft to PDF (WeasyPrint, from the draft's HTML) and DOCX (docxtpl).

The DOCX template is built with python-docx on first use (cached), so no binary lives in the repository;
its layout version follows the letter template (`draft.template_id`). STACK_NOTES section 9.
"""

from __future__ import annotations

import io
from functools import cache

from docx import Document
from docxtpl import DocxTemplate

from agents.offer.letter import letter_summary
from agents.offer.models import OfferDraft, fmt_date

DOCX_LAYOUTS = frozenset({"letter.v1"})


def render_pdf(draft: OfferDraft) -> bytes:
    from weasyprint import HTML  # imported lazily: about 0.8 s

    return HTML(string=draft.html).write_pdf()


@cache
def docx_template(template_id: str = "letter.v1") -> bytes:
    """The docxtpl template for a letter version, as .docx bytes."""
    if template_id not in DOCX_LAYOUTS:
        raise ValueError(f"no DOCX layout for {template_id!r}")
    doc = Document()
    doc.core_properties.title = f"Offer letter ({template_id})"
    doc.core_properties.author = "icims-agents"
    doc.add_paragraph("{{ company }}", style="Title")
    doc.add_paragraph("{{ letter_date }}")
    doc.add_paragraph("{{ candidate_name }}")
    doc.add_paragraph("{%p for line in address_lines %}")
    doc.add_paragraph("{{ line }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Dear {{ candidate_name }},")
    doc.add_paragraph("{%p if narrative %}")
    doc.add_paragraph("{{ narrative }}")
    doc.add_paragraph("{%p endif %}")
    doc.add_paragraph("{%p for label, value in summary %}")
    doc.add_paragraph("{{ label }}: {{ value }}", style="List Bullet")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("{%p for clause in clauses %}")
    doc.add_paragraph("{{ clause.title }}", style="Heading 2")
    doc.add_paragraph("{{ clause.text }}")
    doc.add_paragraph("{%p endfor %}")
    doc.add_paragraph("Sincerely,")
    doc.add_paragraph("{{ company }}")
    doc.add_paragraph("Accepted: ______________________ Date: ____________")
    doc.add_paragraph("{{ candidate_name }}")
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render_docx(draft: OfferDraft) -> bytes:
    template = DocxTemplate(io.BytesIO(docx_template(draft.template_id)))
    template.render(
        {
            "company": draft.company,
            "letter_date": fmt_date(draft.letter_date),
            "candidate_name": draft.candidate.name,
            "address_lines": draft.candidate.address_lines,
            "narrative": draft.narrative,
            "summary": letter_summary(draft),
            "clauses": [clause.model_dump() for clause in draft.clauses],
        },
        autoescape=True,
    )
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()
