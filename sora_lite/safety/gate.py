"""The two policy checks of the studio flow, as one exception a door can show: `PolicyBlocked`.

`check_request` runs before anything is generated (every prompt of a request: the prompt and each shot);
`check_output` runs on the generated frames before they are marked and written. A block means no file.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sora_lite.engines.base import GenerationRequest, RequestError
from sora_lite.safety.moderation import FAIL_CLOSED_ENV, Verdict, env_flag, moderate_prompt
from sora_lite.safety.output import OutputVerdict, moderate_output

OUTPUT_FAIL_CLOSED_ENV = "SORA_LITE_OUTPUT_FAIL_CLOSED"


class PolicyBlocked(RequestError):
    """The policy refused a request (stage "prompt") or a generated clip (stage "output")."""

    def __init__(self, stage: str, category: str | None, reason: str, details: dict[str, Any]) -> None:
        self.stage, self.category, self.reason, self.details = stage, category, reason, details
        what = "prompt" if stage == "prompt" else "generated clip"
        super().__init__(f"blocked by the content policy ({category or 'unspecified'}): the {what} — {reason}")


def check_request(request: GenerationRequest) -> Verdict:
    """The prompt verdict for every text of the request; raises PolicyBlocked on the first block."""
    texts = [request.prompt or ""] + [str(s.get("prompt") or "") for s in request.shots or [] if isinstance(s, dict)]
    verdict: Verdict | None = None
    for text in texts:
        if not text.strip():
            continue
        verdict = moderate_prompt(text)
        if verdict.blocked:
            raise PolicyBlocked("prompt", verdict.category, verdict.reason, verdict.to_dict())
    return verdict or Verdict(prompt="", verdict="allow", category=None, reason="no text to check", layer="none")


def check_output(frames: np.ndarray) -> OutputVerdict:
    """The output verdict ("allow" / "not_checked" without classifier weights); raises PolicyBlocked on a block.

    A public instance sets SORA_LITE_OUTPUT_FAIL_CLOSED=1 so unchecked frames are refused.
    """
    fail_closed = env_flag(OUTPUT_FAIL_CLOSED_ENV, False) or env_flag(FAIL_CLOSED_ENV, False)
    verdict = moderate_output(frames, fail_closed=fail_closed, detect_faces=False)
    if verdict.blocked:
        raise PolicyBlocked("output", verdict.category, verdict.reason, verdict.to_dict())
    return verdict


__all__ = ["OUTPUT_FAIL_CLOSED_ENV", "PolicyBlocked", "check_output", "check_request"]
