"""HTML to text with the standard library parser (tolerant of broken markup, no extra dependency)."""

from __future__ import annotations

from html.parser import HTMLParser

from tools.documents.deadline import Deadline

# Content of these is never visible text.
_SKIP = frozenset({"script", "style", "noscript", "template", "head", "svg", "math", "object", "iframe"})
# Elements that start a new line, so words from adjacent blocks are not glued together.
_BLOCK = frozenset(
    {
        "p", "div", "br", "hr", "li", "ul", "ol", "dl", "dt", "dd", "tr", "table", "thead", "tbody",
        "section", "article", "header", "footer", "aside", "nav", "main", "blockquote", "pre",
        "h1", "h2", "h3", "h4", "h5", "h6", "address", "figcaption", "form", "fieldset",
    }
)  # fmt: skip
_CELL = frozenset({"td", "th"})
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track",
     "wbr"}
)  # fmt: skip


class _TextParser(HTMLParser):
    def __init__(self, deadline: Deadline, max_chars: int) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.chars = 0
        self.skip_depth = 0
        self.title: list[str] = []
        self.in_title = False
        self.deadline = deadline
        self.max_chars = max_chars

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self.in_title = True
        if tag in _SKIP and tag not in _VOID:
            self.skip_depth += 1
        elif tag in _BLOCK:
            self.parts.append("\n")
        elif tag in _CELL:
            self.parts.append(" | ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.title.append(data)
            return
        if self.skip_depth or self.chars > self.max_chars:
            return
        self.parts.append(data)
        self.chars += len(data)


def _collapse(text: str) -> str:
    # HTML whitespace is not significant: collapse runs, keep one line per block, drop the empty lines
    # that nested block elements produce.
    lines = (" ".join(line.replace("\xa0", " ").split()).strip(" |") for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def html_to_text(markup: str, deadline: Deadline, max_chars: int) -> str:
    parser = _TextParser(deadline, max_chars)
    # Feed in slices so a huge page can be abandoned at the deadline.
    step = 256 * 1024
    for start in range(0, len(markup), step):
        deadline.check()
        parser.feed(markup[start : start + step])
        if parser.chars > max_chars:
            break
    parser.close()
    text = _collapse("".join(parser.parts))
    if not text.strip():
        # A page whose only text is its <title> still says something (e.g. an exported profile stub).
        text = " ".join("".join(parser.title).split())
    return text
