"""Text helpers for the catalogue: loose matching keys and HTML to plain text."""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

_NON_WORD = re.compile(r"[^0-9a-z.%+#]+")
_SPACES = re.compile(r"[ \t\f\v\u00a0]+")
_WHITESPACE = re.compile(r"\s+")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of `text`, punctuation kept (for substring tests)."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.casefold()


def loose(text: str) -> str:
    """`fold` with punctuation and spaces collapsed: "Vocals / Instrumental" -> "vocals instrumental"."""
    return " ".join(words(text))


def words(text: str) -> list[str]:
    """The folded words of `text` (letters, digits, and the `.`, `%`, `+`, `#` that appear in option labels)."""
    return [w.strip(".") for w in _NON_WORD.split(fold(text)) if w.strip(".")]


_BLOCK_TAGS = {"p", "div", "br", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote"}
_CELL_TAGS = {"td", "th"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style"}:
            self._skip += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" | ")

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style"}:
            self._skip = max(0, self._skip - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(_WHITESPACE.sub(" ", data))  # in HTML, line breaks in text are spaces


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, paragraphs on their own lines."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = []
    for raw in "".join(parser.parts).split("\n"):
        line = _SPACES.sub(" ", raw).strip()
        line = line.strip(" |")
        if line:
            lines.append(line)
    return "\n".join(lines)
