"""Prompt embeddings for the Inspiration feed: the moderation classifier's sentence model (MiniLM), cached
per clip in the database (`clip_embeddings`), with a hashed bag-of-words stand-in where the model cannot run.

The model is the one `sora_lite.safety` already loads for moderation (`default_moderator().classifier.embed`),
so the feed adds no second copy. `SORA_LITE_FEED_EMBEDDER=hash` forces the stand-in (tests, tiny servers);
rows are keyed by the embedder's name, so a change of embedder re-embeds instead of mixing spaces.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Callable
from typing import Protocol

import numpy as np
from sqlalchemy import select

from sora_lite.store import ClipEmbedding, Store

log = logging.getLogger("sora_lite.social")

EMBEDDER_ENV = "SORA_LITE_FEED_EMBEDDER"
HASH_DIM = 512
HASH_NAME = f"hashed-words-{HASH_DIM}"
STOPWORDS = frozenset("a an the and or of on in at to with by for from over under into onto is are it its "
                      "this that then while as very some".split())


class Embedder(Protocol):
    name: str

    def __call__(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 rows, one per text."""
        ...


class HashedWords:
    """Content words hashed into a fixed-size signed vector: prompts that share words are close. A stand-in
    that needs no model; it knows no synonyms (the sentence model does)."""

    name = HASH_NAME

    def __call__(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), HASH_DIM), np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"[^\W_]+", (text or "").lower()):
                if word in STOPWORDS:
                    continue
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                index = int.from_bytes(digest[:4], "little") % HASH_DIM
                out[i, index] += 1.0 if digest[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[i]))
            if norm > 0:
                out[i] /= norm
        return out


class ModerationModel:
    """The moderation classifier's sentence model (loaded once per process, shared with moderation)."""

    def __init__(self) -> None:
        from sora_lite.safety.moderation import default_moderator

        moderator = default_moderator()
        if not moderator.use_classifier:  # the operator chose rules only: no model load for the feed either
            raise RuntimeError("moderation runs without its classifier (SORA_LITE_MODERATION_CLASSIFIER=off)")
        self._classifier = moderator.classifier
        self.name = f"moderation:{self._classifier.model_label}"

    def __call__(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._classifier.embed(list(texts)), dtype=np.float32)


_default: Embedder | None = None


def default_embedder() -> Embedder:
    """The sentence model when it can load, else the hashed stand-in (logged once, and named in every feed
    answer as `embedder`, so a reader knows which one ranked it)."""
    global _default
    choice = (os.environ.get(EMBEDDER_ENV) or "").strip().lower()
    if choice == "hash":
        return HashedWords()
    if _default is None:
        try:
            model = ModerationModel()
            model(["warm up"])
            _default = model
        except Exception as exc:  # ClassifierUnavailable, or moderation switched to rules only
            log.warning("the feed ranks with hashed words: the sentence model is unavailable (%s)", exc)
            _default = HashedWords()
    return _default


def clip_vectors(store: Store, prompts: dict[str, str], embedder: Embedder | Callable[[list[str]], np.ndarray]) -> dict[str, np.ndarray]:
    """clip id → unit vector for each clip in `prompts`; read from the cache, the missing ones embedded in one
    batch and stored."""
    name = getattr(embedder, "name", type(embedder).__name__)
    ids = list(prompts)
    found: dict[str, np.ndarray] = {}
    with store.session() as s:
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for row in s.scalars(select(ClipEmbedding).where(ClipEmbedding.model == name, ClipEmbedding.clip_id.in_(chunk))):
                found[row.clip_id] = np.frombuffer(row.vector, dtype=np.float32)
    missing = [i for i in ids if i not in found]
    if missing:
        vectors = np.asarray(embedder([prompts[i] for i in missing]), dtype=np.float32)
        with store.session() as s:
            for clip_id, vector in zip(missing, vectors):
                found[clip_id] = vector
                s.merge(ClipEmbedding(clip_id=clip_id, model=name, vector=vector.astype(np.float32).tobytes()))
    return found
