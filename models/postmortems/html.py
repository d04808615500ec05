"""HTML exports (Confluence, Notion, Google Docs) turned into Markdown-shaped lines.

Uses the standard library's tolerant `html.parser`: nothing is fetched or executed, and the
content of <script>, <style>, <template>, <noscript>, <svg>, <iframe> and <object> is dropped.
Each output line keeps the source line where its block started, so findings point into the file.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset(
    {
        "script",
        "style",
        "template",
        "noscript",
        "svg",
        "iframe",
        "object",
        "math",
        "canvas",
        "select",
        "button",
        "ac:task-id",
    }
)
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "blockquote",
        "pre",
        "dl",
        "dt",
        "dd",
        "figure",
        "figcaption",
        "details",
        "summary",
        "address",
        "form",
        "fieldset",
        "center",
        "body",
        "html",
        "ac:rich-text-body",
        "ac:task-list",
        "ac:layout",
        "ac:layout-section",
        "ac:layout-cell",
        "ac:structured-macro",
    }
)
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_WS_RE = re.compile(r"\s+")
_BOLD_STYLE_RE = re.compile(r"font-weight\s*:\s*(?:bold|[6-9]00)", re.IGNORECASE)
_MAX_DEPTH = 256


class _Converter(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.buf: list[str] = []
        self.buf_line = 1
        self.prefix = ""
        self.skip = 0
        self.lists: list[list[int | str]] = []  # [tag, counter]
        self.tables: list[dict[str, object]] = []
        self.spans: list[bool] = []  # whether each open <span> emitted a bold marker
        self.title: str | None = None
        self.in_title = False
        self.pre = 0
        self.macro: list[str] = []
        self.param: str | None = None
        self.task_status: str | None = None
        self.href: list[str | None] = []
        self.link_start: list[int] = []
        self.depth = 0

    # ---- output helpers -------------------------------------------------------------------
    def _cell(self) -> list[str] | None:
        if self.tables:
            cell = self.tables[-1].get("cell")
            if isinstance(cell, list):
                return cell
        return None

    def emit(self, text: str) -> None:
        cell = self._cell()
        if cell is not None:
            cell.append(text)
            return
        if not self.buf and not self.prefix:
            self.buf_line = self.getpos()[0]
        if not self.buf:
            self.buf_line = self.getpos()[0] if not self.prefix else self.buf_line
        self.buf.append(text)

    def flush(self) -> None:
        cell = self._cell()
        if cell is not None:
            if cell and cell[-1] != "<br>":
                cell.append("<br>")
            return
        text = "".join(self.buf)
        if self.pre:
            body = text.strip("\n")
            for i, part in enumerate(body.split("\n")):
                self.lines.append((self.buf_line + i, (self.prefix if i == 0 else "") + part))
        else:
            text = _WS_RE.sub(" ", text).strip()
            text = text.replace("** **", " ").replace("****", "")
            if text or (self.prefix.strip().startswith(("-", "1.")) and text):
                self.lines.append((self.buf_line, self.prefix + text))
        self.buf = []
        self.prefix = ""

    def block_start(self) -> None:
        self.flush()
        self.buf_line = self.getpos()[0]

    # ---- parser callbacks -----------------------------------------------------------------
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.depth += 1
        if self.skip:
            if tag in _SKIP:
                self.skip += 1
            return
        if tag in _SKIP:
            self.skip = 1
            return
        a = {k: (v or "") for k, v in attrs}
        cls = a.get("class", "")
        if tag == "title":
            self.in_title = True
            self.title = ""
            return
        if tag in _HEADINGS:
            self.block_start()
            if self._cell() is None:
                self.prefix = "#" * _HEADINGS[tag] + " "
            return
        if tag in ("ul", "ol"):
            self.block_start()
            if len(self.lists) < _MAX_DEPTH:
                self.lists.append([tag, 0])
            return
        if tag == "li" or tag == "ac:task":
            self.block_start()
            if self._cell() is not None:
                return
            depth = max(len(self.lists), 1)
            kind = self.lists[-1] if self.lists else ["ul", 0]
            if kind[0] == "ol":
                kind[1] = int(kind[1]) + 1
                marker = f"{kind[1]}. "
            else:
                marker = "- "
            self.prefix = "  " * min(depth - 1, 16) + marker
            if "checked" in cls.split() or a.get("data-checked") == "true":
                self.prefix += "[x] "
            elif "inline-task-list" in " ".join(str(x[0]) for x in self.lists) or a.get(
                "data-inline-task-id"
            ):
                self.prefix += "[ ] "
            return
        if tag == "input" and a.get("type", "").lower() == "checkbox":
            mark = "[x] " if "checked" in a else "[ ] "
            if self.prefix and not self.buf:
                self.prefix += mark
            else:
                self.emit(mark)
            return
        if tag == "div" and "checkbox" in cls:
            mark = "[x] " if "checkbox-on" in cls else "[ ] "
            if self.prefix and not self.buf:
                self.prefix += mark
            else:
                self.emit(mark)
            return
        if tag == "table":
            self.block_start()
            if len(self.tables) < _MAX_DEPTH:
                self.tables.append(
                    {"rows": [], "row": None, "cell": None, "line": self.getpos()[0], "header": []}
                )
            return
        if tag == "tr" and self.tables:
            t = self.tables[-1]
            if t.get("cell") is not None and len(self.tables) == 1:
                return
            t["row"] = []
            t["row_line"] = self.getpos()[0]
            t["th_only"] = True
            return
        if tag in ("td", "th") and self.tables:
            t = self.tables[-1]
            if t.get("row") is None:
                t["row"] = []
                t["row_line"] = self.getpos()[0]
                t["th_only"] = True
            if tag == "td":
                t["th_only"] = False
            t["cell"] = []
            return
        if tag == "br":
            if self._cell() is not None:
                self.emit("<br>")
            else:
                self.flush()
                self.buf_line = self.getpos()[0]
            return
        if tag == "hr":
            self.block_start()
            return
        if tag in ("strong", "b"):
            self.emit("**")
            return
        if tag == "span":
            bold = bool(_BOLD_STYLE_RE.search(a.get("style", "")))
            if len(self.spans) < _MAX_DEPTH:
                self.spans.append(bold)
            if bold:
                self.emit("**")
            return
        if tag == "a":
            href = a.get("href", "")
            self.href.append(href if href.startswith(("http://", "https://")) else None)
            self.emit("")
            self.link_start.append(len(self._cell() or self.buf))
            return
        if tag == "time":
            self.emit(" " + a.get("datetime", "") + " " if "datetime" in a else "")
            self._time_has_attr = "datetime" in a
            return
        if tag == "ri:user":
            name = a.get("ri:username") or a.get("ri:userkey") or a.get("ri:account-id") or ""
            if name:
                self.emit(f"@{name}")
            return
        if tag == "ac:structured-macro":
            self.macro.append(a.get("ac:name", ""))
            self.block_start() if a.get("ac:name") not in ("jira", "status") else None
            return
        if tag == "ac:parameter":
            self.param = a.get("ac:name", "")
            return
        if tag == "ac:task-status":
            self.task_status = ""
            return
        if tag == "pre":
            self.block_start()
            self.pre += 1
            return
        if tag == "p" and "title" in cls.split() and self._cell() is None:
            self.block_start()
            self.prefix = "# "  # Google Docs renders the document title as <p class="title">
            return
        if tag in _BLOCK:
            if tag == "div" and self._cell() is None and self.prefix and not self.buf:
                return  # <li><div>text</div></li>: keep the item marker with its text
            self.block_start()

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in ("br", "hr", "input", "ri:user", "img", "meta", "link"):
            self.handle_endtag(tag)
        else:
            self.depth -= 1

    def handle_endtag(self, tag: str) -> None:
        self.depth = max(0, self.depth - 1)
        if self.skip:
            if tag in _SKIP:
                self.skip -= 1
            return
        if tag == "title":
            self.in_title = False
            return
        if (
            tag in _HEADINGS
            or tag == "li"
            or tag == "ac:task"
            or (tag == "p" and self.prefix == "# ")
        ):
            self.flush()
            return
        if tag in ("ul", "ol"):
            self.flush()
            if self.lists:
                self.lists.pop()
            return
        if tag in ("td", "th") and self.tables:
            t = self.tables[-1]
            cell = t.get("cell")
            if isinstance(cell, list):
                text = _WS_RE.sub(" ", "".join(cell)).strip()
                while text.endswith("<br>"):
                    text = text[:-4].strip()
                while text.startswith("<br>"):
                    text = text[4:].strip()
                row = t.get("row")
                if isinstance(row, list):
                    row.append(text.replace("|", "\\|").replace("** **", " ").replace("****", ""))
            t["cell"] = None
            return
        if tag == "tr" and self.tables:
            t = self.tables[-1]
            row = t.get("row")
            if isinstance(row, list) and row:
                if len(self.tables) > 1:
                    # nested table: fold into the outer cell
                    outer = self.tables[-2].get("cell")
                    if isinstance(outer, list):
                        outer.append(" ; ".join(c for c in row if c) + "<br>")
                else:
                    line = "| " + " | ".join(row) + " |"
                    self.lines.append((int(t.get("row_line", 1)), line))  # type: ignore[arg-type]
                    if not t["rows"]:
                        self.lines.append(
                            (
                                int(t.get("row_line", 1)),  # type: ignore[arg-type]
                                "|" + "---|" * len(row),
                            )
                        )
                    t["rows"].append(row)  # type: ignore[union-attr]
            t["row"] = None
            return
        if tag == "table" and self.tables:
            self.tables.pop()
            if not self.tables:
                self.lines.append((self.getpos()[0], ""))
            return
        if tag in ("strong", "b"):
            self.emit("**")
            return
        if tag == "span":
            if self.spans and self.spans.pop():
                self.emit("**")
            return
        if tag == "a":
            href = self.href.pop() if self.href else None
            start = self.link_start.pop() if self.link_start else 0
            target = self._cell() if self._cell() is not None else self.buf
            text = "".join(target[start:]).strip()
            if href and text and text != href and "](" not in text:
                del target[start:]
                target.append(f"[{text}]({href})")
            elif href and not text:
                target.append(href)
            return
        if tag == "ac:structured-macro":
            if self.macro:
                self.macro.pop()
            return
        if tag == "ac:parameter":
            self.param = None
            return
        if tag == "ac:task-status":
            mark = "[x] " if (self.task_status or "").strip() == "complete" else "[ ] "
            self.prefix = (self.prefix or "- ") + mark
            self.task_status = None
            return
        if tag == "pre":
            self.flush()
            self.pre = max(0, self.pre - 1)
            return
        if tag in _BLOCK:
            if self.prefix and not self.buf and self._cell() is None:
                return  # e.g. Notion's <div class="checkbox"></div> before the item text
            self.flush()

    def handle_data(self, data: str) -> None:
        if self.skip:
            return
        if self.in_title:
            self.title = (self.title or "") + data
            return
        if self.task_status is not None:
            self.task_status += data
            return
        if self.macro and self.param is not None:
            # Only a Jira macro's key and a status macro's title are content.
            if self.param in ("key", "title") and self.macro[-1] in ("jira", "status"):
                self.emit(" " + data.strip() + " ")
            return
        if self.macro and self.macro[-1] in ("jira", "status"):
            return
        if not self.pre:
            data = data.replace("\n", " ")
        self.emit(data)

    def handle_comment(self, data: str) -> None:
        return

    def unknown_decl(self, data: str) -> None:
        if data.startswith("CDATA[") and self.macro and self.macro[-1] in ("code", "noformat"):
            for part in data[6:].split("\n"):
                self.lines.append((self.getpos()[0], "    " + part))


def html_to_lines(text: str) -> tuple[list[tuple[int, str]], str | None]:
    """(Markdown-shaped lines with source line numbers, the <title> text if any)."""
    conv = _Converter()
    try:
        conv.feed(text)
        conv.close()
    except (AssertionError, ValueError, IndexError):
        # html.parser is tolerant, but a malformed declaration can still raise; keep what we have.
        pass
    conv.flush()
    title = _WS_RE.sub(" ", conv.title).strip() if conv.title else None
    return conv.lines, title or None


def looks_like_html(text: str) -> bool:
    head = text[:2048].lstrip().lower()
    return head.startswith(
        (
            "<!doctype html",
            "<html",
            "<?xml",
            "<body",
            "<div",
            "<h1",
            "<p>",
            "<meta",
            "<head",
            "<ac:",
            "<table",
            "<section",
            "<article",
        )
    )
