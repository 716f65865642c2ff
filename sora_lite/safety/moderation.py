"""Prompt moderation: normalise → rules → classifier (→ optional external service), one verdict.

Layered so that the cheap, explainable layer decides most prompts and the model only sees the rest.
The studio flow calls `moderate_prompt` before anything is generated; a "block" verdict means no file.

Operator settings (environment):
    SORA_LITE_MODERATION_CLASSIFIER=off     rules only (no model load)
    SORA_LITE_MODERATION_MODEL=<hub id|dir> a stronger sentence-transformers model (must be available offline)
    SORA_LITE_MODERATION_ENDPOINT=<url>     an external moderation service (see endpoint.py)
    SORA_LITE_MODERATION_FAIL_CLOSED=1      block when a configured layer is unavailable
    SORA_LITE_MODERATION_RULES_DIR=<dir>    extra rule files (see rules.py)
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sora_lite.safety.classifier import (
    ClassifierScore,
    ClassifierUnavailable,
    ExemplarClassifier,
)
from sora_lite.safety.endpoint import EndpointError, check_endpoint, endpoint_url
from sora_lite.safety.normalize import normalize
from sora_lite.safety.rules import RuleBook, default_rules

CLASSIFIER_ENV = "SORA_LITE_MODERATION_CLASSIFIER"
FAIL_CLOSED_ENV = "SORA_LITE_MODERATION_FAIL_CLOSED"
UNAVAILABLE = "moderation_unavailable"
MAX_PROMPT_CHARS = 20_000


@dataclass
class Verdict:
    """One moderation decision; round-trips through JSON for the CLI, the audit log and the UI."""

    prompt: str
    verdict: Literal["allow", "block"]
    category: str | None
    reason: str
    layer: str
    score: float | None = None

    @property
    def blocked(self) -> bool:
        return self.verdict == "block"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(**{k: data.get(k) for k in ("prompt", "verdict", "category", "reason", "layer", "score")})


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "off", "false", "no")


class PromptModerator:
    """The layered prompt moderator; safe to share between threads (the model loads once, lazily)."""

    def __init__(self, rules: RuleBook | None = None, classifier: ExemplarClassifier | None = None,
                 use_classifier: bool | None = None, fail_closed: bool | None = None,
                 endpoint: str | None = None) -> None:
        self.rules = rules or default_rules()
        self.use_classifier = env_flag(CLASSIFIER_ENV, True) if use_classifier is None else use_classifier
        self.fail_closed = env_flag(FAIL_CLOSED_ENV, False) if fail_closed is None else fail_closed
        self.endpoint = endpoint if endpoint is not None else endpoint_url()
        self._classifier = classifier
        self._lock = threading.Lock()

    @property
    def classifier(self) -> ExemplarClassifier:
        with self._lock:
            if self._classifier is None:
                self._classifier = ExemplarClassifier(rules=self.rules)
            return self._classifier

    def moderate(self, text: str) -> Verdict:
        return self.moderate_many([text])[0]

    def moderate_many(self, texts: list[str]) -> list[Verdict]:
        """Verdicts for many prompts, in order; the classifier sees the undecided ones in one batch."""
        verdicts: list[Verdict | None] = []
        undecided: list[int] = []
        readings = []
        for i, text in enumerate(texts):
            early = self._rule_verdict(text)
            verdicts.append(early)
            readings.append(self.rules.without_allowed(normalize(text).clearest) if early is None else "")
            if early is None:
                undecided.append(i)
        if undecided and self.use_classifier:
            try:
                scores = self.classifier.score_many(
                    [readings[i] for i in undecided],
                    excluded=[self.rules.classifier_excluded(texts[i]) for i in undecided])
            except ClassifierUnavailable as exc:
                for i in undecided:
                    verdicts[i] = self._unavailable(texts[i], "classifier", str(exc))
                undecided = []
            else:
                still = []
                for i, score in zip(undecided, scores):
                    verdicts[i] = self._classifier_verdict(texts[i], score)
                    if verdicts[i] is None:
                        still.append(i)
                undecided = still
        for i in undecided:
            verdicts[i] = self._endpoint_verdict(texts[i]) if self.endpoint else self._allowed(texts[i])
        return [v for v in verdicts if v is not None]

    def _rule_verdict(self, text: str) -> Verdict | None:
        if not isinstance(text, str):
            raise TypeError(f"a prompt must be a string, got {type(text).__name__}")
        if not text.strip():
            return Verdict(text, "allow", None, "Empty prompt: nothing to moderate.", "input")
        if len(text) > MAX_PROMPT_CHARS:
            return Verdict(text, "block", "input", f"Prompt is longer than {MAX_PROMPT_CHARS} characters; "
                           "shorten it.", "input")
        hit = self.rules.check(text)
        if hit is None:
            return None
        cat = self.rules.category(hit.category)
        return Verdict(text, "block", cat.name, f'{cat.reason} (matched "{hit.matched.strip()}")', "rules", 1.0)

    def _classifier_verdict(self, text: str, score: ClassifierScore) -> Verdict | None:
        if not score.blocks(self.classifier.thresholds) or score.category is None:
            return None
        cat = self.rules.category(score.category)
        reason = (f"{cat.reason} (the classifier found this prompt close to blocked examples of "
                  f"{cat.title.lower()}; similarity {score.score:.2f})")
        return Verdict(text, "block", cat.name, reason, "classifier", round(score.score, 4))

    def _endpoint_verdict(self, text: str) -> Verdict:
        try:
            result = check_endpoint(text, self.endpoint)
        except EndpointError as exc:
            return self._unavailable(text, "endpoint", str(exc))
        if not result.flagged:
            return self._allowed(text, layers="rules, classifier and the moderation service")
        try:
            cat_name, reason = result.category, self.rules.category(str(result.category)).reason
        except KeyError:
            cat_name, reason = result.category, "The moderation service flagged this prompt."
        return Verdict(text, "block", cat_name, f"{reason} (moderation service: {result.service_category})",
                       "endpoint", result.score)

    def _unavailable(self, text: str, layer: str, why: str) -> Verdict:
        if self.fail_closed:
            return Verdict(text, "block", UNAVAILABLE, f"Moderation is not fully available, and this instance "
                           f"fails closed: {why}", layer)
        return Verdict(text, "allow", None, f"Allowed by the rules; {layer} not available: {why}", "rules")

    def _allowed(self, text: str, layers: str | None = None) -> Verdict:
        layers = layers or ("rules and classifier" if self.use_classifier else "rules")
        return Verdict(text, "allow", None, f"No policy category matched ({layers}).",
                       "classifier" if self.use_classifier else "rules")


_default: PromptModerator | None = None
_default_lock = threading.Lock()


def default_moderator() -> PromptModerator:
    """The process-wide moderator (settings read from the environment on first use)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PromptModerator()
        return _default


def warm_up() -> None:
    """Load the rules and the classifier now (call at app start so the first request is not slow)."""
    moderator = default_moderator()
    if moderator.use_classifier:
        try:
            moderator.classifier.score("warm up")
        except ClassifierUnavailable:
            pass  # reported on every verdict instead


def moderate_prompt(text: str) -> Verdict:
    """Judge one prompt against the policy (see policy.md)."""
    return default_moderator().moderate(text)


def moderate_prompts(texts: list[str]) -> list[Verdict]:
    """Judge many prompts in order (one classifier batch)."""
    return default_moderator().moderate_many(texts)
