"""The English fast path (issue 15): a plain English prompt is read from a word list, without loading lingua,
and gets the reading lingua gives it (English and nothing else); anything else is left to lingua."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from sora_lite.safety import language as L

BENCH_PROMPT = "a red ball bounces on a wooden floor"


def test_the_bench_prompt_is_read_as_english_alone_without_lingua(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_cache", {})

    def no_lingua(text: str) -> L.LanguageReading:
        raise AssertionError(f"lingua was asked about {text!r}")

    monkeypatch.setattr(L, "_detect", no_lingua)
    reading = L.detect_language(BENCH_PROMPT)
    assert reading == L.LanguageReading("en", "English", 1.0, ("en",), (), BENCH_PROMPT, False, ("LATIN",), ("en",))
    assert L.detect_language("Three red balls bounce on a wooden floor at sunset, slow orbit.").language == "en"


@pytest.mark.parametrize("text", [
    "una pelota roja rebota en el suelo de madera",  # Spanish
    "a red ball",  # under FAST_MIN_WORDS: lingua is unsure of short texts
    "a red ball bounces on a wooden floor 🙂 кот",  # not ASCII
    "a red ball bounces on a wooden floor near the zzyzx",  # a word outside the list
    "a man in a tuxedo",  # short, and no two strong English words more than foreign-leaning ones
    "la pelota rebota",
    "",
    "1234 5678",
])
def test_anything_not_plainly_english_is_left_to_lingua(text: str) -> None:
    assert L.english_at_a_glance(text) is None


def test_a_window_of_foreign_leaning_words_is_left_to_lingua() -> None:
    every, strong, foreign = L._english_word_classes()
    assert strong and foreign and strong <= every and foreign <= every and not strong & foreign
    plain = sorted(every - strong - foreign)
    lean = sorted(foreign)[:4]
    # Strong English words in the first window, only foreign-leaning ones in the second.
    first = sorted(strong)[:4]
    assert L.english_at_a_glance(" ".join(first + lean)) is None
    # A window needs one strong word more than it has foreign-leaning ones: none at all is too few.
    assert L.english_at_a_glance(" ".join(first + plain[:4])) is None
    assert L.english_at_a_glance(" ".join(first + plain[:3] + sorted(strong)[4:5])) is not None
    assert L.english_at_a_glance(" ".join(first + plain[:2] + lean[:1] + sorted(strong)[4:5])) is None


def test_without_the_word_list_every_prompt_goes_to_lingua(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    try:
        monkeypatch.setattr(L, "ENGLISH_WORDS_FILE", tmp_path / "missing.json")
        L._english_word_classes.cache_clear()
        assert L.english_at_a_glance(BENCH_PROMPT) is None
        (tmp_path / "broken.json").write_text("{not json")
        monkeypatch.setattr(L, "ENGLISH_WORDS_FILE", tmp_path / "broken.json")
        L._english_word_classes.cache_clear()
        assert L.english_at_a_glance(BENCH_PROMPT) is None
    finally:
        monkeypatch.undo()
        L._english_word_classes.cache_clear()  # the shipped list again for the tests after this one
    assert L.english_at_a_glance(BENCH_PROMPT) is not None


def test_a_plain_english_prompt_starts_no_helper_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_cache", {})
    monkeypatch.setattr(L, "_pending", None)
    monkeypatch.setattr(L, "_DETECTOR", L._Detector())  # as in a fresh CLI process: nothing loaded

    def no_process(texts: list[str]) -> None:
        raise AssertionError(f"a helper was started for {texts}")

    monkeypatch.setattr(L, "_Prefetch", no_process)
    assert not L.prefetch([BENCH_PROMPT])
    assert L._pending is None


def test_the_word_list_file_is_well_formed() -> None:
    data = json.loads(L.ENGLISH_WORDS_FILE.read_text(encoding="utf-8"))
    words = [w for key in ("strong", "foreign", "plain") for w in data[key]]
    assert len(words) == len(set(words)) > 1000
    assert all(w.isascii() and w.isalpha() and w == w.lower() for w in words)
    assert "_about" in data


@pytest.mark.slow  # loads lingua's 20 Latin-script models (~4 s) and reads ~3,000 prompts
def test_every_shipped_prompt_the_fast_path_takes_reads_the_same_with_lingua() -> None:
    pytest.importorskip("lingua")
    data = Path(L.__file__).parent / "data"
    files = sorted([*data.glob("moderation_*.jsonl"), *(data / "multilingual").glob("dev*.jsonl"),
                    *(data / "multilingual").glob("everyday*.jsonl")])
    prompts = {json.loads(line)["prompt"] for f in files for line in f.read_text(encoding="utf-8").splitlines()
               if line.strip()}
    taken = [p for p in sorted(prompts) if L.english_at_a_glance(p) is not None]
    assert len(taken) > 50
    differ = [p for p in taken
              if dataclasses.replace(L._detect(p), confidence=1.0) != L.english_at_a_glance(p)]
    assert differ == []
