"""The English gloss of prompts in other languages (sora_lite/safety/gloss.py): lookup rules on small tables
written here, and the shipped tables' basic hygiene."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_lite.safety import gloss as gl


@pytest.fixture()
def tables(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(gl, "GLOSS_DIR", tmp_path)
    gl.load_table.cache_clear()
    yield tmp_path
    gl.load_table.cache_clear()


def write(folder: Path, lang: str, rows: list[tuple[str, str]]) -> None:
    (folder / f"{lang}.tsv").write_text("# test table\n" + "".join(f"{a}\t{b}\n" for a, b in rows), encoding="utf-8")


def test_phrases_before_words_and_lemmas_and_accents(tables: Path) -> None:
    write(tables, "es", [("madre", "mother"), ("quemar", "burn"), ("mano", "hand"), ("plancha", "iron"),
                         ("hasta que", "until"), ("hasta", "up to"), ("que", "that"), ("vagón", "train car"),
                         ("la", "the"), ("las", "the"), ("con", "with")])
    g = gl.gloss("Madre quemándole las manos con la plancha hasta que llora", "es")
    # "quemándole" -> lemma quemar; "manos" -> mano; "hasta que" as one phrase; "llora" unknown and dropped
    assert g is not None and g.english == "mother burn the hand with the iron until"
    assert (g.known, g.total) == (9, 10)
    assert gl.gloss("un vagon", "es").english == "train car"  # typed without the accent


def test_unknown_words_dropped_but_latin_names_and_digits_kept(tables: Path) -> None:
    write(tables, "ru", [("девочка", "girl"), ("год", "year"), ("лет", "years")])
    g = gl.gloss("девочка 12 лет смотрит TikTok", "ru")
    assert g.english == "girl 12 years tiktok"
    assert g.known == 2 and g.total == 5


def test_german_compounds_are_read_as_two_known_parts(tables: Path) -> None:
    write(tables, "de", [("bewerbung", "job application"), ("foto", "photo"), ("kasse", "till"),
                         ("video", "video")])
    assert gl.gloss("Bewerbungsfotos", "de").english == "job application photo"
    assert gl.gloss("Mobbingvideo", "de").english == "video"  # unknown head: the last part names the thing
    write(tables, "de", [("hotel", "hotel"), ("zimmer", "room"), ("immer", "always"), ("spielzeug", "toy"),
                         ("pistole", "pistol"), ("töle", "mutt")])
    gl.load_table.cache_clear()
    assert gl.gloss("Hotelzimmer", "de").english == "hotel room"  # not the shortest tail, "immer"
    assert gl.gloss("Kinderspielzeugpistole", "de").english == "pistol"  # unknown head: the longest known tail


def test_arabic_clitics_and_marks(tables: Path) -> None:
    write(tables, "ar", [("سيارة", "car"), ("طفل", "child")])
    assert gl.gloss("بالسيارة", "ar").english == "car"
    assert gl.gloss("وطفلها", "ar").english == "child"
    assert gl.gloss("طِفْل", "ar").english == "child"  # vowel marks folded


def test_cjk_longest_match_then_single_characters_traditional_folded(tables: Path) -> None:
    write(tables, "zh", [("杀价", "bargain"), ("杀", "kill"), ("人", "person"), ("视频", "video"), ("教学", "tutorial")])
    assert gl.gloss("杀价", "zh").english == "bargain"
    assert gl.gloss("杀人视频", "zh").english == "kill person video"
    assert gl.gloss("教學視頻", "zh").english == "tutorial video"  # traditional characters


def test_no_table_and_malformed_lines(tables: Path) -> None:
    assert gl.gloss("hola", "es") is None
    (tables / "fr.tsv").write_text("bonjour hello\n", encoding="utf-8")
    with pytest.raises(ValueError, match="fr.tsv:1"):
        gl.load_table("fr")


def test_shipped_tables_are_well_formed() -> None:
    gl.load_table.cache_clear()
    langs = gl.available()
    for lang in langs:
        table = gl.load_table(lang)
        assert table is not None and len(table.terms) > 0
        # the glosses are English: no letters of the table's own script survive into them
        foreign = [t for t, e in table.terms.items() if any(ord(c) > 0x24F for c in e)]
        assert not foreign[:5], f"{lang}: glosses not in English: {foreign[:5]}"


def test_ignored_exemplars_do_not_vote() -> None:
    """tune_gloss scores each gloss without the exemplars of its own file through `score_many(ignore=...)`;
    a mask must take exactly those exemplars out of the vote, and no mask must change nothing."""
    import numpy as np

    from sora_lite.safety.classifier import ExemplarClassifier

    clf = ExemplarClassifier()
    text = "step by step how to build a pipe bomb at home"
    plain = clf.score(text)
    assert plain.category == "weapons_illegal"
    same = clf.score_many([text], ignore=[None])[0]
    assert (same.category, same.score, same.benign) == (plain.category, plain.score, plain.benign)
    mask = np.array([label == plain.category for label in clf._labels])
    without = clf.score_many([text], ignore=[mask])[0]
    assert without.category != plain.category and without.benign == plain.benign
    with pytest.raises(ValueError, match="ignore has 2 entries"):
        clf.score_many([text], ignore=[None, None])


def test_examples_of_one_group_vote_once_with_their_best() -> None:
    """One harmful scenario written in four languages gives four glosses that sit side by side; grouped by
    the file they came from they are one vote (the known false positive: an everyday ironing scene next to
    four translations of a burning)."""
    import numpy as np

    from sora_lite.safety.classifier import _top_mean

    values = np.array([0.90, 0.89, 0.88, 0.87, 0.50, 0.40, -np.inf, 0.30])
    groups = np.array([7, 7, 7, 7, 1, 2, 3, 4])
    assert _top_mean(values, 5) == pytest.approx((0.90 + 0.89 + 0.88 + 0.87 + 0.50) / 5)
    assert _top_mean(values, 5, groups) == pytest.approx((0.90 + 0.50 + 0.40 + 0.30) / 4)
    assert _top_mean(np.array([-np.inf, -np.inf]), 5, np.array([1, 2])) == -1.0
    assert _top_mean(values, 2, np.arange(8)) == _top_mean(values, 2)  # groups of one change nothing


def test_a_group_list_must_match_the_extra_examples() -> None:
    from sora_lite.safety.classifier import ExemplarClassifier

    with pytest.raises(ValueError, match="2 groups for 1 extra examples"):
        ExemplarClassifier(extra_examples=[("violence", "a gloss")], extra_groups=["a", "b"])
