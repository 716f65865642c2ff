"""`python -m sora_lite prepare` (install.sh runs it) fills this machine's caches, so that the first command of
a new process derives nothing: every language's compiled word lists and concept words, the rule book, the
classifiers' example embeddings are on disk afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _files(cache: Path) -> dict[str, float]:
    return {str(p.relative_to(cache)): p.stat().st_mtime for p in cache.rglob("*") if p.is_file()}


@pytest.mark.slow
def test_after_prepare_a_new_process_moderating_any_language_derives_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {**os.environ, "SORA_LITE_CACHE_DIR": str(cache), "SORA_LITE_HOME": str(tmp_path / "home")}
    done = subprocess.run([sys.executable, "-m", "sora_lite", "prepare"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "prepared in" in done.stdout
    from sora_lite.safety.language import SUPPORTED
    from sora_lite.safety.moderation import WARM_UP_PROMPTS

    assert set(SUPPORTED) <= set(WARM_UP_PROMPTS)
    before = _files(cache)
    names = " ".join(before)
    for code in SUPPORTED:
        if code != "en":  # English is the rule book and the classifier; each other language has a lexicon
            assert f"lexicon-{code}-" in names and f"concepts-{code}" in names, code
    assert any(n.startswith("moderation/") for n in before)  # the classifiers' example embeddings
    # a new process reading prompts it has never seen, in three languages, adds or rewrites nothing
    for prompt in ("a chef slices onions in a sunny kitchen", "una niña pinta un barco azul en la playa",
                   "кошка спит на тёплом подоконнике"):
        checked = subprocess.run([sys.executable, "-m", "sora_lite", "moderate", prompt], cwd=ROOT, env=env,
                                 capture_output=True, text=True, timeout=300, check=False)
        assert checked.returncode == 0, checked.stderr[-2000:]
    assert _files(cache) == before
