"""Optional external moderation service, configured by the operator; never required.

`SORA_LITE_MODERATION_ENDPOINT` names a URL that accepts `POST {"input": "<prompt>"}` and answers in the
widely used moderation shape `{"results": [{"flagged": bool, "categories": {"sexual": bool, ...},
"category_scores": {...}}]}`. `SORA_LITE_MODERATION_API_KEY`, when set, is sent as a bearer token (and
never logged). The service's category names are mapped onto this policy's categories.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass

ENDPOINT_ENV = "SORA_LITE_MODERATION_ENDPOINT"
API_KEY_ENV = "SORA_LITE_MODERATION_API_KEY"
TIMEOUT_S = 10.0

# Service category → policy category; the most specific service names come first.
CATEGORY_MAP: list[tuple[str, str]] = [
    ("sexual/minors", "minors"), ("sexual", "sexual"), ("self-harm", "self_harm"), ("self_harm", "self_harm"),
    ("violence", "violence"), ("hate", "hate"), ("harassment", "hate"), ("illicit", "weapons_illegal"),
    ("extremism", "extremism"), ("terror", "extremism"),
]


class EndpointError(RuntimeError):
    """The moderation service could not be reached or answered something unreadable."""


@dataclass(frozen=True)
class EndpointResult:
    flagged: bool
    category: str | None
    service_category: str | None
    score: float | None


def endpoint_url() -> str | None:
    return os.environ.get(ENDPOINT_ENV) or None


def _policy_category(name: str) -> str:
    for prefix, category in CATEGORY_MAP:
        if name.startswith(prefix):
            return category
    return "other"


def check_endpoint(text: str, url: str | None = None, timeout: float = TIMEOUT_S) -> EndpointResult:
    """Ask the configured service about one prompt (raises EndpointError)."""
    url = url or endpoint_url()
    if not url:
        raise EndpointError(f"no moderation endpoint configured ({ENDPOINT_ENV})")
    headers = {"Content-Type": "application/json"}
    if os.environ.get(API_KEY_ENV):
        headers["Authorization"] = f"Bearer {os.environ[API_KEY_ENV]}"
    request = urllib.request.Request(url, data=json.dumps({"input": text}).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = json.loads(response.read().decode("utf-8"))
        result = body["results"][0]
        flagged = bool(result["flagged"])
    except (urllib.error.URLError, TimeoutError, OSError, ValueError, KeyError, IndexError, TypeError) as exc:
        raise EndpointError(f"moderation endpoint {url} failed: {type(exc).__name__}: {exc}") from exc
    categories = [name for name, hit in (result.get("categories") or {}).items() if hit]
    scores = result.get("category_scores") or {}
    if not flagged:
        return EndpointResult(False, None, None, max(scores.values(), default=None) if scores else None)
    ranked = sorted(categories, key=lambda n: -float(scores.get(n, 0.0)))
    for prefix, _ in CATEGORY_MAP:  # most specific first (sexual/minors before sexual)
        match = next((n for n in ranked if n.startswith(prefix)), None)
        if match:
            return EndpointResult(True, _policy_category(match), match, scores.get(match))
    return EndpointResult(True, "other", ranked[0] if ranked else None, None)
