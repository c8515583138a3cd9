"""`rag ingest`: bring the index up to date with a set of files, incrementally.

Files are keyed by content hash: unchanged files are skipped, changed ones replaced, identical
content under a second name is recorded once as a duplicate. A file that fails keeps whatever
version the index already had. The new index is committed atomically at the end.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .chunk import chunk_document
from .config import Settings
from .embed import Embedder
from .errors import BadInput, IndexNotFound
from .index import FileRecord, Snapshot, WriteLock, open_index, write_index
from .ingest import discover, read_document
from .records import Chunk, Document, FileOutcome, IngestReport

Progress = Callable[[int, int], None]  # (chunks embedded so far, chunks to embed)


def embedding_info(embedder: Embedder) -> dict[str, object]:
    return {"name": embedder.name, "fingerprint": embedder.fingerprint(), "dim": embedder.dim}


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    base: Path,
    rebuild: bool = False,
    prune: bool = False,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Ingest `paths` into `settings.index_dir`; see the module docstring for the rules."""
    started = time.perf_counter()
    report = IngestReport()
    info = embedding_info(embedder)

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if on_file:
            on_file(outcome)

    with WriteLock(settings.index_dir):
        old = Snapshot()
        if not rebuild:
            try:
                index = open_index(settings, info)
            except IndexNotFound:
                pass
            else:
                old = index.snapshot()
                index.close()
        files = dict(old.files)
        by_hash = {f.sha256: f.source for f in files.values() if f.duplicate_of is None}
        new_chunks: dict[str, list[Chunk]] = {}
        replaced: set[str] = set()
        seen: set[str] = set()
        for item in discover(paths, base):
            if item.source in seen:
                continue
            seen.add(item.source)
            try:
                doc = read_document(item, settings.max_file_bytes)
            except BadInput as e:
                record(FileOutcome(item.source, "failed", str(e)))
                continue
            previous = files.get(item.source)
            if previous and previous.sha256 == doc.sha256:
                record(FileOutcome(item.source, "skipped", "unchanged", previous.chunks))
                continue
            if previous:
                replaced.add(item.source)
                if by_hash.get(previous.sha256) == item.source:
                    del by_hash[previous.sha256]
            original = by_hash.get(doc.sha256)
            if original and original != item.source:
                files[item.source] = _file_record(doc, 0, duplicate_of=original)
                new_chunks[item.source] = []
                record(FileOutcome(item.source, "duplicate", f"same content as {original}"))
                continue
            chunks = chunk_document(doc, settings.chunker, embedder.count_tokens)
            files[item.source] = _file_record(doc, len(chunks))
            by_hash[doc.sha256] = item.source
            new_chunks[item.source] = chunks
            detail = "" if doc.encoding.startswith("utf-8") else f"decoded as {doc.encoding}"
            record(FileOutcome(item.source, "updated" if previous else "added", detail, len(chunks)))

        if prune:
            for source, rec in sorted(files.items()):
                if source not in seen and not Path(rec.path).exists():
                    del files[source]
                    replaced.add(source)
                    record(FileOutcome(source, "pruned", "file no longer exists"))

        pending = [c for cs in new_chunks.values() for c in cs]
        vectors = _embed(embedder, [c.text for c in pending], settings.embed_batch_size, on_progress)
        keep = [i for i, c in enumerate(old.chunks) if c.source not in replaced and c.source not in new_chunks]
        snapshot = Snapshot(
            files=files,
            chunks=[old.chunks[i] for i in keep] + pending,
            vectors=np.concatenate([old.vectors[keep].reshape(-1, embedder.dim), vectors]),
        )
        changed = bool(pending) or bool(replaced) or len(files) != len(old.files) or rebuild
        if changed or not (settings.index_dir / "manifest.json").exists():
            write_index(settings, snapshot, info)
        report.total_chunks = len(snapshot.chunks)
        report.embedded_chunks = len(pending)
    report.seconds = time.perf_counter() - started
    return report


def _file_record(doc: Document, chunks: int, duplicate_of: str | None = None) -> FileRecord:
    return FileRecord(
        source=doc.source,
        path=str(doc.path),
        sha256=doc.sha256,
        encoding=doc.encoding,
        title=doc.title,
        date=doc.date,
        outlet=doc.outlet,
        chunks=chunks,
        duplicate_of=duplicate_of,
    )


def _embed(
    embedder: Embedder, texts: list[str], batch_size: int, on_progress: Progress | None
) -> np.ndarray:
    """Embed in slices so progress can be reported; one slice is a few batches."""
    parts = [np.zeros((0, embedder.dim), dtype=np.float32)]
    step = batch_size * 4
    for i in range(0, len(texts), step):
        parts.append(embedder.embed(texts[i : i + step], batch_size=batch_size))
        if on_progress:
            on_progress(min(i + step, len(texts)), len(texts))
    return np.concatenate(parts)
