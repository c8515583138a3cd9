"""Index build / incremental update / atomicity, with the real embedding model and real FAISS."""

import json
import os
import shutil
from pathlib import Path

import pytest

from rag.config import ChunkerSettings, Settings
from rag.errors import CorruptIndex, IndexLocked, IndexMismatch, IndexNotFound
from rag.index import WriteLock, open_index, read_manifest
from rag.update import embedding_info, ingest


def build(embedder, paths, index: Path, **kw):
    return ingest(paths, Settings(index_dir=index), embedder, base=index.parent, **kw)


def statuses(report) -> dict[str, str]:
    return {o.source: o.status for o in report.outcomes}


def opened(embedder, index: Path):
    return open_index(Settings(index_dir=index), embedding_info(embedder))


def test_round_trip_keeps_offsets_and_metadata(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    report = build(embedder, [seeds], index)
    assert report.count("added") == 2 and not report.failed
    idx = opened(embedder, index)
    assert len(idx) == report.total_chunks > 2
    snap = idx.snapshot()
    for chunk in snap.chunks:
        text = (tmp_path / chunk.source).read_text(encoding="utf-8")
        assert chunk.text == text[chunk.start : chunk.end]
    turan = [c for c in snap.chunks if c.source.endswith("004_e87519febac53f09.txt")]
    assert {(c.outlet, c.date) for c in turan} == {("Turan", "2023-04-30")}
    manifest = read_manifest(index)
    assert manifest.embedding["name"] == "all-minilm-l6-v2" and manifest.index_type == "flat"
    assert manifest.chunker == ChunkerSettings().as_dict()


def test_incremental_skip_update_duplicate_prune(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    first = build(embedder, [seeds], index)
    again = build(embedder, [seeds], index)
    assert set(statuses(again).values()) == {"skipped"} and again.embedded_chunks == 0
    generation = read_manifest(index).generation
    assert again.total_chunks == first.total_chunks
    assert read_manifest(index).generation == generation, "nothing changed, nothing rewritten"

    armenian = seeds / "000_5b9d689dbf11e4c1.txt"
    armenian.write_text(armenian.read_text() + "\n\nA new closing paragraph about Moscow talks.")
    shutil.copy(seeds / "004_e87519febac53f09.txt", seeds / "copy.txt")
    third = build(embedder, [seeds], index)
    assert statuses(third) == {
        "seeds/000_5b9d689dbf11e4c1.txt": "updated",
        "seeds/004_e87519febac53f09.txt": "skipped",
        "seeds/copy.txt": "duplicate",
    }
    dup = next(o for o in third.outcomes if o.status == "duplicate")
    assert "same content as seeds/004_e87519febac53f09.txt" in dup.detail
    snap = opened(embedder, index).snapshot()
    sources = [c.source for c in snap.chunks]
    assert "seeds/copy.txt" not in sources, "identical content is stored once"
    assert any("new closing paragraph" in c.text for c in snap.chunks)
    assert snap.vectors.shape == (len(snap.chunks), embedder.dim)

    armenian.unlink()
    fourth = build(embedder, [seeds], index, prune=True)
    assert statuses(fourth)["seeds/000_5b9d689dbf11e4c1.txt"] == "pruned"
    assert all("000_" not in c.source for c in opened(embedder, index).snapshot().chunks)


def test_bad_files_are_reported_and_do_not_stop_the_rest(embedder, seeds, tmp_path):
    (seeds / "empty.txt").write_bytes(b"")
    (seeds / "binary.txt").write_bytes(b"\x00\x01\x02")
    (seeds / "legacy.txt").write_bytes("Новости дня. Переговоры продолжатся в Москве.".encode("cp1251"))
    report = build(embedder, [seeds], tmp_path / "idx")
    got = statuses(report)
    assert got["seeds/empty.txt"] == got["seeds/binary.txt"] == "failed"
    assert got["seeds/legacy.txt"] == "added"
    assert report.count("added") == 3 and report.failed


def test_a_file_that_turns_bad_keeps_its_indexed_version(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    first = build(embedder, [seeds], index)
    (seeds / "004_e87519febac53f09.txt").write_bytes(b"\x00garbage")
    second = build(embedder, [seeds], index)
    assert statuses(second)["seeds/004_e87519febac53f09.txt"] == "failed"
    assert second.total_chunks == first.total_chunks


def test_other_embedding_model_is_refused(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    build(embedder, [seeds], index)
    other = dict(embedding_info(embedder), fingerprint="0123456789abcdef")
    with pytest.raises(IndexMismatch, match="re-ingest with `rag ingest PATH --rebuild`"):
        open_index(Settings(index_dir=index), other)
    with pytest.raises(IndexMismatch, match="chunker settings"):
        open_index(
            Settings(index_dir=index, chunker=ChunkerSettings(max_tokens=99)), embedding_info(embedder)
        )


def test_missing_and_corrupt_index(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    with pytest.raises(IndexNotFound, match="run `rag ingest PATH` first"):
        opened(embedder, index)
    build(embedder, [seeds], index)
    gen = index / read_manifest(index).generation
    (gen / "vectors.faiss").write_bytes(b"not a faiss file")  # rebuilt from the chunk table
    repaired = opened(embedder, index)
    assert len(repaired) > 0 and "was damaged; rebuilt it from the chunk table" in repaired.notices[0]
    (gen / "chunks.sqlite").write_bytes(b"not a database")  # that cannot be rebuilt
    with pytest.raises(CorruptIndex, match="its chunk table .* is damaged; re-ingest with `rag ingest PATH --rebuild`"):
        opened(embedder, index)
    # --rebuild recovers without reading the broken generation
    report = build(embedder, [seeds], index, rebuild=True)
    assert len(opened(embedder, index)) == report.total_chunks
    (index / "manifest.json").write_text("{ truncated")
    with pytest.raises(CorruptIndex, match="manifest.json"):
        opened(embedder, index)


def test_killed_write_leaves_the_old_index_intact(embedder, seeds, tmp_path, monkeypatch):
    index = tmp_path / "idx"
    first = build(embedder, [seeds], index)
    before = (index / "manifest.json").read_text()
    (seeds / "new.txt").write_text("Title\nA new article about the Brussels meeting.")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt("killed while writing the FAISS file")

    monkeypatch.setattr("rag.index._write_faiss", crash)
    with pytest.raises(KeyboardInterrupt):
        build(embedder, [seeds], index)
    assert (index / "manifest.json").read_text() == before
    assert len(opened(embedder, index)) == first.total_chunks
    monkeypatch.undo()
    report = build(embedder, [seeds], index)  # the next run cleans up and succeeds
    assert statuses(report)["seeds/new.txt"] == "added"
    assert sorted(p.name for p in index.iterdir() if p.name.startswith("gen-")) == [
        json.loads((index / "manifest.json").read_text())["generation"]
    ]


def test_concurrent_writer_is_refused(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    with WriteLock(index), pytest.raises(IndexLocked, match="another `rag ingest`"):
        build(embedder, [seeds], index, wait=False)  # --no-wait; waiting is tested with two processes


def test_large_corpus_switches_to_approximate_index(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    settings = Settings(index_dir=index, exact_index_max_chunks=3)
    report = ingest([seeds], settings, embedder, base=tmp_path)
    assert read_manifest(index).index_type == "hnsw"
    idx = open_index(settings, embedding_info(embedder))
    assert len(idx) == report.total_chunks
    query = embedder.embed(["Raufoglu"])[0]
    assert len(idx.dense(query, 3)) == 3


def test_index_files_are_not_world_writable_tmp(embedder, seeds, tmp_path):
    index = tmp_path / "idx"
    build(embedder, [seeds], index)
    leftovers = [p for p in index.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    assert os.access(index / "manifest.json", os.R_OK)
