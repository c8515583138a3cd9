"""The embedding model on ONNX Runtime, int8: the same vectors (cosine ~0.99 with torch's), faster.

sentence-transformers' own `backend="onnx"` needs optimum, whose releases pin transformers below
the version sentence-transformers 6 needs, so the two cannot be installed together. This module
does the same thing with what is installed: the model is exported once with `torch.onnx`,
dynamically quantized to int8 weights (per channel) by ONNX Runtime's quantizer, and cached with
its sha256 next to it; the tokenizer is the model's own `tokenizer.json`; pooling and
normalization are the model's (mean of token vectors, L2).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from .embed import plain_tokenizer, quiet_offline
from .errors import ModelNotFound

BACKEND = "onnx-int8"
RECIPE = "v1"  # torch.onnx opset 17 + per-channel dynamic int8: bump when the export changes
_FILE = "model-int8.onnx"
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
        options.intra_op_num_threads = os.cpu_count() or 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        # the weights it was exported from and the recipe, not the exported bytes: exporting again
        # (a damaged cache, another torch) must not orphan the indexes built with it
        self._fingerprint = f"{BACKEND}-{RECIPE}-{base_fingerprint}"

    def fingerprint(self) -> str:
        return self._fingerprint

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        limit = self.max_tokens + 2
        # truncated as sentence-transformers does: the first tokens, then [SEP]
        ids = [e.ids if len(e.ids) <= limit else e.ids[: limit - 1] + e.ids[-1:] for e in self.tokenizer.encode_batch(texts)]
        # similar lengths in one batch: less padding to compute
        order = sorted(range(len(texts)), key=lambda i: len(ids[i]))
        for i in range(0, len(order), batch_size):
            batch = order[i : i + batch_size]
            width = max(len(ids[j]) for j in batch)
            feed = {name: np.zeros((len(batch), width), dtype=np.int64) for name in _INPUTS}
            for row, j in enumerate(batch):
                feed["input_ids"][row, : len(ids[j])] = ids[j]
                feed["attention_mask"][row, : len(ids[j])] = 1
            hidden = self.session.run(None, feed)[0]
            mask = feed["attention_mask"][..., None].astype(np.float32)
            vectors = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
            vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
            out[batch] = vectors
        return out


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

    model = AutoModel.from_pretrained(str(model_dir)).eval()
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
