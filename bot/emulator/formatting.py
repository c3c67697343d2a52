"""Turns text with parse_mode (HTML, MarkdownV2, Markdown) into plain text + entities, like Telegram.

Rejecting malformed markup (unsupported tags, unescaped MarkdownV2 characters) matters: the real
API answers 400 "can't parse entities", and the bot must be caught doing that before production.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from .errors import ApiError, bad_request

Entity = dict[str, Any]

_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_MDV2_RESERVED = set("_*[]()~`>#+-=|{}.!")


def utf16_len(text: str) -> int:
    """Telegram measures offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def parse(text: str, parse_mode: str | None) -> tuple[str, list[Entity]]:
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown(text, v2=True)
    if mode == "markdown":
        return _parse_markdown(text, v2=False)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def _cant_parse(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


class _HtmlParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.length = 0
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self.entities: list[Entity] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self.getpos()[1]}')
        self.stack.append((tag, self.length, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1][0] != tag:
            raise _cant_parse(f'Unexpected end tag "{tag}" at byte offset {self.getpos()[1]}')
        _, start, attrs = self.stack.pop()
        if self.length == start:
            return
        entity: Entity = {"type": _HTML_TAGS[tag], "offset": start, "length": self.length - start}
        if tag == "a":
            entity["url"] = attrs.get("href") or ""
        self.entities.append(entity)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)
        self.length += utf16_len(data)


def _parse_html(text: str) -> tuple[str, list[Entity]]:
    parser = _HtmlParser()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{parser.stack[-1][0]}"')
    entities = sorted(parser.entities, key=lambda e: (e["offset"], -e["length"]))
    return "".join(parser.parts), entities


def _parse_markdown(text: str, *, v2: bool) -> tuple[str, list[Entity]]:
    """A compact MarkdownV2/Markdown reader: enough to strip markup and catch unescaped characters."""
    markers = {"*": "bold", "_": "italic", "~": "strikethrough", "__": "underline", "||": "spoiler"}
    if not v2:
        markers = {"*": "bold", "_": "italic"}
    out: list[str] = []
    length = 0
    open_: dict[str, int] = {}
    entities: list[Entity] = []
    i = 0
    n = len(text)

    def emit(s: str) -> None:
        nonlocal length
        out.append(s)
        length += utf16_len(s)

    while i < n:
        ch = text[i]
        if ch == "\\" and v2 and i + 1 < n:
            emit(text[i + 1])
            i += 2
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _cant_parse(f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity at byte offset {i}")
            body = text[i + len(fence) : end]
            if fence == "```" and "\n" in body:
                body = body.split("\n", 1)[1]  # the first line names the language
            start = length
            emit(body.replace("\\`", "`").replace("\\\\", "\\") if v2 else body)
            entities.append({"type": "pre" if fence == "```" else "code", "offset": start, "length": length - start})
            i = end + len(fence)
            continue
        if ch == "[":
            close = text.find("](", i)
            end = text.find(")", close + 2) if close >= 0 else -1
            if close < 0 or end < 0:
                if v2:
                    raise _cant_parse("Character '[' is reserved and must be escaped with the preceding '\\'")
                emit(ch)
                i += 1
                continue
            inner, _ = _parse_markdown(text[i + 1 : close], v2=v2)
            start = length
            emit(inner)
            entities.append(
                {"type": "text_link", "offset": start, "length": length - start, "url": text[close + 2 : end]}
            )
            i = end + 1
            continue
        marker = text[i : i + 2] if v2 and text[i : i + 2] in ("__", "||") else ch
        if marker in markers:
            if marker in open_:
                start = open_.pop(marker)
                if length > start:
                    entities.append({"type": markers[marker], "offset": start, "length": length - start})
            else:
                open_[marker] = length
            i += len(marker)
            continue
        if v2 and ch in _MDV2_RESERVED:
            raise _cant_parse(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        emit(ch)
        i += 1
    if open_:
        kind = markers[next(iter(open_))].capitalize()
        raise _cant_parse(f"Can't find end of {kind} entity at byte offset {len(text.encode())}")
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))
