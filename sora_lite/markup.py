"""Text is text: user words (prompts, handles, display names) made safe to put inside Markdown or HTML.

Gradio's Markdown strips scripts but keeps `<img>`, `<a>`, `<details>`, so a prompt rendered as Markdown
could make every viewer's browser fetch a URL or show a live link. `markdown_text` escapes the HTML
characters and backslash-escapes every Markdown punctuation mark (and ':' / '@', so no bare URL or e-mail
address becomes a link), and folds line breaks: the reader sees exactly the characters that were typed.
"""

from __future__ import annotations

import html

_MARKDOWN = set("\\`*_{}[]()#+-.!|~:@$=^")


def markdown_text(text: object, limit: int | None = None) -> str:
    """`text` as inert Markdown/HTML that renders as the same characters (cut to `limit` with '…')."""
    value = "" if text is None else str(text)
    if limit is not None and len(value) > limit:
        value = value[: max(0, limit - 1)] + "…"
    value = " ".join(value.split())  # newlines and tabs would start Markdown blocks
    escaped = "".join("\\" + c if c in _MARKDOWN else c for c in value)
    return html.escape(escaped, quote=True)


def html_text(text: object) -> str:
    """`text` for an HTML context (error toasts): only &, <, > and quotes are escaped."""
    return html.escape("" if text is None else str(text), quote=True)
