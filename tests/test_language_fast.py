"""The language detector's start-up shortcuts give the answers the plain detector gives (issue 15).

- one lingua detector per script, models preloaded, lists the same confidences (and the same zeros, in
  lingua's order) as one detector of every language;
- `detect_language` remembers readings per text;
- `prefetch` reads texts in a helper process and hands back the same readings; when the helper cannot
  answer, the text is read in this process instead.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from sora_lite.safety import language as L

pytest.importorskip("lingua")


def _one_detector_confidences(text: str) -> list[tuple[str, float]]:
    """What the session-5 code did: one lazy detector of every SUPPORTED + NAMED_ONLY language."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    languages = []
    for code in [*L.SUPPORTED, *L.NAMED_ONLY]:
        try:
            languages.append(Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())))
        except (AttributeError, ValueError):
            continue
    detector = LanguageDetectorBuilder.from_languages(*languages).build()
    return [(v.language.iso_code_639_1.name.lower(), float(v.value))
            for v in detector.compute_language_confidence_values(text)]


def _same(a: list[tuple[str, float]], b: list[tuple[str, float]]) -> bool:
    return [c for c, _ in a] == [c for c, _ in b] and all(abs(x - y) < 1e-12 for (_, x), (_, y) in zip(a, b))


def test_per_script_detector_lists_what_one_detector_lists_cyrillic_and_arabic() -> None:
    for text, script in (("собака играет с мячом", "CYRILLIC"), ("كلب يلعب بالكرة", "ARABIC")):
        assert _same(L._confidences(text, script), _one_detector_confidences(text)), text


@pytest.mark.slow  # loads the 20 Latin-script languages (~4 s CPU)
def test_per_script_detector_lists_what_one_detector_lists_latin() -> None:
    # A plain prompt, one lingua's rules narrow to one language (the zeros must follow in lingua's order:
    # the "likeliest supported" fallback of a 1-word Polish prompt reads that order), and a mixed one.
    for text in ("a red ball bounces on a wooden floor", "żółw", "una pelota roja", "ağaç", "close up of her face"):
        got, want = L._confidences(text, "LATIN"), _one_detector_confidences(text)
        assert _same(got, want), (text, got[:5], want[:5])
        assert len(got) == len(want)


def test_only_scripts_several_languages_share_need_the_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_DETECTOR", L._Detector())  # none built yet, as in a fresh CLI process
    assert L._needs_detector("a dog") and L._needs_detector("собака") and L._needs_detector("كلب")
    assert not L._needs_detector("一只狗在玩") and not L._needs_detector("개가 논다") and not L._needs_detector("42 !")


def test_readings_are_remembered_per_text(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    reading = L.LanguageReading("ru", "Russian", 1.0, ("ru",))

    def fake(text: str) -> L.LanguageReading:
        calls.append(text)
        return reading

    monkeypatch.setattr(L, "_detect", fake)
    monkeypatch.setattr(L, "_cache", {})
    assert L.detect_language("кошка спит") is reading
    assert L.detect_language("кошка спит") is reading
    assert calls == ["кошка спит"]


def test_helper_process_reads_the_same_languages(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_cache", {})
    monkeypatch.setattr(L, "_pending", None)
    monkeypatch.setattr(L, "_DETECTOR", L._Detector())
    texts = ["собака играет с мячом", "кот на окне", "一只狗"]
    assert L.prefetch(texts)
    pending = L._pending
    assert pending is not None and pending.texts == {"собака играет с мячом", "кот на окне"}  # CJK needs none
    got = pending.result(timeout=120)
    assert got["собака играет с мячом"] == L._detect("собака играет с мячом")
    assert got["кот на окне"] == L._detect("кот на окне")
    assert got["кот на окне"].language == "ru"
    assert L.detect_language("кот на окне") == got["кот на окне"]
    assert not L.prefetch(["ещё один текст"])  # one helper per process


def test_no_helper_once_this_process_has_the_scripts_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    """A process that already built a script's detector (the app, a test run) reads such texts here in a
    millisecond: a helper would only load the same models a second time."""
    monkeypatch.setattr(L, "_cache", {})
    monkeypatch.setattr(L, "_pending", None)
    monkeypatch.setattr(L, "_DETECTOR", L._Detector())
    L._DETECTOR.get("CYRILLIC")
    assert L._DETECTOR.loaded("CYRILLIC") and not L._DETECTOR.loaded("LATIN") and not L._DETECTOR.loaded("ARABIC")
    assert not L._needs_detector("кот на окне") and L._needs_detector("كلب") and L._needs_detector("a cat")
    assert not L.prefetch(["кот на окне", "一只狗"]) and L._pending is None
    assert L.prefetch(["кот на окне", "كلب يلعب بالكرة"])
    pending = L._pending
    assert pending is not None and pending.texts == {"كلب يلعب بالكرة"}
    assert pending.result(timeout=120)["كلب يلعب بالكرة"] == L._detect("كلب يلعب بالكرة")


def test_a_helper_that_cannot_answer_leaves_the_reading_to_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_cache", {})
    broken = object.__new__(L._Prefetch)
    broken.texts = {"кот на окне"}
    broken.proc = subprocess.Popen([sys.executable, "-c", "print('not json')"], stdout=subprocess.PIPE)
    broken.lock = L.threading.Lock()
    broken.readings = None
    monkeypatch.setattr(L, "_pending", broken)
    reading = L.detect_language("кот на окне")
    assert broken.readings == {}
    assert reading == L._detect("кот на окне") and reading.language == "ru"


def test_prefetch_without_a_python_to_start_reads_here(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(L, "_cache", {})
    monkeypatch.setattr(L, "_pending", None)
    monkeypatch.setattr(L.sys, "executable", "/nonexistent/python")
    assert not L.prefetch(["кот на окне"])
    assert L.detect_language("кот на окне").language == "ru"


def test_the_helper_process_imports_no_numpy_nor_the_rules() -> None:
    code = ("import sys, sora_lite.safety.language; "
            "print(sorted(m for m in ('numpy', 'yaml', 'sora_lite.safety.moderation', 'sora_lite.safety.rules') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.slow  # ~3,000 prompts through two detectors (~30 s)
def test_every_dev_and_tuning_prompt_reads_the_same_with_one_detector(monkeypatch: pytest.MonkeyPatch) -> None:
    import json
    from pathlib import Path

    data = Path(L.__file__).parent / "data"
    files = sorted([*data.glob("moderation_*.jsonl"), *(data / "multilingual").glob("dev*.jsonl")])
    prompts = [json.loads(line)["prompt"] for f in files for line in f.read_text(encoding="utf-8").splitlines()
               if line.strip()]
    assert len(prompts) > 1000
    per_script = {p: L._detect(p) for p in prompts}
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    every = [Language.from_iso_code_639_1(getattr(IsoCode639_1, c.upper())) for c in [*L.SUPPORTED, *L.NAMED_ONLY]
             if hasattr(IsoCode639_1, c.upper())]
    one = LanguageDetectorBuilder.from_languages(*every).build()

    def one_detector(text: str, script: str = "*") -> list[tuple[str, float]]:
        return [(v.language.iso_code_639_1.name.lower(), float(v.value))
                for v in one.compute_language_confidence_values(text)]

    monkeypatch.setattr(L, "_confidences", one_detector)
    differ = [p for p in prompts if L._detect(p) != per_script[p]]
    assert differ == []
