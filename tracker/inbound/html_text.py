"""Reading an HTML-only message as plain text, without the mail it quotes.

Built on the standard library's `html.parser`, which never raises on broken
markup. Clients mark quoted mail structurally in HTML, which is more reliable
than any text pattern, so those parts are dropped here:

- `<blockquote>` (Gmail, Apple Mail, Thunderbird, NetEase's `isReplyContent`);
- Gmail's `gmail_quote` container, Thunderbird's `moz-cite-prefix`, Yahoo's
  `yahoo_quoted`, Outlook for Mac's `OLK_SRC_BODY_SECTION`;
- Outlook's `divRplyFwdMsg` header block and everything after it (the quoted
  mail follows it as siblings, not children).
"""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

from tracker.inbound.html_markup import LONE_LT, bounded_markup
from tracker.inbound.limits import MAX_HTML_DEPTH, BeyondBounds

_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "center", "dd", "div", "dl", "dt",
        "fieldset", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6",
        "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table",
        "tbody", "thead", "tfoot", "tr", "ul",
    }
)  # fmt: skip
_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)
_INVISIBLE_TAGS = frozenset({"head", "script", "style", "title", "template", "xml"})
_QUOTE_MARKERS = ("gmail_quote", "moz-cite-prefix", "yahoo_quoted", "olk_src_body_section")
_TRUNCATE_MARKERS = ("divrplyfwdmsg", "mail-editor-reference-message-container")
# Elements that a new sibling of the same name closes ("<p>one<p>two"), as browsers do.
_CLOSED_BY_SIBLING = frozenset({"p", "li", "dt", "dd", "tr", "td", "th", "option"})
_WHITESPACE_RUN = re.compile(r"[ \t\r\n\f\v]+")


class _TextCollector(HTMLParser):
    """Collects visible text, skipping quoted subtrees; see the module docstring."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._current: list[str] = []
        self._stack: list[str] = []
        self._open = Counter[str]()  # the stack's tags, so "is it open?" costs no scan
        self._skip_depth: int | None = None  # stack depth where a skipped subtree began
        self._pre_depth = 0
        self.truncated = False

    # The parser calls these hooks; they track which subtree we are in.
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.truncated:
            return
        if tag in _VOID_TAGS:
            self._void(tag)
            return
        if tag in _CLOSED_BY_SIBLING and self._stack and self._stack[-1] == tag:
            self.handle_endtag(tag)
        if len(self._stack) >= MAX_HTML_DEPTH:
            raise BeyondBounds(f"HTML nesting deeper than {MAX_HTML_DEPTH} levels")
        self._stack.append(tag)
        self._open[tag] += 1
        if self._skip_depth is not None:
            return
        marks = " ".join(f"{value or ''}" for name, value in attrs if name in ("id", "class"))
        marks = marks.lower()
        if any(marker in marks for marker in _TRUNCATE_MARKERS):
            self.truncated = True
            self._drop_trailing_rule()
            return
        if (
            tag in _INVISIBLE_TAGS
            or tag == "blockquote"
            or any(marker in marks for marker in _QUOTE_MARKERS)
        ):
            self._skip_depth = len(self._stack)
            return
        if tag in _BLOCK_TAGS:
            self._break_line()
        if tag == "pre":
            self._pre_depth += 1

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _VOID_TAGS:
            self._void(tag)
        else:
            self.handle_starttag(tag, attrs)
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.truncated or tag in _VOID_TAGS or not self._open[tag]:
            return
        # Close up to the matching open tag: mail HTML leaves many tags unclosed.
        while self._stack:
            closed = self._stack.pop()
            self._open[closed] -= 1
            if self._skip_depth is not None and len(self._stack) < self._skip_depth:
                self._skip_depth = None
                if closed == tag:
                    return
                continue
            if self._skip_depth is None:
                if closed in _BLOCK_TAGS:
                    self._break_line()
                if closed == "pre":
                    self._pre_depth = max(0, self._pre_depth - 1)
            if closed == tag:
                return

    def handle_data(self, data: str) -> None:
        if self.truncated or self._skip_depth is not None:
            return
        if self._pre_depth:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._break_line(force=True)
                self._current.append(part)
            return
        self._current.append(_WHITESPACE_RUN.sub(" ", data))

    def _void(self, tag: str) -> None:
        if self.truncated or self._skip_depth is not None:
            return
        if tag == "br":
            self._break_line(force=True)
        elif tag == "hr":
            self._break_line()
            self.lines.append("________________________________")

    def _drop_trailing_rule(self) -> None:
        # Outlook puts an <hr> just before divRplyFwdMsg; it belongs to the quote.
        self._break_line()
        while self.lines and self.lines[-1].strip() in ("", "________________________________"):
            self.lines.pop()

    def _break_line(self, *, force: bool = False) -> None:
        line = "".join(self._current)
        self._current = []
        # Blocks start new lines but add no blank ones: clients write one <div>
        # or <p> per line and mark blank lines explicitly (<br>, &nbsp;).
        if force or line.strip():
            self.lines.append(line.strip(" ") if not self._pre_depth else line)

    def text(self) -> str:
        self._break_line()
        return "\n".join(self.lines)


def html_to_text(html: str) -> str:
    """The visible, unquoted text of an HTML mail body, one line per block or `<br>`.

    Raises `BeyondBounds` for markup past the reader's bounds (tags, nesting).
    """
    collector = _TextCollector()
    collector.feed(bounded_markup(html))
    collector.close()
    text = collector.text().replace("\xa0", " ").replace(LONE_LT, "<")
    return re.sub(r"\n{3,}", "\n\n", text).strip()
