"""Document extraction against real files built at test time (ReportLab, pypdf, python-docx)."""

from __future__ import annotations

import io
import pickle
import threading
import zipfile

import pytest
from docx import Document
from docx.enum.text import WD_BREAK
from lxml import etree
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from tools.documents import (
    CorruptDocument,
    DocumentError,
    DocumentFormat,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedDocument,
    ExtractionLimits,
    ExtractionTimeout,
    UnsupportedFormat,
    detect_format,
    extract_text,
)
from tools.documents.deadline import Deadline, run_with_deadline
from tools.documents.pdf import extract_pdf

# Synthetic resume written for these tests.
RESUME = [
    "Jordan Avery",
    "Data Engineer – jordan.avery@example.com – +1 555 0100",
    "Experience",
    "2019–2024 Senior Data Engineer, Northwind Logistics",
    "Built Python ETL pipelines on Airflow and Postgres.",
    "Skills: Python, SQL, Kubernetes, Terraform",
]


def make_pdf(pages: list[list[str]]) -> bytes:
    buf = io.BytesIO()
    pdf = canvas.Canvas(buf, pagesize=A4)
    for lines in pages:
        y = 800
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return buf.getvalue()


def encrypt_pdf(data: bytes, *, user_password: str, owner_password: str) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    # RC4-128 (pypdf's default) needs no optional crypto package, so the test runs anywhere.
    writer.encrypt(user_password=user_password, owner_password=owner_password)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def docx_bytes(document) -> bytes:
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def make_docx() -> bytes:
    doc = Document()
    doc.sections[0].header.paragraphs[0].text = "Jordan Avery · jordan.avery@example.com"
    doc.add_heading("Experience", level=1)
    doc.add_paragraph("Senior Data Engineer at Northwind Logistics")
    doc.add_paragraph("Built Python ETL pipelines on Airflow.", style="List Bullet")
    table = doc.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "Skill"
    table.cell(0, 1).text = "Years"
    table.cell(0, 2).text = "Level"
    table.cell(1, 0).text = "Kubernetes"
    merged = table.cell(1, 1).merge(table.cell(1, 2))
    merged.text = "four"
    doc.add_paragraph("Education: BSc Computer Science")
    return docx_bytes(doc)


# --- PDF -------------------------------------------------------------------------------------------


def test_pdf_text_lines_and_pages():
    doc = extract_text(make_pdf([RESUME[:3], RESUME[3:]]), filename="cv.pdf")
    assert doc.format is DocumentFormat.PDF
    assert doc.pages == 2 and doc.total_pages == 2 and not doc.truncated
    for line in RESUME:
        assert line in doc.text
    assert doc.text.index("Jordan Avery") < doc.text.index("Northwind")


def test_pdf_detected_by_magic_despite_wrong_name_and_type():
    doc = extract_text(make_pdf([RESUME]), filename="resume.txt", content_type="text/plain")
    assert doc.format is DocumentFormat.PDF


def test_pdf_page_limit_truncates_and_flags():
    pages = [[f"Page {i} project notes"] for i in range(5)]
    doc = extract_text(make_pdf(pages), limits=ExtractionLimits(max_pages=2))
    assert doc.pages == 2 and doc.total_pages == 5 and doc.truncated
    assert "Page 1" in doc.text and "Page 2" not in doc.text
    assert any("2 of 5 pages" in w for w in doc.warnings)


def test_char_limit_truncates_and_flags():
    doc = extract_text(make_pdf([RESUME]), limits=ExtractionLimits(max_chars=20))
    assert doc.truncated and len(doc.text) == 20
    assert doc.text == "Jordan Avery\nData En"


def test_pdf_blank_page_is_empty_document():
    with pytest.raises(EmptyDocument) as info:
        extract_text(make_pdf([[]]))
    assert info.value.code == "empty" and info.value.format == "pdf"


def test_pdf_encrypted_with_user_password():
    data = encrypt_pdf(make_pdf([RESUME]), user_password="s3cret", owner_password="owner")
    with pytest.raises(EncryptedDocument) as info:
        extract_text(data)
    assert info.value.code == "encrypted"


def test_pdf_with_owner_password_only_is_read():
    # Opens without a password in any viewer (only copying/printing is restricted), so we read it too.
    data = encrypt_pdf(make_pdf([RESUME]), user_password="", owner_password="owner")
    assert "Northwind Logistics" in extract_text(data).text


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.7\n" + bytes(range(256)) * 20,
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF",
    ],
    ids=["garbage-after-header", "dangling-references"],
)
def test_pdf_corrupt(data):
    with pytest.raises(CorruptDocument) as info:
        extract_text(data)
    assert info.value.code == "corrupt"


def test_pdf_truncated_never_escapes_as_untyped_error():
    data = make_pdf([RESUME, RESUME])
    for cut in (len(data) // 4, len(data) // 2, len(data) - 40):
        try:
            doc = extract_text(data[:cut])
        except (CorruptDocument, EmptyDocument):
            continue
        assert doc.format is DocumentFormat.PDF  # pypdf may recover some text; that is fine


def test_pdf_declared_but_not_pdf():
    with pytest.raises(CorruptDocument):
        extract_text(b"this is not really a pdf", filename="cv.pdf")


# --- time limit ------------------------------------------------------------------------------------


def test_pdf_stops_between_pages_when_deadline_passed():
    data = make_pdf([["one"], ["two"], ["three"]])
    deadline = Deadline(60)
    deadline.cancel()  # as the caller does when its wait runs out
    with pytest.raises(ExtractionTimeout):
        extract_pdf(data, ExtractionLimits(), deadline)


def test_hung_parser_does_not_hang_the_caller():
    release = threading.Event()

    def hang(deadline: Deadline) -> str:
        release.wait()  # a parser stuck on a pathological file
        return "never used"

    deadline = Deadline(0.05, format="pdf")
    try:
        with pytest.raises(ExtractionTimeout) as info:
            run_with_deadline(hang, deadline)
        assert info.value.code == "timeout" and info.value.format == "pdf"
        assert deadline.expired  # the worker is told to stop at its next check
    finally:
        release.set()


def test_worker_errors_reach_the_caller():
    def boom(deadline: Deadline) -> str:
        raise CorruptDocument("bad")

    with pytest.raises(CorruptDocument):
        run_with_deadline(boom, Deadline(5))


# --- DOCX ------------------------------------------------------------------------------------------


def test_docx_paragraphs_tables_and_header():
    doc = extract_text(make_docx(), content_type="application/octet-stream")
    assert doc.format is DocumentFormat.DOCX and doc.pages is None
    lines = doc.text.splitlines()
    assert lines[0] == "Jordan Avery · jordan.avery@example.com"
    assert "Built Python ETL pipelines on Airflow." in lines
    assert "Skill | Years | Level" in lines
    assert "Kubernetes | four" in lines  # merged cell once
    assert lines.index("Skill | Years | Level") < lines.index("Education: BSc Computer Science")


def test_docx_text_box_read_once():
    doc = Document()
    paragraph = doc.add_paragraph("Body text")
    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    mc = "http://schemas.openxmlformats.org/markup-compatibility/2006"
    box = (
        f'<w:txbxContent xmlns:w="{w}">'
        "<w:p><w:r><w:t>Sidebar: Terraform, Go</w:t></w:r></w:p></w:txbxContent>"
    )
    # The same box as Word writes it: a DrawingML copy (Choice) and a VML copy (Fallback).
    run_xml = (
        f'<w:r xmlns:w="{w}" xmlns:mc="{mc}"><mc:AlternateContent>'
        f'<mc:Choice Requires="wps"><w:drawing>{box}</w:drawing></mc:Choice>'
        f"<mc:Fallback><w:pict>{box}</w:pict></mc:Fallback>"
        "</mc:AlternateContent></w:r>"
    )
    paragraph._p.append(etree.fromstring(run_xml))
    text = extract_text(docx_bytes(doc)).text
    assert text.count("Sidebar: Terraform, Go") == 1
    assert "Body text" in text


def test_docx_line_breaks_and_empty():
    doc = Document()
    run = doc.add_paragraph().add_run("line one")
    run.add_break(WD_BREAK.LINE)
    run.add_text("line two")
    assert extract_text(docx_bytes(doc)).text == "line one\nline two"
    with pytest.raises(EmptyDocument):
        extract_text(docx_bytes(Document()))


def test_zip_that_is_not_docx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("notes.txt", "hello")
    with pytest.raises(UnsupportedFormat) as info:
        extract_text(buf.getvalue(), filename="cv.docx")
    assert info.value.code == "unsupported_format"


def test_docx_truncated_container_is_corrupt():
    data = make_docx()
    with pytest.raises(CorruptDocument):
        extract_text(data[: len(data) // 2])


def test_docx_zip_bomb_refused():
    limits = ExtractionLimits(max_uncompressed_bytes=10_000)
    with pytest.raises(DocumentTooLarge):
        extract_text(make_docx(), limits=limits)


def test_encrypted_office_file():
    # Encrypted .docx files are OLE compound files with an EncryptedPackage stream.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64 + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(EncryptedDocument):
        extract_text(data, filename="cv.docx")
    with pytest.raises(UnsupportedFormat):  # plain legacy .doc
        extract_text(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, filename="cv.doc")


# --- HTML and text ---------------------------------------------------------------------------------


def test_html_strips_scripts_styles_and_decodes_entities():
    html = (
        b"<!DOCTYPE html><html><head><title>CV</title><style>p{color:red}</style>"
        b"<script>var secret = 'do not index';</script></head><body>"
        b"<h1>Jordan&nbsp;Avery</h1><p>Data&nbsp;Engineer &amp; analyst</p>"
        b"<ul><li>Python</li><li>SQL</li></ul><table><tr><td>Go</td><td>3 years</td></tr></table>"
        b"<noscript>enable js</noscript></body></html>"
    )
    doc = extract_text(html)
    assert doc.format is DocumentFormat.HTML
    assert doc.text.splitlines() == [
        "Jordan Avery",
        "Data Engineer & analyst",
        "Python",
        "SQL",
        "Go | 3 years",
    ]
    assert "secret" not in doc.text and "color" not in doc.text and "enable js" not in doc.text


def test_html_fragment_by_content_type_and_meta_charset():
    doc = extract_text("<p>Résumé</p>".encode("cp1252"), content_type="text/html; charset=windows-1252")
    assert doc.format is DocumentFormat.HTML and doc.text == "Résumé"
    meta = '<html><head><meta charset="iso-8859-1"></head><body>Café</body></html>'.encode("latin-1")
    assert extract_text(meta).text == "Café"


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("Résumé – Jordan Avery".encode(), "utf-8"),
        ("Résumé – Jordan Avery".encode("cp1252"), "cp1252"),
        ("\ufeffRésumé – Jordan Avery".encode(), "utf-8-sig"),
        ("\ufeffRésumé – Jordan Avery".encode("utf-16-le"), "utf-16"),
        ("Résumé – Jordan Avery".encode("utf-16-le"), "utf-16-le"),
    ],
)
def test_plain_text_charsets(data, encoding):
    doc = extract_text(data, filename="cv.txt")
    assert doc.format is DocumentFormat.TEXT
    assert doc.text == "Résumé – Jordan Avery"
    assert doc.encoding == encoding


def test_plain_text_latin1_fallback_never_fails():
    # 0x81 is undefined in cp1252, so only latin-1 decodes this; the control character is dropped.
    doc = extract_text(b"Caf\xe9 \x81ok")
    assert doc.encoding == "latin-1" and doc.text == "Café ok"


def test_text_normalisation():
    doc = extract_text("Pro\u00adgram  \r\nof\ufb01ce\t \r\n\r\n\r\n\r\nnext\x0cpage".encode())
    assert doc.text == "Program\noffice\n\nnext\n\npage"


# --- limits and refusals ---------------------------------------------------------------------------


def test_over_byte_limit_refused_before_parsing():
    with pytest.raises(DocumentTooLarge) as info:
        extract_text(b"%PDF-1.7" + b" " * (10 * 1024 * 1024))
    assert info.value.code == "too_large"
    with pytest.raises(DocumentTooLarge):
        extract_text(b"a" * 101, limits=ExtractionLimits(max_bytes=100))


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "scan.png"),
        (b"\xff\xd8\xff\xe0" + b"\x00" * 32, None),
        (b"{\\rtf1\\ansi Jordan}", "cv.rtf"),
        (bytes([0, 1, 2, 3, 250, 251, 0, 7, 8, 0]) * 10, None),
    ],
)
def test_unsupported_formats(data, name):
    with pytest.raises(UnsupportedFormat):
        extract_text(data, filename=name)


def test_empty_inputs():
    for data in (b"", b"   \n\t "):
        with pytest.raises(EmptyDocument):
            extract_text(data)
    with pytest.raises(EmptyDocument):
        extract_text(b"<html><body><script>x()</script></body></html>")


def test_detect_format_helpers():
    assert detect_format(b"junk\n%PDF-1.4 ...") is DocumentFormat.PDF
    assert detect_format(make_docx()) is DocumentFormat.DOCX
    assert detect_format(b"  <html><body>x</body></html>") is DocumentFormat.HTML
    assert detect_format(b"plain words") is DocumentFormat.TEXT


def test_errors_are_typed_stable_and_picklable():
    codes = {
        cls.code
        for cls in (
            EncryptedDocument,
            CorruptDocument,
            EmptyDocument,
            DocumentTooLarge,
            UnsupportedFormat,
            ExtractionTimeout,
        )
    }
    assert codes == {"encrypted", "corrupt", "empty", "too_large", "unsupported_format", "timeout"}
    err = pickle.loads(pickle.dumps(EncryptedDocument("locked", format="pdf")))
    assert isinstance(err, DocumentError) and err.format == "pdf" and str(err) == "locked"
    assert err.to_dict() == {"code": "encrypted", "message": "locked", "format": "pdf"}
