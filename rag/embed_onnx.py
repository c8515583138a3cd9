"""The embedding model on ONNX Runtime, int8: the same vectors (cosine ~0.99 with torch's), faster.

sentence-transformers' own `backend="onnx"` needs optimum, whose releases pin transformers below
the version sentence-transformers 6 needs, so the two cannot be installed together. This module
does the same thing with what is installed: the model is exported once with `torch.onnx`,
dynamically quantized to int8 weights (per channel) by ONNX Runtime's quantizer, and cached with
its sha256 next to it; the tokenizer is the model's own `tokenizer.json`; pooling and
normalization are the model's (mean of token vectors, L2).

Two choices make it fast and exact:
- the export uses the eager attention, whose mask is one `Add`; the default (SDPA) export's mask
  adds `Where` and `IsNaN` nodes that took 31 % of ONNX Runtime's time;
- each text runs alone, one per core. Dynamic int8 quantizes activations with one scale per run,
  so in a padded batch a text's vector would depend on the texts beside it (cosine down to 0.990):
  a chunk ingested with other files, or a query, must get the vector it gets alone.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from .embed import plain_tokenizer, quiet_offline
from .errors import ModelNotFound

BACKEND = "onnx-int8"
RECIPE = "v2"  # torch.onnx opset 17, eager attention, per-channel dynamic int8: bump when the export changes
_FILE = "model-int8-v2.onnx"
_OLD_FILES = ("model-int8.onnx", "model-int8.onnx.sha256")  # recipe v1, replaced once v2 exists
_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class OnnxEmbedder:
    backend = "onnx"

    def __init__(self, name: str, model_dir: Path, cache_dir: Path, base_fingerprint: str) -> None:
        import onnxruntime as ort

        self.name = name
        try:
            pooling = json.loads((model_dir / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
            self.path = ensure_onnx(model_dir, cache_dir / f"{name}-{base_fingerprint}")
        except (OSError, RuntimeError, ValueError, ImportError) as e:
            raise ModelNotFound(
                f"could not prepare {name} for ONNX Runtime ({type(e).__name__}: {str(e)[:200]}); "
                "use --embed-backend torch"
            ) from None
        if not pooling.get("pooling_mode_mean_tokens"):
            raise ModelNotFound(f"{name}: only mean-pooling models run on the ONNX backend; use --embed-backend torch")
        config = json.loads((model_dir / "sentence_bert_config.json").read_text(encoding="utf-8"))
        self.dim = int(pooling["word_embedding_dimension"])
        self.max_tokens = int(config.get("max_seq_length", 256)) - 2  # [CLS] and [SEP]
        self.tokenizer = plain_tokenizer(model_dir)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = 1  # one text per core instead (see the module docstring)
        options.log_severity_level = 3
        self.workers = os.cpu_count() or 1
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        # the weights it was exported from and the recipe, not the exported bytes: exporting again
        # (a damaged cache, another torch) must not orphan the indexes built with it
        self._fingerprint = f"{BACKEND}-{RECIPE}-{base_fingerprint}"

    def fingerprint(self) -> str:
        return self._fingerprint

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """`batch_size` is ignored: texts run one at a time, so a vector never depends on its batch."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        limit = self.max_tokens + 2
        # truncated as sentence-transformers does: the first tokens, then [SEP]
        ids = [e.ids if len(e.ids) <= limit else e.ids[: limit - 1] + e.ids[-1:] for e in self.tokenizer.encode_batch(texts)]
        if len(texts) == 1:
            out[0] = self._vector(ids[0])
            return out
        with ThreadPoolExecutor(self.workers) as pool:  # ONNX Runtime releases the GIL while it runs
            for row, vector in enumerate(pool.map(self._vector, ids)):
                out[row] = vector
        return out

    def _vector(self, ids: list[int]) -> np.ndarray:
        row = np.array([ids], dtype=np.int64)
        feed = {"input_ids": row, "attention_mask": np.ones_like(row), "token_type_ids": np.zeros_like(row)}
        vector = self.session.run(None, feed)[0][0].mean(axis=0)  # no padding: every token counts
        return vector / max(float(np.linalg.norm(vector)), 1e-12)


def ensure_onnx(model_dir: Path, folder: Path) -> Path:
    """The int8 ONNX file in `folder`, exported from `model_dir` on first use (~5 s) and verified
    against its recorded sha256 afterwards; a damaged file is exported again."""
    path = folder / _FILE
    digest_file = folder / f"{_FILE}.sha256"
    if path.exists() and digest_file.exists():
        if _sha256(path) == digest_file.read_text(encoding="utf-8").strip():
            return path
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".export-{os.getpid()}"
    tmp.mkdir(exist_ok=True)
    try:
        _export(model_dir, tmp / "model.onnx")
        from onnxruntime.quantization import QuantType, quantize_dynamic

        logging.disable(logging.WARNING)  # the quantizer's advice about pre-processing, on the root logger
        try:
            quantize_dynamic(str(tmp / "model.onnx"), str(tmp / _FILE), weight_type=QuantType.QInt8, per_channel=True)
        finally:
            logging.disable(logging.NOTSET)
        digest = _sha256(tmp / _FILE)
        os.replace(tmp / _FILE, path)
        (tmp / "sha").write_text(digest + "\n", encoding="utf-8")
        os.replace(tmp / "sha", digest_file)
        for old in _OLD_FILES:
            (folder / old).unlink(missing_ok=True)
    finally:
        for f in tmp.iterdir():
            f.unlink()
        tmp.rmdir()
    return path


def _export(model_dir: Path, dest: Path) -> None:
    import warnings

    quiet_offline()
    import torch
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()

    class Encoder(torch.nn.Module):
        """The transformer's token vectors; pooling stays in numpy, as the model defines it."""

        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor) -> torch.Tensor:
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = AutoModel.from_pretrained(str(model_dir), attn_implementation="eager").eval()
    example = tuple(torch.ones((2, 8), dtype=torch.long) for _ in _INPUTS)
    axes = {name: {0: "batch", 1: "tokens"} for name in (*_INPUTS, "hidden")}
    logging.getLogger("torch.onnx").setLevel(logging.ERROR)
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model), example, str(dest), input_names=list(_INPUTS), output_names=["hidden"],
            dynamic_axes=axes, opset_version=17, dynamo=False,
        )


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
