"""The gloss's dictionary forms (safety/lemmas.py) are simplemma's own: the same lemma as
`simplemma.lemmatize` for every word tried, whether the lookup index was just built, read back from the
disk cache in a new process, or the cache file was damaged (issue 15: the index is what a CLI run no longer
rebuilds)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

simplemma = pytest.importorskip("simplemma")

from sora_lite.safety.gloss import GLOSS_DIR, LEMMA_LANGUAGES  # noqa: E402

INFLECTED = {"es": "rebota pelotas corriendo comió niñas", "fr": "mangeait chevaux allées finissons",
             "de": "Häuser ging gesprungen Kindern", "it": "andavano ragazze mangiato", "pt": "correndo cidades fez",
             "ru": "бежала собаки домами", "ar": "الكتب يكتبون", "hi": "लड़कियों खाया"}


def _words(language: str, n: int = 150) -> list[str]:
    lines = (GLOSS_DIR / f"{language}.tsv").read_text(encoding="utf-8").splitlines()
    words = [w for line in lines if "\t" in line and not line.startswith("#")
             for w in re.findall(r"\w+", line.split("\t")[0].lower())]
    return sorted(set(words[:: max(1, len(words) // n)]) | set(INFLECTED[language].lower().split()))


SCRIPT = ("import json, sys; from sora_lite.safety import lemmas; words = json.load(sys.stdin); "
          "print(json.dumps({lang: [lemmas.lemmatize(w, lang) for w in ws] for lang, ws in words.items()}))")


@pytest.mark.slow
def test_lemmas_equal_simplemmas_cold_warm_and_with_a_damaged_cache(tmp_path: Path) -> None:
    words = {lang: _words(lang) for lang in sorted(LEMMA_LANGUAGES)}
    want = {lang: [simplemma.lemmatize(w, lang=lang) for w in ws] for lang, ws in words.items()}
    env = {**__import__("os").environ, "SORA_LITE_CACHE_DIR": str(tmp_path)}

    def run() -> dict[str, list[str]]:
        done = subprocess.run([sys.executable, "-c", SCRIPT], input=json.dumps(words), capture_output=True,
                              text=True, env=env, check=True)
        return json.loads(done.stdout)

    assert run() == want  # index built and stored
    stored = sorted((tmp_path / "derived").glob("simplemma-*.marshal"))
    assert [p.name for p in stored] == sorted(f"simplemma-{lang}.marshal" for lang in LEMMA_LANGUAGES)
    assert run() == want  # index read back
    for path in stored:
        path.write_bytes(path.read_bytes()[:100])  # cut short
    assert run() == want


def test_an_unsupported_language_raises_as_simplemma_does() -> None:
    from sora_lite.safety import lemmas

    with pytest.raises(ValueError):
        simplemma.lemmatize("word", lang="xx")
    with pytest.raises(ValueError):
        lemmas.lemmatize("word", "xx")
