"""Shared fixtures. The embedding model is the real one, loaded once per session."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test runs in its own folder, so nothing touches the repo's ./.rag."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("RAG_INDEX", raising=False)


@pytest.fixture(scope="session")
def embedder():
    from rag.embed import load_embedder

    return load_embedder("all-minilm-l6-v2")


@pytest.fixture(scope="session")
def default_embedder():
    """The embedder a new index gets by default (ONNX when installed): what users' answers use."""
    from rag.embed import choose_backend, load_embedder

    backend, _ = choose_backend(Path("/nonexistent"), "auto", None, fresh=True)
    return load_embedder("all-minilm-l6-v2", backend)


@pytest.fixture
def shared_embedder(embedder, monkeypatch: pytest.MonkeyPatch):
    """Make the CLI reuse the session's (real) embedder instead of loading it per command."""
    monkeypatch.setattr("rag.embed.load_embedder", lambda name, *a, **kw: embedder)
    return embedder


@pytest.fixture
def seeds(tmp_path: Path) -> Path:
    """A private copy of seeds/ (tests may add or change files in it)."""
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest


def _llm(role: str):
    from rag.generate import open_generator
    from rag.models import default_models_dir

    return open_generator(role, default_models_dir())


@pytest.fixture(scope="session")
def test_llm():
    """SmolLM2-135M: tiny and fast; it proves plumbing, not answer quality."""
    return _llm("test")


@pytest.fixture(scope="session")
def default_llm():
    """The shipped default model (Qwen2.5-Coder-1.5B): what users get."""
    return _llm("default")


@pytest.fixture
def index_of(embedder, tmp_path):
    """Ingest a folder into a fresh index (real embedder, real FAISS): (Index, Settings).
    Sources are named relative to `base` (default: the test's folder)."""
    from rag.config import Settings
    from rag.index import open_index
    from rag.update import embedding_info, ingest

    def build(folder: Path, base: Path | None = None):
        settings = Settings(index_dir=tmp_path / "idx")
        ingest([folder], settings, embedder, base=base or tmp_path)
        return open_index(settings, embedding_info(embedder)), settings

    return build


@pytest.fixture
def seed_index(index_of, seeds):
    return index_of(seeds)
