"""The two policy checks of the studio flow, as one exception a door can show: `PolicyBlocked`.

`check_request` runs before anything is generated (every text of a request: the prompt, each shot, and any
speech or on-screen text, all under the same prompt policy); `check_output` runs on the generated frames
before they are marked and written. A block means no file.

Output moderation without its image classifier cannot judge frames. A public instance (a Hugging Face Space,
`SPACE_ID` set, or a server listening on a network address, `GRADIO_SERVER_NAME` not loopback) then refuses
the clip by default; a local single-user instance keeps allowing it as "not_checked". The operator decides
with `SORA_LITE_OUTPUT_FAIL_CLOSED=1|0` either way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from sora_lite.common.errors import RequestError
from sora_lite.common.request import GenerationRequest
from sora_lite.safety.moderation import (
    FAIL_CLOSED_ENV,
    Verdict,
    env_flag,
    moderate_prompt,
)
from sora_lite.safety.output import OutputVerdict, moderate_output

OUTPUT_FAIL_CLOSED_ENV = "SORA_LITE_OUTPUT_FAIL_CLOSED"
LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}
# Request fields (in `options`, or in a shot) that hold words someone will hear or read in the clip.
SPEECH_KEYS = ("dialogue", "speech", "say", "lines", "narration", "voiceover", "voice_over")
ON_SCREEN_KEYS = ("on_screen_text", "onscreen_text", "text_overlay", "overlay_text", "caption", "captions",
                  "subtitle", "subtitles", "title_card", "title")


class PolicyBlocked(RequestError):
    """The policy refused a request (stage "prompt") or a generated clip (stage "output")."""

    def __init__(self, stage: str, category: str | None, reason: str, details: dict[str, Any]) -> None:
        self.stage, self.category, self.reason, self.details = stage, category, reason, details
        what = "prompt" if stage == "prompt" else "generated clip"
        super().__init__(f"blocked by the content policy ({category or 'unspecified'}): the {what} — {reason}")


def public_instance(server_name: str | None = None) -> bool:
    """Whether strangers can reach this instance: on a Space, or serving on a non-loopback address."""
    if os.environ.get("SPACE_ID"):
        return True
    name = (server_name or os.environ.get("GRADIO_SERVER_NAME") or "127.0.0.1").strip().lower()
    return name not in LOOPBACK and not name.startswith("127.")


def output_fail_closed(server_name: str | None = None) -> bool:
    """Refuse clips the image classifier could not check? The operator's setting when there is one, else
    yes on a public instance and no on a local one."""
    for name in (OUTPUT_FAIL_CLOSED_ENV, FAIL_CLOSED_ENV):
        if os.environ.get(name, "").strip():
            return env_flag(name, False)
    return public_instance(server_name)


def _strings(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 4:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key in ("text", "line", "say", "content"):
            if key in value:
                yield from _strings(value[key], depth + 1)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item, depth + 1)


def request_texts(request: GenerationRequest) -> list[tuple[str, str]]:
    """(kind, text) for every text a request carries: "prompt", "shot prompt", "speech", "on-screen text"."""
    texts = [("prompt", request.prompt or "")]
    sources: list[tuple[str, dict[str, Any]]] = [("", request.options or {})]
    for shot in request.shots or []:
        if isinstance(shot, dict):
            texts.append(("shot prompt", str(shot.get("prompt") or "")))
            sources.append(("shot ", shot))
    for prefix, source in sources:
        for kind, keys in (("speech", SPEECH_KEYS), ("on-screen text", ON_SCREEN_KEYS)):
            for key in keys:
                if key in source and not (prefix and key == "title"):
                    texts += [(f"{prefix}{kind}", t) for t in _strings(source[key])]
    return [(kind, text) for kind, text in texts if text.strip()]


def check_text(text: str, kind: str = "prompt") -> Verdict:
    """One text under the prompt policy (speech and on-screen text included); raises PolicyBlocked."""
    verdict = moderate_prompt(text)
    if verdict.blocked:
        reason = verdict.reason if kind in ("prompt", "shot prompt") else f"{kind}: {verdict.reason}"
        raise PolicyBlocked("prompt", verdict.category, reason, {**verdict.to_dict(), "kind": kind})
    return verdict


def check_texts(texts: list[tuple[str, str]]) -> Verdict | None:
    """Every (kind, text) under the prompt policy, in order; the last verdict, or None when there was none."""
    verdict: Verdict | None = None
    for kind, text in texts:
        verdict = check_text(text, kind)
    return verdict


def check_request(request: GenerationRequest) -> Verdict:
    """The prompt verdict for every text of the request; raises PolicyBlocked on the first block."""
    verdict = check_texts(request_texts(request))
    return verdict or Verdict(prompt="", verdict="allow", category=None, reason="no text to check", layer="none")


def check_output(frames: np.ndarray) -> OutputVerdict:
    """The output verdict ("allow" / "not_checked" without classifier weights); raises PolicyBlocked on a block.

    Unchecked frames are refused on a public instance unless the operator says otherwise (`output_fail_closed`).
    """
    fail_closed = output_fail_closed()
    verdict = moderate_output(frames, fail_closed=fail_closed, detect_faces=False)
    if verdict.blocked:
        raise PolicyBlocked("output", verdict.category, verdict.reason, verdict.to_dict())
    return verdict


__all__ = ["OUTPUT_FAIL_CLOSED_ENV", "PolicyBlocked", "check_output", "check_request", "check_text", "check_texts",
           "output_fail_closed", "public_instance", "request_texts"]
