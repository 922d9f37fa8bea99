"""The plain-text part of an e-mail, made from its HTML when a template has no text of its own.

Rules (what a reader of the text part needs, not a layout engine):

* ``<head>``, ``<style>``, ``<script>``, ``<title>`` and comments are dropped;
* block elements (paragraphs, headings, divs, tables' rows, lists) start a new paragraph, ``<br>`` a
  new line, ``<li>`` a ``- `` item, ``<hr>`` a line of dashes; table cells are separated by two spaces;
* a link keeps its text followed by its target, ``Unsubscribe (https://...)``, unless the text is
  the target already or the target is not a web or mail address (``#top``, ``javascript:``);
* ``<img alt="...">`` keeps its alt text; runs of white space become one space; at most one blank line
  between paragraphs.

>>> html_to_text('<html><head><style>p{color:red}</style></head><body><h1>Hello&nbsp;Ana</h1>'
...              '<p>Your <b>coffee   machine</b> is due.</p><ul><li>Descale</li><li>Clean</li></ul>'
...              '<p><a href="https://x.test/u?t=1">Unsubscribe</a></p></body></html>')
'Hello Ana\\n\\nYour coffee machine is due.\\n\\n- Descale\\n- Clean\\n\\nUnsubscribe (https://x.test/u?t=1)'
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_SKIP = frozenset({"head", "style", "script", "title", "template"})
_BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "center", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "html", "main",
        "nav", "ol", "p", "pre", "section", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_LINK_SCHEMES = ("http://", "https://", "mailto:")
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.skip_depth = 0
        self.links: list[tuple[str | None, int]] = []  # (href, position in out where its text starts)

    # -- structure ---------------------------------------------------------------------------------
    def _break(self, lines: int) -> None:
        self.out.append("\n" * lines)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skip_depth += 1
        elif self.skip_depth:
            return
        elif tag in _BLOCK:
            self._break(2)
        elif tag == "br":
            self._break(1)
        elif tag == "li":
            self._break(1)
            self.out.append("- ")
        elif tag == "hr":
            self._break(2)
            self.out.append("-" * 20)
            self._break(2)
        elif tag in ("td", "th"):
            self.out.append("  ")
        elif tag == "a":
            self.links.append((dict(attrs).get("href"), len(self.out)))
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.out.append(alt)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:  # <br/>, <img/>, <hr/>: the same as their start tag, nothing to close
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif self.skip_depth:
            return
        elif tag in _BLOCK:
            self._break(2)
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            text = _SPACES.sub(" ", "".join(self.out[start:])).strip()
            target = (href or "").strip()
            shown = target.removeprefix("mailto:")
            if target.lower().startswith(_LINK_SCHEMES) and shown not in text:
                self.out.append(f" ({target})" if text else target)

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.out.append(_SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(html: str) -> str:
    """The readable plain text of ``html`` (see the module's rules)."""
    builder = _TextBuilder()
    builder.feed(html)
    builder.close()
    lines = [line.strip() for line in "".join(builder.out).split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
