"""A database full of clips without rendering any: rows inserted directly (issue 17's "200 clips from 10
users"), for the discovery tests and bench/feed.py.

Uploads come in bursts, as on a real feed where one idea trends for a while (people remix it): 20 clips in a
row mostly of one theme, one prolific creator making about a third of them. Each clip gets a theme label in
`info["theme"]` (ground truth the ranking never reads).
"""

from __future__ import annotations

import json
import random
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sora_lite import accounts
from sora_lite.store import ClipRow, Store

THEMES_FILE = Path(__file__).parent / "data" / "social_themes.json"
HUB_MODEL = "Lightricks/LTX-Video"


@dataclass
class Filled:
    users: list[accounts.UserInfo]
    clips: list[ClipRow] = field(default_factory=list)  # detached copies, newest last

    def by_id(self) -> dict[str, ClipRow]:
        return {c.id: c for c in self.clips}


def themes() -> dict[str, str]:
    return json.loads(THEMES_FILE.read_text())["themes"]


def prompt_for(theme: str, rng: random.Random) -> str:
    data = json.loads(THEMES_FILE.read_text())
    slots = {k: rng.choice(v) for k, v in data["slots"].items()}
    return data["themes"][theme].format(count=rng.choice(["two", "three", "four", "five"]), **slots)


def fill_store(store: Store, n_users: int = 10, n_clips: int = 200, seed: int = 0, burst: int = 20,
               start_ts: float | None = None, step_s: float = 600.0, hidden: bool = True,
               password: str = "social-test-pw") -> Filled:
    """Users `maker0..` (accounts with `password`) and `n_clips` clips, one every `step_s` seconds ending now.

    Per clip: a theme (the burst's theme 85 % of the time), a creator (maker0 about a third of the time),
    has_sound (70 %), the Hub model instead of the world engine (20 %), the cameo @maker1 (10 %), a remix of an
    earlier clip of the same theme (25 %), and with `hidden` unlisted (8 %) or private (5 %) visibility."""
    rng = random.Random(seed)
    users = []
    for i in range(n_users):
        try:
            users.append(accounts.create_account(store, f"maker{i}", password))
        except accounts.AccountError:
            users.append(accounts.get_user(store, f"maker{i}"))
    names = list(themes())
    now = start_ts if start_ts is not None else datetime.now(timezone.utc).timestamp()
    filled = Filled(users)
    by_theme: dict[str, list[str]] = {t: [] for t in names}
    burst_theme = names[0]
    with store.session() as s:
        for i in range(n_clips):
            if i % burst == 0:
                burst_theme = names[(i // burst) % len(names)]
            theme = burst_theme if rng.random() < 0.85 else rng.choice(names)
            user = users[0] if rng.random() < 0.33 else rng.choice(users[1:] or users)
            created = now - (n_clips - 1 - i) * step_s
            parent = rng.choice(by_theme[theme]) if by_theme[theme] and rng.random() < 0.25 else None
            cameo = "maker1" if rng.random() < 0.10 else None
            visibility = "public"
            if hidden:
                roll = rng.random()
                visibility = "unlisted" if roll < 0.08 else "private" if roll < 0.13 else "public"
            clip_id = uuid.UUID(int=rng.getrandbits(128)).hex[:16]
            row = ClipRow(
                id=clip_id, user_id=user.id, parent_id=parent, prompt=prompt_for(theme, rng), spec=None, seed=i,
                engine=HUB_MODEL if rng.random() < 0.2 else "world",
                request={"options": {"cameos": [{"handle": cameo, "cameo_id": "x", "kind": "owner"}]}} if cameo else {},
                info={"theme": theme}, timings={}, video_path=f"/nonexistent/{clip_id}.mp4", thumbnail_path=None,
                created_at=datetime.fromtimestamp(created, timezone.utc).replace(tzinfo=None), created_ts=created,
                visibility=visibility, share_token=uuid.UUID(int=rng.getrandbits(128)).hex,
                has_sound=rng.random() < 0.7, cameos=f" {cameo} " if cameo else "",
            )
            s.add(row)
            s.flush()
            by_theme[theme].append(clip_id)
            filled.clips.append(row)
        s.expunge_all()
    return filled
