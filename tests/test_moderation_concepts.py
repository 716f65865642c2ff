"""The concept layer behind the per-language lexicons (sora_lite/safety/concepts.py): stems, compounds,
CJK substrings, shared rules, exemptions, and its data files failing with a clear message. No model and no
language detector are needed: concept lexicons are called directly."""

from __future__ import annotations

from pathlib import Path

import pytest

from sora_lite.safety import concepts as C
from sora_lite.safety.concepts import check_all as check_languages
from sora_lite.safety.concepts import concept_lexicons, load_concepts, tokenize
from sora_lite.safety.rules import RuleDataError

LANGUAGES = ("es", "fr", "de", "it", "pt", "ru", "zh", "ja", "ar", "hi")


def _category(lang: str, text: str) -> str | None:
    hit = concept_lexicons()[lang].check(text)
    return hit.category if hit else None


@pytest.mark.slow
def test_every_language_has_concepts_for_every_rule() -> None:
    """A rule whose concept a language lacks silently never fires there; every language names them all."""
    needed = {c for r in C.shared_rules() for c in r.need}
    lex = concept_lexicons()
    assert set(LANGUAGES) <= set(lex)
    for lang in LANGUAGES:
        missing = needed - set(lex[lang].concepts)
        assert not missing, (lang, sorted(missing))


@pytest.mark.parametrize("lang, forms", [
    ("es", ["se hace cortes en los brazos", "se cortaba los brazos", "se corta el brazo"]),
    ("ru", ["режет себе руки", "резала себе руку"]),
    ("it", ["si taglia le braccia", "si tagliava il braccio"]),
])
def test_inflected_forms_share_one_stem(lang: str, forms: list[str]) -> None:
    for text in forms:
        assert _category(lang, text) == "self_harm", text


def test_german_compound_heads_match() -> None:
    """'Rohrbombe' and 'Nagelbombe' are bombs; 'Schlaftabletten' are tablets; written as one word."""
    assert _category("de", "Anleitung: Nagelbombe selber bauen") == "weapons_illegal"
    assert _category("de", "sie schluckt eine ganze Packung Schlaftabletten") == "self_harm"
    # ...but a compound whose head is harmless does not inherit its first part ("Handtuch" is no hand).
    assert _category("de", "ein Kind schneidet ein Handtuch") is None


def test_cjk_words_are_substrings_without_spaces() -> None:
    assert _category("zh", "一群混混把流浪汉殴打致死") == "violence"
    assert _category("ja", "不良グループがホームレスを殴って死ぬまで蹴る") == "violence"
    assert _category("zh", "小男孩在院子里玩玩具枪") is None


@pytest.mark.parametrize("lang, text", [
    ("es", "un cuchillo de cocina cortando pan"), ("fr", "un couteau de cuisine qui coupe une baguette"),
    ("de", "ein Küchenmesser schneidet Brot"), ("it", "un coltello da cucina che taglia il pane"),
    ("pt", "uma faca de cozinha cortando pão"), ("ru", "кухонный нож режет хлеб"),
    ("zh", "菜刀在砧板上切面包"), ("ja", "包丁でパンを切る"), ("ar", "سكين مطبخ يقطع الخبز"), ("hi", "रसोई का चाकू ब्रेड काटता हुआ"),
    ("es", "un niño juega con una pistola de juguete"), ("fr", "un chasseur de papillons dans une prairie"),
    ("pt", "uma pelada de futebol na praia"), ("it", "la scopa nell'angolo"), ("de", "ein Kind spielt mit Vögeln"),
    ("es", "una cocinera deshuesa un pollo"), ("ru", "футболист забивает гол"),
])
@pytest.mark.slow
def test_risky_looking_everyday_words_pass(lang: str, text: str) -> None:
    assert check_languages(text, [lang]) is None, text


def test_a_rule_needs_all_its_concepts() -> None:
    """Cutting is not violence; cutting off fingers is. Ripping out is not; ripping out nails is."""
    assert _category("es", "corta la cuerda") is None
    assert _category("es", "le corta los dedos uno a uno") == "violence"
    assert _category("fr", "il arrache l'affiche du mur") is None
    assert _category("fr", "on lui arrache les ongles") == "violence"


def test_absent_concepts_and_exemptions() -> None:
    """'!toy' keeps a water pistol out of weapon-making; an animal and no person is not violence."""
    assert _category("es", "cómo fabricar una pistola") == "weapons_illegal"
    assert _category("es", "cómo fabricar una pistola de juguete") is None
    assert check_languages("un gato mata un ratón en el granero", ["es"]) is None
    assert check_languages("un hombre mata a su vecino", ["es"]) is not None
    assert check_languages("кошка убивает мышь в сарае", ["ru"]) is None


def test_minors_outranks_sexual() -> None:
    hit = check_languages("una niña de diez años posando en ropa interior", ["es"])
    assert hit is not None and hit.category == "minors"


def test_exact_forms_are_not_stemmed() -> None:
    """'=scopare' catches the verb, not 'la scopa' (the broom) that shares its stem."""
    assert _category("it", "una coppia che vuole scopare sul divano") == "sexual"
    assert _category("it", "la scopa è nell'angolo") is None


def test_tokenizer_keeps_devanagari_vowel_signs() -> None:
    assert tokenize("उसका चेहरा", "hi") == ["उसका", "चेहरा"]
    assert tokenize("l'engrais et d'abord", "fr") == ["engrais", "et", "abord"]


def test_bad_concept_files_say_where(tmp_path: Path) -> None:
    bad = tmp_path / "xx.yaml"
    bad.write_text("language: es\nconcepts:\n  no_such_concept: [palabra]\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match="no_such_concept"):
        load_concepts(bad)
    bad.write_text("language: es\nconcepts:\n  person: palabra\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match="person"):
        load_concepts(bad)
    bad.write_text("language: es\nconcepts: [\n", encoding="utf-8")
    with pytest.raises(RuleDataError, match="not valid YAML"):
        load_concepts(bad)
