"""HTML mail bodies to plain text, with quoted parts (blockquote, gmail_quote, Outlook) dropped."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

_BLOCK = {
    "p", "div", "br", "li", "tr", "table", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "pre",
    "section", "article", "ul", "ol", "dd", "dt",
}
_SKIP = {"style", "script", "head", "title", "xml"}
_VOID = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr", "source"}
# class/id values that mark quoted text in the common clients
_QUOTE_CLASSES = {
    "gmail_quote", "gmail_attr", "yahoo_quoted", "moz-cite-prefix", "protonmail_quote",
    "outlookmessageheader", "zmail_extra", "ms-outlook-quote",
}
# after one of these, everything that follows is the quoted original (Outlook on the web/desktop)
_CUT_IDS = {"appendonsend", "divrplyfwdmsg", "mail-editor-reference-message-container"}


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.new: list[str] = []
        self.full: list[str] = []
        self._stack: list[tuple[str, bool, bool]] = []  # (tag, opened quote, opened skip)
        self._quote_depth = 0
        self._skip_depth = 0
        self.cut = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        attr = {k.lower(): (v or "") for k, v in attrs}
        classes = set(attr.get("class", "").lower().split())
        ident = attr.get("id", "").lower()
        if ident in _CUT_IDS:
            self.cut = True
        if tag in _BLOCK:
            self._emit("\n")
        if tag in _VOID:
            return
        if len(self._stack) >= 2000:  # malformed markup that never closes: stay bounded
            return
        quote = tag == "blockquote" or bool(classes & _QUOTE_CLASSES)
        skip = tag in _SKIP
        self._quote_depth += quote
        self._skip_depth += skip
        self._stack.append((tag, quote, skip))

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _BLOCK:
            self._emit("\n")
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i][0] == tag:
                for _, quote, skip in self._stack[i:]:
                    self._quote_depth -= quote
                    self._skip_depth -= skip
                del self._stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        self._emit(data.replace("\xa0", " "))

    def _emit(self, text: str) -> None:
        self.full.append(text)
        if not self._quote_depth and not self.cut:
            self.new.append(text)


def _tidy(parts: list[str]) -> str:
    text = "".join(parts)
    text = re.sub(r"[ \t\r\f\v]+", " ", text)
    text = re.sub(r" *\n *", "\n", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(markup: str) -> tuple[str, str]:
    """Return (new text, full text) of an HTML body; the new text leaves out quoted parts."""
    parser = _TextExtractor()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is a last resort for pathological input
        plain = html.unescape(re.sub(r"<[^>]*>", " ", markup))
        return _tidy([plain]), _tidy([plain])
    return _tidy(parser.new), _tidy(parser.full)
