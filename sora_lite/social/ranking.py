"""The feed's two orders: Newest, and Inspiration (variety and remixability, not watch time).

Inspiration, in plain words (also shown in the About tab, `RANKING_ABOUT`):
1. Take the most recent public clips (`window`, default 200).
2. Give each a base score: how recent it is (halving every `half_life_h` hours) plus a boost when its creator
   left it open to remix and few people have remixed it yet (the boost shrinks with each remix).
3. Fill the page one clip at a time with the clip whose base score, minus how similar its prompt is to the
   clips already chosen (cosine similarity of prompt embeddings), is highest: maximal marginal relevance.
   So the second space-themed or bouncing-ball clip waits until something different has had a turn.
4. No creator gets more than `per_creator` places in any page of `page` clips (when other creators' clips
   remain).
There are no likes, views or watch time in it: nothing you do while watching moves a clip up.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import func, select

from sora_lite import feed as clip_feed
from sora_lite.accounts import UserInfo
from sora_lite.social.embeddings import Embedder, clip_vectors, default_embedder
from sora_lite.store import ClipRow, Store, User

MODES = ("inspiration", "newest")


@dataclass(frozen=True)
class RankingSettings:
    window: int = 200  # how many recent public clips are considered
    half_life_h: float = 72.0  # recency halves every this many hours
    remix_boost: float = 0.5  # added for a clip open to remix with no remixes yet (÷ (1 + remixes))
    diversity: float = 0.6  # 0: recency order only; 1: variety only (MMR's 1 − λ)
    per_creator: int = 3  # at most this many places per creator ...
    page: int = 20  # ... in each page of this many clips


RANKING_ABOUT = """
**How the feed is ordered.** *Newest* shows public clips, newest first. *Inspiration* (the default) aims at
variety and at clips you can build on, not at keeping you watching:

1. it looks at the most recent public clips (up to 200);
2. each gets a base score: how recent it is (the score halves every 3 days), plus a bonus when its creator left
   it open to remix and few people have remixed it yet (the bonus shrinks with every remix);
3. the page is filled one clip at a time, each time taking the clip whose base score *minus its similarity to
   the clips already picked* is highest (similarity of what the prompts describe, from the same sentence model
   that moderation uses), so ten bouncing-ball clips in a row become one bouncing ball, then something else;
4. no creator gets more than 3 of any 20 places while others have clips to show.

There are no likes, views or watch time in the ranking: nothing you do while watching moves a clip up.
Unlisted and private clips never appear in either order.
"""


@dataclass
class FeedPage:
    mode: str
    clips: list[Any]  # ClipRecord
    embedder: str | None = None
    scores: list[dict[str, float]] = field(default_factory=list)  # per clip: base, similarity, chosen-with


def check_mode(mode: str) -> str:
    value = str(mode or "").strip().lower()
    if value not in MODES:
        raise ValueError(f"feed mode must be one of {', '.join(MODES)}, got {mode!r}")
    return value


def _candidates(store: Store, window: int) -> tuple[list[tuple[ClipRow, str | None]], dict[str, int]]:
    with store.session() as s:
        rows = s.execute(
            select(ClipRow, User.username).outerjoin(User, ClipRow.user_id == User.id)
            .where(ClipRow.deleted_at.is_(None), ClipRow.visibility == "public")
            .order_by(ClipRow.created_ts.desc(), ClipRow.id.desc()).limit(window)
        ).all()
        ids = [r.id for r, _ in rows]
        remixes = dict(s.execute(
            select(ClipRow.parent_id, func.count()).where(ClipRow.parent_id.in_(ids), ClipRow.deleted_at.is_(None))
            .group_by(ClipRow.parent_id)).all()) if ids else {}
        return [(r, n) for r, n in rows], remixes


def base_scores(rows: list[ClipRow], remixes: dict[str, int], settings: RankingSettings, now: float) -> np.ndarray:
    """Recency (1 for a clip made now, halving every half-life) plus the remix-invitation boost."""
    ages_h = np.array([max(0.0, now - (r.created_ts or 0.0)) / 3600.0 for r in rows])
    recency = 0.5 ** (ages_h / settings.half_life_h)
    boost = np.array([settings.remix_boost * (1.0 if r.remix_open is not False else 0.0) / (1 + remixes.get(r.id, 0))
                      for r in rows])
    return recency + boost


def mmr_order(base: np.ndarray, vectors: np.ndarray, creators: list[Any], settings: RankingSettings,
              count: int) -> list[int]:
    """Indices in page order: greedy maximal marginal relevance with the per-creator cap per page."""
    n = len(base)
    if n == 0:
        return []
    span = float(base.max() - base.min())
    relevance = (base - base.min()) / span if span > 0 else np.ones(n)
    lam = 1.0 - settings.diversity
    sims = vectors @ vectors.T if len(vectors) else np.zeros((n, n))
    closest = np.full(n, 0.0)  # highest similarity to anything already chosen (0 before the first pick)
    chosen: list[int] = []
    free = np.ones(n, bool)
    per_page: Counter = Counter()
    while len(chosen) < min(count, n):
        if len(chosen) % settings.page == 0:
            per_page = Counter()
        score = lam * relevance - (1.0 - lam) * closest
        allowed = free & np.array([per_page[c] < settings.per_creator for c in creators])
        pool = allowed if allowed.any() else free  # only capped creators left: show them rather than nothing
        best = int(np.argmax(np.where(pool, score, -np.inf)))
        chosen.append(best)
        free[best] = False
        per_page[creators[best]] += 1
        closest = np.maximum(closest, sims[best])
    return chosen


def ranked_feed(store: Store, mode: str = "inspiration", viewer: UserInfo | None = None, limit: int = 20,
                offset: int = 0, settings: RankingSettings | None = None,
                embedder: Embedder | Callable[[list[str]], np.ndarray] | None = None,
                now: float | None = None) -> FeedPage:
    """One page of the feed in `mode`. Only public clips appear (whoever `viewer` is)."""
    mode = check_mode(mode)
    limit = max(1, min(int(limit), clip_feed.MAX_PAGE))
    offset = max(0, int(offset))
    if mode == "newest":
        return FeedPage(mode, clip_feed.list_feed(store, limit=limit, offset=offset))
    settings = settings or RankingSettings()
    candidates, remixes = _candidates(store, settings.window)
    if not candidates:
        return FeedPage(mode, [])
    embedder = embedder or default_embedder()
    rows = [r for r, _ in candidates]
    vectors_by_id = clip_vectors(store, {r.id: r.prompt or "" for r in rows}, embedder)
    vectors = np.stack([vectors_by_id[r.id] for r in rows]).astype(np.float32)
    base = base_scores(rows, remixes, settings, time.time() if now is None else now)
    order = mmr_order(base, vectors, [r.user_id for r in rows], settings, offset + limit)[offset:offset + limit]
    clips = [clip_feed._record(candidates[i][0], candidates[i][1]) for i in order]
    scores = [{"base": round(float(base[i]), 4)} for i in order]
    return FeedPage(mode, clips, getattr(embedder, "name", type(embedder).__name__), scores)
