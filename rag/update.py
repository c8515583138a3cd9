"""`rag ingest`: bring the index up to date with a set of files, incrementally.

Articles (a file, or a record of an export) are keyed by content hash: unchanged ones are skipped,
changed ones replaced, identical content under a second name is recorded once as a duplicate. A
file that fails keeps whatever version the index already had; a record no longer in its export is
removed. The new index is committed atomically at the end.
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
from .ingest import InputFile, discover, read_articles
from .records import Chunk, Document, FileOutcome, IngestReport
from .stories import articles_of
from .stories import assign as assign_stories

Progress = Callable[[int, int], None]  # (done so far, total): files read, or chunks embedded


def embedding_info(embedder: Embedder) -> dict[str, object]:
    """What the manifest records of the embedder, and what a later command must match."""
    info: dict[str, object] = {
        "name": embedder.name, "fingerprint": embedder.fingerprint(), "dim": embedder.dim,
        "backend": embedder.backend,
    }
    if url := getattr(embedder, "url", None):
        info["url"] = url
    return info


def ingest(
    paths: Iterable[Path],
    settings: Settings,
    embedder: Embedder,
    base: Path,
    rebuild: bool = False,
    prune: bool = False,
    fields: dict[str, str] | None = None,
    wait: bool = True,
    on_wait: Callable[[], None] | None = None,
    on_file: Callable[[FileOutcome], None] | None = None,
    on_read: Progress | None = None,
    on_progress: Progress | None = None,
) -> IngestReport:
    """Ingest `paths` into `settings.index_dir`; see the module docstring for the rules.

    With `wait`, a second ingest into the same index waits for the first (after `on_wait`) and
    then applies its files on top of the first's result; without, it fails at once.
    """
    started = time.perf_counter()
    report = IngestReport()
    info = embedding_info(embedder)

    def record(outcome: FileOutcome) -> None:
        report.outcomes.append(outcome)
        if on_file:
            on_file(outcome)

    items = list(discover(paths, base))
    with WriteLock(settings.index_dir, wait=wait, on_wait=on_wait):
        old = Snapshot()
        if not rebuild:
            try:
                index = open_index(settings, info)
            except IndexNotFound:
                pass
            else:
                old = index.snapshot()
                index.close()
        state = _State(old)
        seen: set[str] = set()
        for done, item in enumerate(items, 1):
            if on_read:
                on_read(done, len(items))
            if item.source in seen:
                continue
            seen.add(item.source)
            try:
                docs, problems = read_articles(item, settings.max_file_bytes, fields)
            except BadInput as e:
                record(FileOutcome(item.source, "failed", str(e)))
                continue
            for problem in problems:
                record(FileOutcome(problem.where, "failed", problem.reason))
            for doc in docs:
                seen.add(doc.source)
                record(state.add(doc, settings, embedder))
            if docs and docs[0].source != item.source and not problems:  # an export: records gone from it go too
                # (not when some records could not be read: those keep the version already indexed)
                for source in sorted(state.files):
                    if source.startswith(item.source + "#") and source not in seen:
                        record(state.remove(source, "no longer in the file"))

        if prune:
            for source, rec in sorted(state.files.items()):
                if source not in seen and not Path(rec.path).exists():
                    record(state.remove(source, "file no longer exists"))
        for source in state.orphans():
            record(state.adopt(source, settings, embedder, fields))

        pending = [c for cs in state.new_chunks.values() for c in cs]
        vectors = _embed(embedder, [c.text for c in pending], settings.embed_batch_size, on_progress)
        gone = state.replaced | state.new_chunks.keys()
        keep = [i for i, c in enumerate(old.chunks) if c.source not in gone]
        snapshot = Snapshot(
            files=state.files,
            chunks=[old.chunks[i] for i in keep] + pending,
            vectors=np.concatenate([old.vectors[keep].reshape(-1, embedder.dim), vectors]),
            texts=state.texts,
        )
        # an article whose text changed is placed again; the others keep their story
        kept = {src: story for src, story in old.stories.items() if src not in gone}
        snapshot.stories = assign_stories(articles_of(snapshot), kept, settings.stories)
        changed = bool(pending) or bool(state.replaced) or len(state.files) != len(old.files) or rebuild
        if changed or (report.outcomes and not (settings.index_dir / "manifest.json").exists()):
            write_index(settings, snapshot, info)
        report.total_chunks = len(snapshot.chunks)
        report.embedded_chunks = len(pending)
    report.seconds = time.perf_counter() - started
    return report


class _State:
    """The files of the index being built, edited one article at a time."""

    def __init__(self, old: Snapshot) -> None:
        self.files = dict(old.files)
        self.texts = dict(old.texts)
        self.by_hash = {f.sha256: f.source for f in self.files.values() if f.duplicate_of is None}
        self.new_chunks: dict[str, list[Chunk]] = {}
        self.replaced: set[str] = set()
        self.read: dict[str, Document] = {}  # duplicates read in this run, in case their original goes

    def add(self, doc: Document, settings: Settings, embedder: Embedder) -> FileOutcome:
        previous = self.files.get(doc.source)
        if previous and previous.sha256 == doc.sha256:
            if previous.duplicate_of:
                self.read[doc.source] = doc
            return FileOutcome(doc.source, "skipped", "unchanged", previous.chunks)
        if previous:
            self.replaced.add(doc.source)
            self.texts.pop(doc.source, None)
            self._forget_hash(doc.source, previous.sha256)
        original = self.by_hash.get(doc.sha256)
        if original and original != doc.source:
            self.files[doc.source] = _file_record(doc, 0, duplicate_of=original)
            self.new_chunks[doc.source] = []
            self.read[doc.source] = doc
            return FileOutcome(doc.source, "duplicate", f"same content as {original}")
        return self._index(doc, settings, embedder, "updated" if previous else "added", _detail(doc))

    def _index(self, doc: Document, settings: Settings, embedder: Embedder, status: str, detail: str) -> FileOutcome:
        chunks = chunk_document(doc, settings.chunker, embedder.count_tokens)
        self.files[doc.source] = _file_record(doc, len(chunks))
        self.by_hash[doc.sha256] = doc.source
        self.new_chunks[doc.source] = chunks
        if doc.derived:
            self.texts[doc.source] = doc.text
        return FileOutcome(doc.source, status, detail, len(chunks))

    def remove(self, source: str, why: str) -> FileOutcome:
        self._forget_hash(source, self.files.pop(source).sha256)
        self.texts.pop(source, None)
        self.new_chunks.pop(source, None)
        self.replaced.add(source)
        return FileOutcome(source, "pruned", why)

    def _forget_hash(self, source: str, digest: str) -> None:
        if self.by_hash.get(digest) == source:
            del self.by_hash[digest]

    def orphans(self) -> list[str]:
        """Duplicates whose original was removed or changed in this run: they hold no chunks of
        their own, so they must be indexed on their own or they would be lost."""
        return sorted(
            source for source, rec in self.files.items()
            if rec.duplicate_of and (
                (orig := self.files.get(rec.duplicate_of)) is None or orig.sha256 != rec.sha256 or orig.duplicate_of
            )
        )

    def adopt(self, source: str, settings: Settings, embedder: Embedder, fields: dict[str, str] | None) -> FileOutcome:
        """Index an orphaned duplicate on its own (re-reading it if this run did not read it)."""
        rec = self.files[source]
        doc = self.read.get(source) or _reread(rec, settings, fields)
        if doc is None or doc.sha256 != rec.sha256:
            return self.remove(source, f"its original {rec.duplicate_of} is gone and it could not be read again; ingest it again")
        del self.files[source]
        self.replaced.add(source)
        original = self.by_hash.get(doc.sha256)
        if original and original != source:  # another copy was adopted first
            self.files[source] = _file_record(doc, 0, duplicate_of=original)
            self.new_chunks[source] = []
            return FileOutcome(source, "duplicate", f"same content as {original} (its original {rec.duplicate_of} changed or went)")
        return self._index(doc, settings, embedder, "updated", f"indexed on its own: {rec.duplicate_of} changed or went")


def _reread(rec: FileRecord, settings: Settings, fields: dict[str, str] | None) -> Document | None:
    """The article `rec` names, read again from its file (an export record from its export)."""
    path = Path(rec.path)
    try:
        docs, _ = read_articles(InputFile(path, rec.source.split("#", 1)[0]), settings.max_file_bytes, fields)
    except BadInput:
        return None
    return next((d for d in docs if d.source == rec.source), None)


def _detail(doc: Document) -> str:
    if doc.encoding == "html":
        return f"article text extracted from the page ({len(doc.text):,} characters)"
    if doc.derived or doc.encoding.startswith("utf-8"):
        return ""
    return f"decoded as {doc.encoding}"


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
