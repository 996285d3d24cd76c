"""Provides ``html_to_text``: a message's Matrix HTML (``formatted_body``) as styled Rich text.

Only the tags Matrix clients send are understood (bold, italic, code, strike, links, lists,
quotes, headings, line breaks); every other tag is dropped and its text kept, so nothing a
sender writes can do more than style words.
"""

from __future__ import annotations

from html.parser import HTMLParser

from rich.text import Text

STYLES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "del": "strike",
    "s": "strike",
    "strike": "strike",
    "code": "bold cyan",
    "a": "underline",
    **{f"h{n}": "bold" for n in range(1, 7)},
}
BLOCKS = {"p", "div", "pre", "blockquote", "ul", "ol", "li", *(f"h{n}" for n in range(1, 7))}


class _Parser(HTMLParser):
    def __init__(self, base: str) -> None:
        super().__init__(convert_charrefs=True)
        self.text = Text(style=base)
        self.styles: list[tuple[str, str]] = []  # (tag, style) open now
        self.lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        self.quote = 0
        self.pre = 0
        self.skip = 0  # inside <mx-reply> (the reply fallback) or <script>/<style>

    def _newline(self) -> None:
        if self.text.plain and not self.text.plain.endswith("\n"):
            self.text.append("\n")

    def _style(self) -> str:
        return " ".join(s for _t, s in self.styles)

    def _put(self, data: str) -> None:
        if self.quote and (not self.text.plain or self.text.plain.endswith("\n")):
            self.text.append("▎ " * self.quote, style="dim")
        self.text.append(data, style=self._style())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"mx-reply", "script", "style"}:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self.text.append("\n")
            return
        if tag in BLOCKS:
            self._newline()
        if tag == "blockquote":
            self.quote += 1
        elif tag == "pre":
            self.pre += 1
        elif tag == "ul":
            self.lists.append([])
        elif tag == "ol":
            start = dict(attrs).get("start") or "1"
            self.lists.append([int(start) if start.isdigit() else 1])
        elif tag == "li":
            numbering = self.lists[-1] if self.lists else []
            indent = "  " * max(0, len(self.lists) - 1)
            if numbering:
                self._put(f"{indent}{numbering[0]}. ")
                numbering[0] += 1
            else:
                self._put(f"{indent}• ")
        if tag in STYLES:
            self.styles.append((tag, STYLES[tag]))

    def handle_endtag(self, tag: str) -> None:
        if tag in {"mx-reply", "script", "style"}:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        for i in range(len(self.styles) - 1, -1, -1):
            if self.styles[i][0] == tag:
                del self.styles[i:]
                break
        if tag == "blockquote":
            self.quote = max(0, self.quote - 1)
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        elif tag in {"ul", "ol"} and self.lists:
            self.lists.pop()
        if tag in BLOCKS:
            self._newline()

    def handle_data(self, data: str) -> None:
        if self.skip or not data or (not self.pre and not data.strip() and "\n" in data):
            return  # the newlines between blocks are the blocks' business
        self._put(data)


def html_to_text(html: str, style: str = "") -> Text:
    """Styled text for a ``formatted_body`` (trailing blank lines removed)."""
    parser = _Parser(style)
    parser.feed(html)
    parser.close()
    text = parser.text
    text.rstrip()
    return text
