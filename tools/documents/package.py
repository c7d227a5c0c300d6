"""Reading an OOXML (.docx) zip container without trusting its headers.

A zip entry declares its sizes in two headers the sender writes, and `zipfile` reads a member in one
inflate call with no output bound (it cuts the result to the declared size afterwards), so a 441 KB
file whose headers understate a 450 MB `document.xml` is inflated whole before anything can refuse
it. Here nothing is inflated by `zipfile`: each XML part is inflated from its raw bytes in bounded
steps, stopping as soon as it passes its declared size (a lying header: corrupt) or the budget for
the whole package (too large), checked against its CRC, and under the caller's deadline. The parts
are handed to python-docx re-packed uncompressed, so it reads exactly what was checked. Parts that
are not XML (images, embedded objects) carry no text and are passed on empty, never inflated.

The central directory is bounded too: a small file of a million empty entries would cost hundreds
of megabytes of `ZipInfo` objects, so the entry count in the end record is checked before `zipfile`
reads the directory.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

from tools.documents.deadline import Deadline
from tools.documents.errors import CorruptDocument, DocumentTooLarge, EncryptedDocument

MAX_MEMBERS = 2_000  # a resume's .docx holds 10 to 40 parts
_STEP = 64 * 1024
_END_RECORD = b"PK\x05\x06"
_END_RECORD_SIZE = 22
_LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
_LOCAL_MAGIC = b"PK\x03\x04"
_TEXT_PARTS = (".xml", ".rels")


def check_directory(data: bytes, *, format: str = "docx") -> None:
    """Refuse a container whose end record declares more entries than any document has (read before
    `zipfile` builds one object per entry)."""
    # The end record sits in the last 22 bytes plus an optional comment of up to 64 KiB.
    at = data.rfind(_END_RECORD, max(0, len(data) - _END_RECORD_SIZE - 0xFFFF))
    if at < 0 or at + _END_RECORD_SIZE > len(data):
        raise CorruptDocument("damaged zip container: no end of central directory", format=format)
    entries = struct.unpack_from("<H", data, at + 10)[0]
    if entries > MAX_MEMBERS:  # 0xFFFF (a zip64 count) included: no document needs zip64
        raise DocumentTooLarge(f"zip container lists {entries} entries (limit {MAX_MEMBERS})", format=format)


def _raw_member(data: bytes, info: zipfile.ZipInfo) -> bytes:
    """The compressed bytes of a member, located through its local header."""
    start = info.header_offset
    if start < 0 or start + _LOCAL_HEADER.size > len(data):
        raise CorruptDocument(f"zip member {info.filename!r} lies outside the file", format="docx")
    fields = _LOCAL_HEADER.unpack_from(data, start)
    if fields[0] != _LOCAL_MAGIC:
        raise CorruptDocument(f"zip member {info.filename!r} has no local header", format="docx")
    name_length, extra_length = fields[9], fields[10]
    begin = start + _LOCAL_HEADER.size + name_length + extra_length
    return data[begin : begin + info.compress_size]


def _inflate(data: bytes, info: zipfile.ZipInfo, budget: int, deadline: Deadline) -> bytes:
    """The member's content, inflated in bounded steps: never more than min(declared size, budget)
    plus one step is produced."""
    if info.flag_bits & 0x1:
        raise EncryptedDocument("password-protected .docx", format="docx")
    raw = _raw_member(data, info)
    declared = info.file_size
    if info.compress_type == zipfile.ZIP_STORED:
        content = raw[:declared]
        if len(content) > budget:
            raise _too_large(budget)
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        out = bytearray()
        pending = raw
        try:
            while pending and not inflater.eof:
                deadline.check()
                out += inflater.decompress(pending, _STEP)
                pending = inflater.unconsumed_tail
                if len(out) > declared:
                    raise CorruptDocument(
                        f"zip member {info.filename!r} inflates past its declared {declared} bytes",
                        format="docx",
                    )
                if len(out) > budget:
                    raise _too_large(budget)
        except zlib.error as exc:
            raise CorruptDocument(f"zip member {info.filename!r}: {exc}", format="docx") from None
        if not inflater.eof:
            raise CorruptDocument(f"zip member {info.filename!r} is truncated", format="docx")
        content = bytes(out)
    else:
        raise CorruptDocument(
            f"zip member {info.filename!r} uses compression method {info.compress_type}", format="docx"
        )
    if len(content) != declared or zlib.crc32(content) != info.CRC:
        raise CorruptDocument(f"zip member {info.filename!r} fails its size or CRC check", format="docx")
    return content


def _too_large(budget: int) -> DocumentTooLarge:
    return DocumentTooLarge(f".docx inflates past {budget} bytes", format="docx")


def repack(data: bytes, max_inflated: int, deadline: Deadline) -> bytes:
    """The container's XML parts, checked and re-packed uncompressed (other parts emptied)."""
    check_directory(data)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as source:
            infos = source.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise CorruptDocument(f"damaged .docx container: {exc}", format="docx") from exc
    declared = sum(info.file_size for info in infos if info.filename.lower().endswith(_TEXT_PARTS))
    if declared > max_inflated:
        raise DocumentTooLarge(f".docx inflates to {declared} bytes (limit {max_inflated})", format="docx")
    out = io.BytesIO()
    budget = max_inflated
    written: set[str] = set()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as target:
        for info in infos:
            if info.is_dir() or info.filename in written:
                continue
            written.add(info.filename)
            if info.filename.lower().endswith(_TEXT_PARTS):
                content = _inflate(data, info, budget, deadline)
                budget -= len(content)
            else:
                content = b""
            target.writestr(info.filename, content)
    return out.getvalue()
