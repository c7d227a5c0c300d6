"""Plain-text decoding and the normalisation shared by every format."""

from __future__ import annotations

import codecs
import contextlib
import re
import unicodedata

# pypdf returns typographic ligatures as single code points; search and evidence matching want letters.
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
# C0/C1 controls except tab and newline (form feeds and NULs from PDFs and Word would leak otherwise),
# plus soft hyphens and zero-width characters, which break word matching.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u00ad\u200b-\u200d\u2060\ufeff]")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")
_MANY_BLANK_LINES = re.compile(r"\n{3,}")
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

_BOM_ENCODINGS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def normalize_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Page breaks, vertical tabs (Word's line breaks in some exports) and Unicode separators are line ends.
    text = text.replace("\f", "\n\n").replace("\v", "\n").replace("\u2028", "\n").replace("\u2029", "\n\n")
    text = text.translate(_LIGATURES)
    text = _CONTROL.sub("", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING_SPACE.sub("\n", text)
    text = _MANY_BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _utf16_without_bom(data: bytes) -> str | None:
    even, odd = data[0::2], data[1::2]
    if len(data) < 2 or len(data) % 2:
        return None
    if odd.count(0) > 0.4 * len(odd):
        return "utf-16-le"
    if even.count(0) > 0.4 * len(even):
        return "utf-16-be"
    return None


def decode_bytes(data: bytes, *, declared_charset: str | None = None) -> tuple[str, str]:
    """Decode text of unknown encoding; returns (text, encoding used).

    Order: BOM, UTF-16 without BOM, UTF-8 (strict: multi-byte UTF-8 sequences almost never occur by
    accident in other encodings, so a clean UTF-8 decode beats a mislabelled meta charset), the declared
    charset (HTML meta), cp1252 (what Windows tools write and what "latin-1" files usually are), and
    finally latin-1, which accepts any byte sequence so decoding never fails.
    """
    for bom, encoding in _BOM_ENCODINGS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace"), encoding
    candidates: list[str] = []
    # Before UTF-8: UTF-16 ASCII text is NUL-interleaved, and NULs are valid UTF-8.
    utf16 = _utf16_without_bom(data[:4096])
    if utf16:
        candidates.append(utf16)
    candidates.append("utf-8")
    if declared_charset:
        with contextlib.suppress(LookupError):  # an unknown charset name is ignored, as browsers do
            candidates.append(codecs.lookup(declared_charset).name)
    candidates += ["cp1252", "latin-1"]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


def sniff_html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    return match.group(1).decode("ascii") if match else None
