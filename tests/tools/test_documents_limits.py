"""Hostile .docx containers: zip headers that understate what a member inflates to, a CRC forged to
match the understated size, and a directory of a huge number of entries. Each comes out as a typed
`DocumentError` quickly and with bounded memory (measured in a fresh process: its peak RSS)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from support.documents import BODY_END, BODY_START, lying_docx, small_docx

from tools.documents import CorruptDocument, DocumentError, DocumentTooLarge, ExtractionLimits, extract_text
from tools.documents.package import MAX_MEMBERS


def _measure(path: Path) -> dict[str, object]:
    """Extract the file in a fresh interpreter: the error, the seconds and the peak RSS growth."""
    script = textwrap.dedent(
        f"""
        import json, resource, sys, time
        from tools.documents import DocumentError, extract_text
        data = open({str(path)!r}, "rb").read()
        extract_text(b"warm up the parsers", filename="x.txt")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        try:
            extract_text(data, filename="cv.docx")
            error = None
        except DocumentError as exc:
            error = [type(exc).__name__, exc.code, str(exc)[:200]]
        seconds = time.perf_counter() - started
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({{"error": error, "seconds": seconds, "rss_mb": (after - before) / 1024}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("forge_crc", [True, False])
def test_lying_441_kb_docx_is_refused_fast_with_bounded_memory(tmp_path, forge_crc):
    data = lying_docx(410 * 1024 * 1024, forge_crc=forge_crc)
    assert 430_000 < len(data) < 470_000  # the reproduction's 441 KB
    path = tmp_path / "lying.docx"
    path.write_bytes(data)
    measured = _measure(path)
    print(f"lying docx ({len(data)} bytes, forged crc {forge_crc}): {measured}")
    assert measured["error"] is not None and measured["error"][1] in ("corrupt", "too_large")
    assert measured["seconds"] < 5
    assert measured["rss_mb"] < 150


def test_lying_header_in_process_is_a_typed_corrupt_error():
    data = lying_docx(5 * 1024 * 1024)
    started = time.perf_counter()
    with pytest.raises(CorruptDocument, match="inflates past its declared"):
        extract_text(data, filename="cv.docx")
    assert time.perf_counter() - started < 1


def test_a_truthful_docx_still_reads_and_the_budget_counts_xml_only():
    assert "Jordan Avery" in extract_text(small_docx()).text
    document = Document()
    document.add_paragraph("A" * (2 * 1024 * 1024))
    buf = io.BytesIO()
    document.save(buf)
    # Honest headers over the cap: refused from the directory, before anything is inflated.
    with pytest.raises(DocumentTooLarge):
        extract_text(buf.getvalue(), limits=ExtractionLimits(max_uncompressed_bytes=1024 * 1024))
    # An image of any size is not inflated and does not count.
    document = Document()
    document.add_paragraph("Jordan Avery")
    buf = io.BytesIO()
    document.save(buf)
    with zipfile.ZipFile(buf, "a", zipfile.ZIP_DEFLATED) as package:
        package.writestr("word/media/photo.png", b"\x00" * (4 * 1024 * 1024))
    text = extract_text(buf.getvalue(), limits=ExtractionLimits(max_uncompressed_bytes=1024 * 1024)).text
    assert text == "Jordan Avery"


def test_a_directory_of_too_many_entries_is_refused_before_zipfile_reads_it():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        target.writestr("word/document.xml", BODY_START + BODY_END)
        for i in range(MAX_MEMBERS + 1):
            target.writestr(f"x/{i}", b"")
    with pytest.raises(DocumentError) as info:
        extract_text(out.getvalue(), filename="cv.docx")
    assert info.value.code == "too_large"
