"""Derived data kept on disk between processes (issue 15, CLI start-up): the rule book's regex sources and
the classifier's reading of its tuning prompts. A value from the cache must equal the value derived anew;
a changed file must never be answered from the cache; a damaged or unwritable cache only costs time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sora_lite.common import disk_cache
from sora_lite.safety import classifier, rules


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(disk_cache.CACHE_ENV, str(folder))
    return folder


def _patterns(book: rules.RuleBook) -> list[object]:
    def p(x: re.Pattern[str] | None) -> object:
        return None if x is None else (x.pattern, x.flags)

    cats = [(c.name, c.title, c.reason, c.severity, p(c.terms), [(s, p(q)) for s, q in c.patterns],
             [(label, [p(q) for q in group]) for label, group in c.both], [(label, p(q)) for label, q in c.near],
             p(c.allow), c.exemplars, c.locked, p(c.classifier_cues), c.classifier_cue_names) for c in book.categories]
    return [cats, p(book.allow), book.benign_exemplars, p(book.operator_allow)]


def test_values_round_trip_and_a_different_key_or_damage_gives_nothing(cache: Path) -> None:
    key = disk_cache.digest(["a", b"b"])
    assert key != disk_cache.digest(["ab"])  # part boundaries count
    disk_cache.store("t", key, {"x": [1, "two", None]})
    assert disk_cache.load("t", key) == {"x": [1, "two", None]}
    assert disk_cache.load("t", disk_cache.digest(["other"])) is None
    (cache / "derived" / "t.marshal").write_bytes(b"\x00not marshal")
    assert disk_cache.load("t", key) is None
    disk_cache.store("t", key, {1, 2} | {object()})  # not plain data: not stored, no error
    assert disk_cache.load("t", key) is None


def test_an_unwritable_cache_folder_only_costs_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    monkeypatch.setenv(disk_cache.CACHE_ENV, str(blocked))
    disk_cache.store("t", "k", [1])
    assert disk_cache.load("t", "k") is None
    assert rules.load_rules().categories  # derived anew each time


def test_the_rule_book_from_the_cache_equals_the_one_derived_from_the_files(cache: Path) -> None:
    fresh = rules.load_rules()
    assert (cache / "derived" / "rulebook.marshal").exists() and fresh.source_key
    cached = rules.load_rules()
    assert cached.source_key == fresh.source_key
    assert _patterns(cached) == _patterns(fresh)
    assert cached.categories[0].terms is not None


def test_an_edited_rule_file_is_read_again_not_answered_from_the_cache(cache: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    rule = extra / "zorblax.yaml"
    rule.write_text("category: zorblax\ntitle: Zorblax\nreason: test\nterms: [glimbering]\n")
    first = rules.load_rules(extra)
    assert first.check("a glimbering scene") is not None
    rule.write_text("category: zorblax\ntitle: Zorblax\nreason: test\nterms: [frobnicating]\n")
    second = rules.load_rules(extra)
    assert second.source_key != first.source_key
    assert second.check("a glimbering scene") is None
    assert second.check("a frobnicating scene") is not None


def test_a_bad_rule_file_still_raises_after_a_good_one_was_cached(cache: Path, tmp_path: Path) -> None:
    extra = tmp_path / "extra"
    extra.mkdir()
    rules.load_rules(extra)
    (extra / "broken.yaml").write_text("category: broken\ntitle: B\nreason: r\npatterns: ['a(']\n")
    with pytest.raises(rules.RuleDataError, match="bad pattern"):
        rules.load_rules(extra)


def test_the_tuning_prompts_read_from_the_cache_equal_those_read_anew(cache: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    tune = tmp_path / "tune.jsonl"
    tune.write_text('{"prompt": "A N00D man, ｎｕｄｅ", "label": "block", "category": "sexual"}\n'
                    '{"prompt": "a dog plays in the park", "label": "allow"}\n', encoding="utf-8")
    fresh = classifier.tuning_exemplars(tune)
    assert fresh == [("sexual", rules.default_rules().classifier_text("A N00D man, ｎｕｄｅ")),
                     (None, "a dog plays in the park")]
    assert (cache / "derived" / "tuning-exemplars.marshal").exists()
    assert classifier.tuning_exemplars(tune) == fresh
    tune.write_text('{"prompt": "a cat sleeps", "label": "allow"}\n', encoding="utf-8")
    assert classifier.tuning_exemplars(tune) == [(None, "a cat sleeps")]


def test_chinese_and_japanese_concept_words_are_tried_in_an_order_that_is_the_same_in_every_process() -> None:
    """Longest first, ties by text: with ties in set order, which word a block reports changed with the
    interpreter's hash seed (found comparing two runs of the same code)."""
    from sora_lite.safety.concepts import load_concepts, CONCEPT_DIR

    for language in ("zh", "ja"):
        lexicon = load_concepts(CONCEPT_DIR / f"{language}.yaml")
        assert lexicon.concepts
        for words in lexicon.concepts.values():
            assert words == sorted(words, key=lambda w: (-len(w), w))


def test_a_cache_holding_something_this_code_did_not_write_is_derived_anew(cache: Path, tmp_path: Path,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Readable data of the wrong shape under the right key (another version's layout, a hand edit) must not
    break moderation: each reader checks what it got and derives the value again."""
    from sora_lite.safety import concepts, lemmas

    simplemma = pytest.importorskip("simplemma")
    tune = tmp_path / "tune.jsonl"
    tune.write_text('{"prompt": "a dog plays in the park", "label": "allow"}\n', encoding="utf-8")
    spanish = concepts.CONCEPT_DIR / "es.yaml"
    want_book, want_tuning = _patterns(rules.load_rules()), classifier.tuning_exemplars(tune)
    want_concepts = concepts.load_concepts(spanish).concepts
    concepts._romanised_markers.cache_clear()
    want_markers = concepts._romanised_markers()
    monkeypatch.setattr(disk_cache, "load", lambda name, key: ("en", {"c": [[(1,)]]}))
    concepts._romanised_markers.cache_clear()
    assert concepts._romanised_markers() == want_markers and want_markers["hi_latn"]
    concepts._romanised_markers.cache_clear()
    assert _patterns(rules.load_rules()) == want_book
    assert classifier.tuning_exemplars(tune) == want_tuning
    assert concepts.load_concepts(spanish).concepts == want_concepts
    lemmas._lemmatizer.cache_clear()
    try:
        assert [lemmas.lemmatize(w, "es") for w in ("rebota", "pelotas")] == \
            [simplemma.lemmatize(w, lang="es") for w in ("rebota", "pelotas")]
    finally:
        lemmas._lemmatizer.cache_clear()
