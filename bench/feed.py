"""Issue 17's discovery bar on 200 clips from 10 users (rows inserted directly, tests/social_fixtures.py):

1. search returns exactly the matching clips (checked against a plain-Python scan of every prompt) in ≤ 100 ms
   (each query timed `--repeats` times; the bar is on the 95th percentile, median and max printed too);
2. the Inspiration feed's first 20 clips cover at least twice as many distinct prompt clusters as the
   newest-first 20, with no creator more than 3 times.

    python bench/feed.py [--embedder model|hash] [--threshold 0.5] [--seed 0]

How clusters are counted: every public clip's prompt is embedded with the same sentence model the feed uses
(MiniLM, from moderation), the embeddings are clustered by average-linkage agglomerative clustering on cosine
distance, cut at `--threshold` (0.5: prompts in one cluster are on average at least 0.5 cosine-similar), and a
page's count is the number of distinct cluster labels among its 20 clips. The data's own theme labels (ten
themes, uploaded in trending bursts) are printed alongside as a cross-check; the ranking never reads them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

QUERIES = ["red balls", "dominoes", "pendulum night", "planet", "taxis neon", "marble ramp sunset", "billiard",
           "pine forest leaves", "tower", "orbit", "close up blue", "sail*", "nothing-like-this"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--embedder", choices=["model", "hash"], default="model")
    parser.add_argument("--threshold", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    if args.embedder == "hash":
        os.environ["SORA_LITE_FEED_EMBEDDER"] = "hash"

    import numpy as np
    from scipy.cluster.hierarchy import fcluster, linkage
    from social_fixtures import fill_store

    from sora_lite.social import ranking, search
    from sora_lite.social.embeddings import clip_vectors, default_embedder
    from sora_lite.store import open_store

    home = Path(tempfile.mkdtemp(prefix="sora-feed-bench-"))
    store = open_store(f"sqlite:///{home / 'bench.db'}", home=home)
    data = fill_store(store, n_users=10, n_clips=200, seed=args.seed)
    public = [c for c in data.clips if c.visibility == "public"]
    print(json.dumps({"clips": len(data.clips), "users": len(data.users), "public": len(public),
                      "unlisted": sum(c.visibility == "unlisted" for c in data.clips),
                      "private": sum(c.visibility == "private" for c in data.clips)}))

    # --- 1. search ---------------------------------------------------------------------------------------------------
    worst_ms, all_times, all_exact = 0.0, [], True
    for query in QUERIES:
        terms = search.query_terms(query)
        expected = {c.id for c in public if search.matches(c.prompt, terms)}
        times, result = [], None
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            result = search.search(store, query, limit=200)
            times.append((time.perf_counter() - t0) * 1000)
        exact = set(result.ids()) == expected and len(result.ids()) == len(expected)
        all_exact &= exact
        worst_ms = max(worst_ms, max(times))
        all_times += times
        print(json.dumps({"query": query, "hits": len(result.ids()), "expected": len(expected), "exact": exact,
                          "backend": result.backend, "median_ms": round(statistics.median(times), 2),
                          "max_ms": round(max(times), 2)}))
    p95 = float(np.percentile(all_times, 95))
    # the bar is on the 95th percentile: on a shared 2-core box a single call can wait behind other processes
    print(json.dumps({"search_exact": all_exact, "search_median_ms": round(statistics.median(all_times), 2),
                      "search_p95_ms": round(p95, 2), "search_max_ms": round(worst_ms, 2), "bar_ms": 100,
                      "search_ok": all_exact and p95 <= 100}))

    # --- 2. feed -----------------------------------------------------------------------------------------------------
    t0 = time.perf_counter()
    embedder = default_embedder()
    load_s = time.perf_counter() - t0
    now = max(c.created_ts for c in data.clips)
    t0 = time.perf_counter()
    inspired = ranking.ranked_feed(store, "inspiration", limit=20, embedder=embedder, now=now)
    first_rank_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    ranking.ranked_feed(store, "inspiration", limit=20, embedder=embedder, now=now)
    cached_rank_s = time.perf_counter() - t0
    newest = ranking.ranked_feed(store, "newest", limit=20)

    vectors_by_id = clip_vectors(store, {c.id: c.prompt for c in public}, embedder)
    ids = [c.id for c in public]
    matrix = np.stack([vectors_by_id[i] for i in ids])
    labels = dict(zip(ids, fcluster(linkage(matrix, "average", metric="cosine"), args.threshold, "distance")))
    themes = {c.id: c.info["theme"] for c in public}

    def describe(page):
        clusters = {int(labels[c.id]) for c in page.clips}
        creators = Counter(c.user for c in page.clips)
        return {"clusters": len(clusters), "themes": len({themes[c.id] for c in page.clips}),
                "max_per_creator": max(creators.values()), "creators": len(creators)}

    got_new, got_insp = describe(newest), describe(inspired)
    print(json.dumps({"embedder": inspired.embedder, "model_load_s": round(load_s, 2),
                      "rank_first_s": round(first_rank_s, 3), "rank_cached_s": round(cached_rank_s, 3),
                      "clusters_total": len(set(labels.values())), "threshold": args.threshold}))
    print(json.dumps({"newest_20": got_new}))
    print(json.dumps({"inspiration_20": got_insp}))
    ok = got_insp["clusters"] >= 2 * got_new["clusters"] and got_insp["max_per_creator"] <= 3
    print(json.dumps({"feed_ratio": round(got_insp["clusters"] / max(1, got_new["clusters"]), 2), "feed_ok": ok}))
    return 0 if ok and all_exact and p95 <= 100 else 1


if __name__ == "__main__":
    sys.exit(main())
