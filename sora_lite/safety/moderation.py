"""Prompt moderation: normalise → rules → language → lexicons → gloss → classifier (→ optional service), one verdict.

Layered so that the cheap, explainable layer decides most prompts and the model only sees the rest.
The studio flow calls `moderate_prompt` before anything is generated; a "block" verdict means no file.

Every prompt gets a language (language.py). Prompts in a supported language other than English are
judged by that language's lexicon (lexicon.py) and its category concepts (concepts.py), then by the English
classifier reading a word-by-word English gloss of it (gloss.py) with its own examples and stricter
thresholds; the English embedding classifier never reads the foreign words themselves
(it misreads foreign words: "un perro juega con una pelota roja" sits near its *sexual* examples). A
language the instance cannot judge is refused by name, or allowed with a warning where the operator
says so.

Operator settings (environment):
    SORA_LITE_MODERATION_CLASSIFIER=off     rules only (no model load)
    SORA_LITE_MODERATION_GLOSS=off          do not let the classifier read English glosses of other languages
    SORA_LITE_MODERATION_MODEL=<hub id|dir> a stronger sentence-transformers model (must be available offline)
    SORA_LITE_MODERATION_ENDPOINT=<url>     an external moderation service (see endpoint.py)
    SORA_LITE_MODERATION_FAIL_CLOSED=1      block when a configured layer is unavailable
    SORA_LITE_MODERATION_RULES_DIR=<dir>    extra rule files (see rules.py)
    SORA_LITE_UNSUPPORTED_LANGUAGE=refuse   (default) refuse prompts in languages no lexicon covers;
                                  =allow-with-warning for a private instance: allow them, saying so
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
from sora_lite.safety.concepts import check_all, romanised
from sora_lite.safety.endpoint import EndpointError, check_endpoint, endpoint_url
from sora_lite.safety.gloss import (
    Gloss,
    GlossThresholds,
    gloss,
    gloss_exemplar_rows,
)
from sora_lite.safety.language import (
    SUPPORTED,
    LanguageDetectorUnavailable,
    LanguageReading,
    detect_language,
    supported_names,
    warm_up_detector,
)
from sora_lite.safety.rules import RuleBook, default_rules

CLASSIFIER_ENV = "SORA_LITE_MODERATION_CLASSIFIER"
GLOSS_ENV = "SORA_LITE_MODERATION_GLOSS"
FAIL_CLOSED_ENV = "SORA_LITE_MODERATION_FAIL_CLOSED"
UNAVAILABLE = "moderation_unavailable"
UNSUPPORTED_ENV = "SORA_LITE_UNSUPPORTED_LANGUAGE"
UNSUPPORTED_CHOICES = ("refuse", "allow-with-warning")
UNSUPPORTED_CATEGORY = "unsupported_language"
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
    language: str | None = None  # ISO 639-1 code of the prompt's main language ("und": none found)
    languages: list[str] | None = None  # every language found in the prompt, main first

    @property
    def blocked(self) -> bool:
        return self.verdict == "block"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        return cls(**{k: data.get(k) for k in ("prompt", "verdict", "category", "reason", "layer", "score",
                                               "language", "languages")})


def env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() not in ("0", "off", "false", "no")


class PromptModerator:
    """The layered prompt moderator; safe to share between threads (the model loads once, lazily)."""

    def __init__(self, rules: RuleBook | None = None, classifier: ExemplarClassifier | None = None,
                 use_classifier: bool | None = None, fail_closed: bool | None = None,
                 endpoint: str | None = None, unsupported: str | None = None) -> None:
        self.rules = rules or default_rules()
        self.unsupported = unsupported_policy() if unsupported is None else unsupported
        if self.unsupported not in UNSUPPORTED_CHOICES:
            raise ValueError(f"unsupported-language policy must be one of {UNSUPPORTED_CHOICES}, "
                             f"got {self.unsupported!r}")
        self.use_classifier = env_flag(CLASSIFIER_ENV, True) if use_classifier is None else use_classifier
        self.fail_closed = env_flag(FAIL_CLOSED_ENV, False) if fail_closed is None else fail_closed
        self.endpoint = endpoint if endpoint is not None else endpoint_url()
        self._classifier = classifier
        self._injected_classifier = classifier is not None
        self._lock = threading.Lock()
        self.use_gloss = env_flag(GLOSS_ENV, True)
        self._gloss_classifier: ExemplarClassifier | None = None
        self.gloss_thresholds = GlossThresholds.load()

    @property
    def gloss_classifier(self) -> ExemplarClassifier:
        """The classifier that reads glosses: the English examples plus the glossed multilingual tuning
        prompts (broken English is closest to broken English), with the gloss thresholds."""
        if self._injected_classifier:
            return self.classifier  # a caller's own classifier (tests, a custom model) reads the glosses too
        with self._lock:
            if self._gloss_classifier is None:
                english = self._classifier
                rows = gloss_exemplar_rows()
                self._gloss_classifier = ExemplarClassifier(
                    model_name=english.model_name if english is not None else None, rules=self.rules,
                    thresholds=self.gloss_thresholds.classifier,
                    extra_examples=[(category, gloss) for category, gloss, _ in rows],
                    extra_groups=[source for _, _, source in rows])
            return self._gloss_classifier

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
        glosses: dict[int, Gloss] = {}
        for i, text in enumerate(texts):
            early = self._rule_verdict(text)
            english = ""
            if early is None:
                lang = self._language(text)
                early = self._lexicon_verdict(text, lang) or self._unsupported_verdict(text, lang)
                english = self._english_reading(text, lang)
                if early is None and not english:
                    reading = self._gloss_reading(text, lang)
                    if reading is not None:
                        glosses[i] = reading
            elif early.verdict == "block" and early.layer == "rules":
                lang = self._language(text)
                early.language, early.languages = lang.language, list(lang.languages)
            verdicts.append(early)
            readings.append(english)
            if early is None:
                undecided.append(i)
        if self.use_classifier and glosses:
            self._judge_glosses(texts, glosses, verdicts)
        classify = [i for i in undecided if readings[i]]
        for i in undecided:
            if not readings[i] and verdicts[i] is None:  # not English: rules, lexicon and gloss have spoken
                verdicts[i] = self._endpoint_verdict(texts[i]) if self.endpoint else Verdict(
                    texts[i], "allow", None, "No policy category matched (rules and the lexicon of its language"
                    + (", and its English gloss)." if i in glosses else ")."), "lexicon")
        undecided = classify
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
        out = [v for v in verdicts if v is not None]
        for v in out:
            if v.language is None and v.layer != "input":
                lang = self._language(v.prompt)
                v.language, v.languages = lang.language, list(lang.languages)
        return out

    def _language(self, text: str) -> LanguageReading:
        try:
            return detect_language(text)
        except LanguageDetectorUnavailable:
            # No detector: check the prompt against every lexicon and let the classifier read it as before.
            return LanguageReading("und", "undetermined", 0.0, tuple(SUPPORTED), (), text)

    def _lexicon_verdict(self, text: str, lang: LanguageReading) -> Verdict | None:
        hit = check_all(text, [c for c in lang.languages if c != "en"], lang.scripts,
                        [c for c in (lang.likely or lang.languages) if c != "en"])
        if hit is None:
            return None
        cat = self.rules.category(hit.category)
        name = SUPPORTED.get(hit.language, hit.language)
        return Verdict(text, "block", cat.name, f'{cat.reason} (matched "{hit.matched.strip()}", {name})',
                       f"lexicon:{hit.language}", 1.0, lang.language, list(lang.languages))

    def _unsupported_verdict(self, text: str, lang: LanguageReading) -> Verdict | None:
        if lang.supported:
            return None
        names = " and ".join(lang.unsupported)
        message = f"Prompts in {names} cannot be checked here; write in one of {supported_names()}."
        if self.unsupported == "allow-with-warning":
            return Verdict(text, "allow", None, f"Warning: {message} Allowed unchecked because this instance "
                           f"sets {UNSUPPORTED_ENV}=allow-with-warning.", "language", None,
                           lang.language, list(lang.languages))
        return Verdict(text, "block", UNSUPPORTED_CATEGORY, message, "language", None, lang.language,
                       list(lang.languages))

    def _gloss_reading(self, text: str, lang: LanguageReading) -> Gloss | None:
        """The prompt's English gloss when its language has a table that reads enough of it."""
        if not self.use_gloss or lang.language in ("en", "und") or not lang.supported:
            return None
        reading = gloss(text, lang.language)
        if reading is None or not reading.english or reading.coverage < self.gloss_thresholds.coverage:
            return None
        return reading

    def _judge_glosses(self, texts: list[str], glosses: dict[int, Gloss], verdicts: list[Verdict | None]) -> None:
        """The English classifier reads the glosses (stricter thresholds: a gloss is broken English); a block
        names the gloss it read. An unavailable classifier leaves the lexicon's verdict standing."""
        order = sorted(glosses)
        english = [self.rules.classifier_text(glosses[i].english) for i in order]
        try:
            scores = self.gloss_classifier.score_many(english,
                                                      excluded=[self.rules.classifier_excluded(e) for e in english])
        except ClassifierUnavailable:
            return
        for i, reading, score in zip(order, english, scores):
            if not score.blocks(self.gloss_thresholds.classifier) or score.category is None:
                continue
            cat = self.rules.category(score.category)
            name = SUPPORTED.get(glosses[i].language, glosses[i].language)
            verdicts[i] = Verdict(texts[i], "block", cat.name,
                                  f'{cat.reason} (read word by word from {name} as "{reading}", the classifier '
                                  f"found it close to blocked examples of {cat.title.lower()}; similarity "
                                  f"{score.score:.2f})", f"gloss:{glosses[i].language}", round(score.score, 4))

    def _english_reading(self, text: str, lang: LanguageReading) -> str:
        """What the English classifier may read: the whole prompt when it is English (or its language is
        unclear), only the English part of a prompt in another language, nothing otherwise."""
        if "hi_latn" in romanised(text):  # Hinglish: its romanised word list judged it; the English model misreads it
            return ""
        if lang.language == "und":
            return self.rules.classifier_text(text)
        if lang.english:
            return self.rules.classifier_text(lang.english)
        return ""

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


# One everyday prompt per language moderation judges (and the two romanised ones): `warm_up(every_language=True)`
# reads each, so each language's word lists are compiled into this machine's caches once.
WARM_UP_PROMPTS: dict[str, str] = {
    "en": "a dog plays with a red ball in the park", "es": "un perro juega con una pelota roja en el parque",
    "fr": "un chien joue avec une balle rouge dans le parc", "de": "ein Hund spielt mit einem roten Ball im Park",
    "it": "un cane gioca con una palla rossa nel parco", "pt": "um cão brinca com uma bola vermelha no parque",
    "ru": "собака играет с красным мячом в парке", "zh": "一只狗在公园里玩红色的球", "ja": "犬が公園で赤いボールで遊んでいる",
    "ar": "كلب يلعب بكرة حمراء في الحديقة", "hi": "एक कुत्ता पार्क में लाल गेंद से खेलता है",
    "hi_latn": "ek kutta park mein laal gend se khel raha hai", "ar_latn": "kalb byel3ab b kora 7amra fi el 7adi2a",
}


def warm_up(every_language: bool = False) -> None:
    """Load the rules and the classifier now (call at app start so the first request is not slow).

    `every_language`: also read one prompt in each language moderation judges, which compiles every
    lexicon; what is derived (compiled rules and word lists, the classifiers' example embeddings) is kept in
    this machine's caches, so `python -m sora_lite prepare` (install.sh runs it) spares the first command of
    every later process that work (~7 s for an English prompt, ~30 s more for the first other-language one)."""
    moderator = default_moderator()
    try:
        warm_up_detector()
    except LanguageDetectorUnavailable:
        pass  # every lexicon is then checked; reported nowhere else because nothing is refused for it
    if moderator.use_classifier:
        try:
            moderator.classifier.score("warm up")
            if moderator.use_gloss:  # its glossed examples are embedded once per machine (~30 s), then cached
                moderator.gloss_classifier.score("warm up")
        except ClassifierUnavailable:
            pass  # reported on every verdict instead
    if every_language:
        moderator.moderate_many(list(WARM_UP_PROMPTS.values()))


def unsupported_policy() -> str:
    """The operator's choice for prompts in languages moderation cannot judge (refuse by default)."""
    value = (os.environ.get(UNSUPPORTED_ENV) or "refuse").strip().lower().replace("_", "-")
    if value not in UNSUPPORTED_CHOICES:
        raise ValueError(f"{UNSUPPORTED_ENV}={value!r} is not one of {', '.join(UNSUPPORTED_CHOICES)}")
    return value


def moderate_prompt(text: str) -> Verdict:
    """Judge one prompt against the policy (see policy.md)."""
    return default_moderator().moderate(text)


def moderate_prompts(texts: list[str]) -> list[Verdict]:
    """Judge many prompts in order (one classifier batch)."""
    return default_moderator().moderate_many(texts)
