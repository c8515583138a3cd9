"""Embedder protocol, the sentence-transformers implementation, and the choice of backend.

Three backends give an index its vectors: `torch` (sentence-transformers), `onnx` (the same model
on ONNX Runtime, int8; `embed_onnx`) and `remote` (an OpenAI-compatible server; `embed_remote`).
An index records its backend, and later commands use the same one, so vectors never mix.

The hub libraries are forced offline before sentence-transformers is imported, so a missing
file is an immediate, clear error, never a network wait.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .errors import ModelNotFound, RagError
from .models import ModelSpec, default_models_dir, embedding_model_dir, find_model, load_catalogue

BACKENDS = ("auto", "torch", "onnx")


class Embedder(Protocol):
    name: str
    backend: str  # "torch", "onnx" or "remote"
    dim: int
    max_tokens: int  # longest input, in word pieces, that the model sees without truncation

    def fingerprint(self) -> str:
        """Identifies the exact weights; an index built with another fingerprint is refused."""
        ...

    def count_tokens(self, text: str) -> int:
        """Word pieces in `text`, special tokens excluded."""
        ...

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        """L2-normalized float32 vectors, shape (len(texts), dim)."""
        ...


def quiet_offline() -> None:
    """No hub access, no progress bars, no advisory chatter from the Hugging Face libraries."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")


class SentenceTransformerEmbedder:
    backend = "torch"

    def __init__(self, spec: ModelSpec) -> None:
        self.name = spec.name
        self.path = embedding_model_dir(spec)
        quiet_offline()
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:  # pragma: no cover - install problem
            raise ModelNotFound(f"sentence-transformers is not installed ({e}); run `make install`") from None
        self.model = SentenceTransformer(str(self.path), device="cpu")
        self.max_tokens = int(self.model.max_seq_length or 256) - 2  # [CLS] and [SEP]
        self.dim = int(self.model.get_embedding_dimension() or 0)
        self._fingerprint = _fingerprint_dir(self.path)

    def fingerprint(self) -> str:
        return self._fingerprint

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer.tokenize(text))

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def plain_tokenizer(model_dir: Path) -> Any:
    """The model's own fast tokenizer, without the fixed padding and truncation its
    tokenizer.json may carry (they would make every count 128)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    tokenizer.no_padding()
    tokenizer.no_truncation()
    return tokenizer


def _fingerprint_dir(path: Path) -> str:
    """sha256 over the config files and the head, tail and size of each weights file.

    Hashing every byte of the weights would add ~0.2 s to each command; the configs plus the
    weights' size and ends change whenever the model does.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and p.name != "README.md"):
        h.update(f.relative_to(path).as_posix().encode())
        size = f.stat().st_size
        h.update(str(size).encode())
        with f.open("rb") as fh:
            if size <= 2 << 20:
                h.update(fh.read())
            else:
                h.update(fh.read(1 << 20))
                fh.seek(-(1 << 20), os.SEEK_END)
                h.update(fh.read())
    return h.hexdigest()[:16]


def load_embedder(
    name: str, backend: str = "torch", url: str | None = None, cache_dir: Path | None = None
) -> Embedder:
    """The embedding model called `name` (or the catalogue's "embedding" role) in models.txt, on
    `backend`; with `url`, a server's model instead (the local one still sizes the chunks)."""
    spec = find_model(name, load_catalogue())
    if url:
        from .embed_remote import RemoteEmbedder

        return RemoteEmbedder(url, embedding_model_dir(spec))
    if backend == "onnx":
        from .embed_onnx import OnnxEmbedder

        path = embedding_model_dir(spec)
        cache = cache_dir or default_models_dir() / "onnx"
        return OnnxEmbedder(spec.name, path, cache, _fingerprint_dir(path))
    if backend != "torch":
        raise ModelNotFound(f"unknown embedding backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    return SentenceTransformerEmbedder(spec)


def choose_backend(index_dir: Path, backend: str, url: str | None, fresh: bool) -> tuple[str, str | None]:
    """(backend, url) for a command on `index_dir`.

    An explicit choice wins. Otherwise an existing index keeps the backend (and server) it was
    built with, and a new one gets ONNX when ONNX Runtime is installed, else torch.
    """
    from .index import read_manifest

    if url or backend != "auto":
        return ("remote" if url else backend), url
    built: dict[str, object] = {}
    try:
        built = read_manifest(index_dir).embedding
    except RagError:
        pass  # no index yet, or a broken one: opening it says so
    if fresh and built.get("backend") != "remote":  # a rebuilt index keeps its server, not its local backend
        built = {}
    if built:
        kind = str(built.get("backend") or "torch")
        return kind, (str(built["url"]) if kind == "remote" and built.get("url") else None)
    return ("onnx" if importlib.util.find_spec("onnxruntime") else "torch"), None
