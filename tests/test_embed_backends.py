"""The ONNX Runtime backend (really exported and quantized) and `--embed-url` against a real
OpenAI-compatible embeddings server on loopback, started by the test."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from rag.chunk import chunk_document
from rag.cli import app
from rag.config import ChunkerSettings
from rag.embed import load_embedder
from rag.index import read_manifest
from rag.ingest import InputFile, read_document

from .conftest import SEEDS

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.fixture(scope="module")
def onnx_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("models") / "onnx"


@pytest.fixture(scope="module")
def onnx_embedder(onnx_cache):
    return load_embedder("all-minilm-l6-v2", "onnx", cache_dir=onnx_cache)


def seed_chunks(embedder) -> list[str]:
    texts = []
    for path in sorted(SEEDS.glob("*.txt")):
        doc = read_document(InputFile(path, path.name), 10**7)
        texts += [c.text for c in chunk_document(doc, ChunkerSettings(), embedder.count_tokens)]
    return texts


def test_onnx_vectors_match_torch(onnx_embedder, embedder):
    texts = seed_chunks(embedder) + ["Who hosted the talks?", "Lachin checkpoint"]
    # chunk sizes are counted alike, long paragraphs included (no truncation, no padding)
    paragraphs = [p for f in sorted(SEEDS.glob("*.txt")) for p in f.read_text().split("\n")] + ["word " * 400]
    assert [onnx_embedder.count_tokens(t) for t in paragraphs] == [embedder.count_tokens(t) for t in paragraphs]
    long = "The talks went on. " * 100  # over the 256-token window: truncated like torch's
    assert float(onnx_embedder.embed([long])[0] @ embedder.embed([long])[0]) > 0.97
    fast, ref = onnx_embedder.embed(texts), embedder.embed(texts)
    assert fast.shape == ref.shape and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosines = (fast * ref).sum(axis=1)
    assert cosines.min() > 0.97, cosines  # int8 weights: close to, not equal to, torch's vectors
    # query-chunk similarities move by little, so rankings change only between near ties
    for query in ("Who hosted the talks?", "Lachin checkpoint"):
        s_fast = fast[:-2] @ onnx_embedder.embed([query])[0]
        s_ref = ref[:-2] @ embedder.embed([query])[0]
        assert np.abs(s_fast - s_ref).max() < 0.05
        assert int(np.argmax(s_ref)) in np.argsort(-s_fast)[:2]


def test_onnx_vector_does_not_depend_on_what_is_embedded_with_it(onnx_embedder, embedder):
    """Dynamic int8 scales activations per run: in a padded batch a chunk's vector moved with its
    neighbours (cosine 0.990). Each text runs alone, so alone or in any list it is the same vector."""
    texts = seed_chunks(embedder)[:12] + ["Who hosted the talks?"]
    together = onnx_embedder.embed(texts)
    alone = np.stack([onnx_embedder.embed([t])[0] for t in texts])
    assert np.array_equal(together, alone)
    assert np.array_equal(onnx_embedder.embed(texts[::-1])[::-1], together)


def test_onnx_export_replaces_the_old_recipe(tmp_path):
    """An upgrade leaves no stale v1 file behind in the model cache."""
    first = load_embedder("all-minilm-l6-v2", "onnx", cache_dir=tmp_path)
    folder = first.path.parent
    (folder / "model-int8.onnx").write_bytes(b"v1")
    (folder / "model-int8.onnx.sha256").write_text("0\n")
    first.path.unlink()  # as after an upgrade: only the v1 file is there
    again = load_embedder("all-minilm-l6-v2", "onnx", cache_dir=tmp_path)
    assert again.path.name == "model-int8-v2.onnx" and again.path.exists()
    assert not (folder / "model-int8.onnx").exists() and not (folder / "model-int8.onnx.sha256").exists()


def test_onnx_export_is_cached_and_verified(onnx_embedder, onnx_cache):
    model = onnx_embedder.path
    digest = (model.parent / "model-int8-v2.onnx.sha256").read_text().strip()
    stamp = model.stat().st_mtime_ns
    again = load_embedder("all-minilm-l6-v2", "onnx", cache_dir=onnx_cache)
    assert model.stat().st_mtime_ns == stamp and again.fingerprint() == onnx_embedder.fingerprint()
    with model.open("r+b") as f:  # damage the cached file: it is exported again, not trusted
        f.seek(1000)
        f.write(b"\x00" * 64)
    repaired = load_embedder("all-minilm-l6-v2", "onnx", cache_dir=onnx_cache)
    assert (model.parent / "model-int8-v2.onnx.sha256").read_text().strip() == digest
    assert repaired.fingerprint() == onnx_embedder.fingerprint() and repaired.fingerprint().startswith("onnx-int8-v2-")


def test_index_keeps_its_backend(onnx_cache, tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_MODELS_DIR", str(onnx_cache.parent))
    index = str(tmp_path / "idx")
    assert run("ingest", str(SEEDS), "--index", index, "--embed-backend", "onnx").exit_code == 0
    assert read_manifest(Path(index)).embedding["backend"] == "onnx"
    result = run("search", "Lachin checkpoint", "--json", "--index", index)  # auto: the index's backend
    assert result.exit_code == 0 and json.loads(result.stdout)
    forced = run("ingest", str(SEEDS), "--index", index, "--embed-backend", "torch")
    assert forced.exit_code == 1
    assert "was built with the onnx embedding backend, not torch (use --embed-backend onnx" in forced.stderr


class EmbeddingServer:
    """An OpenAI-compatible `POST /v1/embeddings` on 127.0.0.1, backed by the real model."""

    def __init__(self, embedder) -> None:
        owner = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                owner.requests += 1
                if self.path != "/v1/embeddings":
                    self.send_error(404)
                    return
                vectors = embedder.embed(body["input"])
                reply = json.dumps({
                    "object": "list", "model": "all-MiniLM-L6-v2",
                    "data": [{"object": "embedding", "index": i, "embedding": v.tolist()} for i, v in enumerate(vectors)],
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_embed_url_builds_and_queries_through_the_server(embedder, tmp_path):
    index = str(tmp_path / "idx")
    with EmbeddingServer(embedder) as server:
        result = run("ingest", str(SEEDS), "--index", index, "--embed-url", server.url, "--json")
        assert result.exit_code == 0, result.stderr
        manifest = read_manifest(Path(index))
        assert manifest.embedding["backend"] == "remote" and manifest.embedding["url"] == server.url
        assert manifest.embedding["name"] == "remote:all-MiniLM-L6-v2" and manifest.embedding["dim"] == 384
        sent = server.requests
        result = run("search", "Lachin checkpoint", "--json", "--index", index)  # the recorded server
        assert result.exit_code == 0 and server.requests == sent + 2  # a probe, then the query
    remote_hits = json.loads(result.stdout)
    local_index = str(tmp_path / "local")
    run("ingest", str(SEEDS), "--index", local_index, "--embed-backend", "torch")
    local = json.loads(run("search", "Lachin checkpoint", "--json", "--index", local_index).stdout)
    assert [(h["source"], h["start"]) for h in remote_hits] == [(h["source"], h["start"]) for h in local]
    # the server gone: one clear line, no traceback
    down = run("search", "Lachin checkpoint", "--index", index)
    assert down.exit_code == 1
    assert down.stderr.startswith(f"Error: cannot reach the embedding server at {server.url} (")
    assert down.stderr.count("\n") == 1
    # a local model on an index built by the server is refused, never mixed
    mixed = run("ingest", str(SEEDS), "--index", index, "--embed-backend", "torch")
    assert mixed.exit_code == 1 and f"embeddings from {server.url}, not the torch backend" in mixed.stderr


def test_embed_url_errors_are_one_line(tmp_path):
    with EmbeddingServer(None) as server:
        result = run("ingest", str(SEEDS), "--index", str(tmp_path / "idx"), "--embed-url", server.url.replace("/v1", "/v2"))
    assert result.exit_code == 1
    assert result.stderr == f"Error: the embedding server at {server.url.replace('/v1', '/v2')} answered HTTP 404 Not Found\n"
