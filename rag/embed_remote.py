"""Embeddings from an OpenAI-compatible server (`--embed-url http://HOST:PORT/v1`).

llama.cpp's server, vLLM and text-embeddings-inference all answer `POST /v1/embeddings`. The
server's model name and vector size become the index's embedding model, so an index can never
mix its vectors with another model's. Chunks are still sized with the local model's tokenizer.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np

from .embed import plain_tokenizer
from .errors import RagError


class RemoteEmbedder:
    backend = "remote"

    def __init__(self, url: str, tokenizer_dir: Path, model: str | None = None, timeout: float = 120.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.tokenizer = plain_tokenizer(tokenizer_dir)
        self.max_tokens = 254  # the chunker's limit; the server truncates at its own
        probe = self._post(["dimension probe"], model)
        self.name = f"remote:{probe['model']}"
        self.served_model = probe["model"]
        self.dim = len(probe["vectors"][0])

    def fingerprint(self) -> str:
        """The served model and its vector size: all a client can know about the weights."""
        return hashlib.sha256(f"{self.served_model}\n{self.dim}".encode()).hexdigest()[:16]

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def embed(self, texts: list[str], batch_size: int = 32) -> np.ndarray:
        parts = [np.zeros((0, self.dim), dtype=np.float32)]
        for i in range(0, len(texts), batch_size * 2):
            vectors = self._post(texts[i : i + batch_size * 2], self.served_model)["vectors"]
            if vectors.shape[1] != self.dim:
                raise RagError(
                    f"the embedding server at {self.url} now returns {vectors.shape[1]}-number vectors, not {self.dim}"
                )
            parts.append(vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def _post(self, texts: list[str], model: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"input": texts, "encoding_format": "float"}
        if model:
            body["model"] = model
        where = f"the embedding server at {self.url}"
        try:
            request = urllib.request.Request(
                f"{self.url}/embeddings", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
            )
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except urllib.error.HTTPError as e:
            raise RagError(f"{where} answered HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise RagError(f"cannot reach {where} ({getattr(e, 'reason', e)})") from None
        except ValueError:  # a URL without http:// or https://, or a reply that is not JSON
            if not self.url.startswith(("http://", "https://")):
                raise RagError(f"--embed-url must start with http:// or https://, not {self.url!r}") from None
            raise RagError(f"{where} did not answer with JSON") from None
        try:
            data = sorted(reply["data"], key=lambda d: d.get("index", 0))
            vectors = np.asarray([d["embedding"] for d in data], dtype=np.float32)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise RagError(f"{where} did not answer with a list of float vectors in `data[].embedding`") from None
        if vectors.ndim != 2 or len(vectors) != len(texts) or vectors.shape[1] == 0:
            raise RagError(f"{where} returned {len(vectors)} vectors for {len(texts)} texts")
        return {"model": str(reply.get("model") or model or "unknown"), "vectors": vectors}
