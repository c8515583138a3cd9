"""The on-disk index: FAISS vectors + an SQLite chunk table (with an FTS5 lexical index) + a manifest.

Layout of an index directory:

    manifest.json        format version, embedding model + fingerprint, chunker, current generation
    gen-000007/          one complete, immutable generation
        chunks.sqlite    files, chunks (text, offsets, header fields, vector), chunks_fts (BM25),
                         and texts: the article text extracted from web pages and export records
        vectors.faiss    FAISS index; vector i is chunk id i (rebuilt from the chunk table if damaged)
    .lock                held by a writer

A write builds a whole new generation in `gen-N.tmp/`, fsyncs it, renames it to `gen-N/`, then
atomically replaces manifest.json (the commit point). A killed run leaves at worst an unused
directory that the next writer deletes; readers never see a half-written index.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .config import ChunkerSettings, Settings
from .errors import CorruptIndex, IndexLocked, IndexMismatch, IndexNotFound, RagError
from .records import Chunk

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
_GEN = re.compile(r"^gen-(\d{6})$")


@dataclass(frozen=True)
class FileRecord:
    """One ingested file. A duplicate has no chunks of its own: it points at the stored copy."""

    source: str
    path: str
    sha256: str
    encoding: str
    title: str | None
    date: str | None
    outlet: str | None
    chunks: int
    duplicate_of: str | None = None


@dataclass
class Snapshot:
    """Everything in one generation, in memory: what an incremental ingest edits."""

    files: dict[str, FileRecord] = field(default_factory=dict)
    chunks: list[Chunk] = field(default_factory=list)
    vectors: np.ndarray = field(default_factory=lambda: np.zeros((0, 0), dtype=np.float32))
    texts: dict[str, str] = field(default_factory=dict)  # source -> extracted text (derived articles)
    stories: dict[str, str] = field(default_factory=dict)  # source -> story id (rag.stories)


@dataclass(frozen=True)
class Manifest:
    generation: str
    embedding: dict[str, Any]  # name, fingerprint, dim
    chunker: dict[str, int]
    index_type: str  # "flat" (exact) or "hnsw" (approximate)
    chunks: int
    files: int
    format: int = FORMAT_VERSION


def read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST
    if not path.exists():
        raise IndexNotFound(index_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise CorruptIndex(index_dir, f"manifest.json: {e}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT_VERSION:
        found = data.get("format") if isinstance(data, dict) else None
        raise IndexMismatch(index_dir, f"index format {found!r}, this rag reads {FORMAT_VERSION}")
    try:
        return Manifest(**data)
    except TypeError as e:
        raise CorruptIndex(index_dir, f"manifest.json: {e}") from None


def check_compatible(
    index_dir: Path, manifest: Manifest, embedding: dict[str, Any], chunker: ChunkerSettings
) -> None:
    """Refuse an index built with another embedding model or chunker (it would mis-rank silently)."""
    built = manifest.embedding
    was, now = built.get("backend") or "torch", embedding.get("backend") or "torch"
    if was != now:
        raise IndexMismatch(
            index_dir,
            f"the {was} embedding backend, not {now} (use --embed-backend {was}, or --embed-url)"
            if was != "remote" else f"embeddings from {built.get('url')}, not the {now} backend (pass --embed-url)",
        )
    if (built.get("name"), built.get("fingerprint")) != (embedding["name"], embedding["fingerprint"]):
        raise IndexMismatch(
            index_dir,
            f"embedding model {built.get('name')} ({built.get('fingerprint')}), "
            f"not {embedding['name']} ({embedding['fingerprint']})",
        )
    if manifest.chunker != chunker.as_dict():
        raise IndexMismatch(index_dir, f"chunker settings {manifest.chunker}, not {chunker.as_dict()}")


class Index:
    """A read-only view of the current generation, for search.

    A damaged `vectors.faiss` is rebuilt from the vectors kept in the chunk table (and written back
    when no ingest holds the lock); `notices` says so. A damaged chunk table cannot be rebuilt.
    """

    def __init__(self, index_dir: Path, manifest: Manifest, settings: Settings) -> None:
        import faiss

        self.dir = index_dir
        self.manifest = manifest
        self.notices: list[str] = []
        gen = index_dir / manifest.generation
        try:
            self.db = sqlite3.connect(f"file:{gen / 'chunks.sqlite'}?mode=ro", uri=True)
            count = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
            self.db.execute("SELECT count(*) FROM chunks_fts").fetchone()
        except sqlite3.Error:
            raise CorruptIndex(index_dir, f"its chunk table ({manifest.generation}/chunks.sqlite) is damaged") from None
        if count != manifest.chunks:
            raise CorruptIndex(index_dir, f"its chunk table holds {count} chunks, the manifest says {manifest.chunks}")
        dim = int(manifest.embedding.get("dim") or 0)
        try:
            self.faiss = faiss.read_index(str(gen / "vectors.faiss"))
            intact = self.faiss.ntotal == count and self.faiss.d == dim
        except RuntimeError:
            intact = False
        if not intact:
            self.faiss = self._rebuild_vectors(gen, dim, settings)
        if manifest.index_type == "hnsw":
            faiss.downcast_index(self.faiss).hnsw.efSearch = settings.hnsw_ef_search  # type: ignore[attr-defined]

    def _rebuild_vectors(self, gen: Path, dim: int, settings: Settings) -> Any:
        """The FAISS index again, from the chunk table's copy of every vector; written back in
        place when it can be (no ingest holds the lock, the folder is writable)."""
        import faiss

        try:
            blobs = [r[0] for r in self.db.execute("SELECT vector FROM chunks ORDER BY id")]
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dim)
        except (sqlite3.Error, ValueError):
            raise CorruptIndex(self.dir, "its vectors and its chunk table are damaged") from None
        index = _faiss_index(vectors, dim, self.manifest.index_type, settings)
        tmp = gen / f".vectors.faiss.{os.getpid()}.tmp"
        where = "rebuilt it in memory for this command"
        try:
            with WriteLock(self.dir, wait=False):
                if (self.dir / MANIFEST).exists() and read_manifest(self.dir).generation == gen.name:
                    faiss.write_index(index, str(tmp))
                    os.replace(tmp, gen / "vectors.faiss")
                    _fsync_dir(gen)
                    where = "rebuilt it"
        except (IndexLocked, OSError, RuntimeError, RagError):  # an ingest is writing, read-only, or superseded
            tmp.unlink(missing_ok=True)
        self.notices.append(
            f"{self.manifest.generation}/vectors.faiss was damaged; {where} from the chunk table "
            f"({len(vectors)} vectors)"
        )
        return index

    def __len__(self) -> int:
        return int(self.faiss.ntotal)

    def dense(self, query: np.ndarray, n: int) -> list[tuple[int, float]]:
        """(chunk id, cosine) for the n nearest chunks."""
        if len(self) == 0:
            return []
        scores, ids = self.faiss.search(query.reshape(1, -1).astype(np.float32), min(n, len(self)))
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def cosine(self, query: np.ndarray, ids: list[int]) -> dict[int, float]:
        """Cosine of the query with given chunks (vectors are normalized), ranked or not."""
        return {i: float(np.dot(self.faiss.reconstruct(i), query)) for i in ids}

    def lexical(self, query: str, n: int) -> list[tuple[int, float]]:
        """(chunk id, BM25 score, higher is better) from SQLite FTS5."""
        match = fts_query(query)
        if not match:
            return []
        rows = self.db.execute(
            "SELECT rowid, bm25(chunks_fts) FROM chunks_fts WHERE chunks_fts MATCH ? "
            "ORDER BY bm25(chunks_fts) LIMIT ?",
            (match, n),
        ).fetchall()
        return [(int(r), -float(s)) for r, s in rows]

    def chunks(self, ids: list[int]) -> dict[int, Chunk]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.db.execute(
            f"SELECT id, source, start, end, text, title, date, outlet FROM chunks WHERE id IN ({marks})",
            ids,
        ).fetchall()
        return {r[0]: Chunk(*r[1:]) for r in rows}

    def chunks_of(self, source: str) -> list[Chunk]:
        """One file's chunks in reading order (they overlap by a few sentences)."""
        rows = self.db.execute(
            "SELECT source, start, end, text, title, date, outlet FROM chunks WHERE source = ? ORDER BY start",
            (source,),
        ).fetchall()
        return [Chunk(*r) for r in rows]

    def document(self, source: str) -> str:
        """One file's text as far as its chunks hold it, at the file's own character offsets
        (a citation's start/end index it); what no chunk covers (a stripped header) is blank."""
        chunks = self.chunks_of(source)
        text = [" "] * max((c.end for c in chunks), default=0)
        for c in chunks:
            text[c.start : c.end] = c.text
        return "".join(text)

    def files(self) -> list[FileRecord]:
        rows = self.db.execute(
            "SELECT source, path, sha256, encoding, title, date, outlet, chunks, duplicate_of "
            "FROM files ORDER BY source"
        ).fetchall()
        return [FileRecord(*r) for r in rows]

    def text_of(self, source: str) -> str | None:
        """The article text extracted from a web page or export record (None for a text file)."""
        if not self._has("texts"):
            return None
        row = self.db.execute("SELECT text FROM texts WHERE source = ?", (source,)).fetchone()
        return row[0] if row else None

    def _has(self, table: str) -> bool:
        """Indexes written by older versions lack the `texts` and `stories` tables."""
        return self.db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone() is not None

    def stories(self) -> dict[str, str] | None:
        """source -> story id, as the last ingest assigned them (None for an older index)."""
        if not self._has("stories"):
            return None
        return dict(self.db.execute("SELECT source, story FROM stories"))

    def snapshot(self) -> Snapshot:
        """Everything, vectors included, for an incremental rewrite."""
        rows = self.db.execute(
            "SELECT source, start, end, text, title, date, outlet, vector FROM chunks ORDER BY id"
        ).fetchall()
        dim = int(self.faiss.d)
        vectors = np.frombuffer(b"".join(r[7] for r in rows), dtype=np.float32).reshape(-1, dim)
        return Snapshot(
            files={f.source: f for f in self.files()},
            chunks=[Chunk(*r[:7]) for r in rows],
            vectors=vectors.copy(),
            texts=dict(self.db.execute("SELECT source, text FROM texts")) if self._has("texts") else {},
            stories=self.stories() or {},
        )

    def close(self) -> None:
        self.db.close()


_FTS_TOKEN = re.compile(r"\w+", re.UNICODE)


def fts_query(text: str) -> str:
    """A safe FTS5 query: every word quoted and OR-ed (no user syntax reaches FTS5)."""
    words = dict.fromkeys(w.lower() for w in _FTS_TOKEN.findall(text))
    return " OR ".join(f'"{w}"' for w in words)


def open_index(settings: Settings, embedding: dict[str, Any] | None) -> Index:
    """Open the current generation and check it matches the embedder and chunker in use
    (`None`: no embedder, for commands that only read what is stored)."""
    for _ in range(5):
        manifest = read_manifest(settings.index_dir)
        if embedding is not None:
            check_compatible(settings.index_dir, manifest, embedding, settings.chunker)
        if (settings.index_dir / manifest.generation).is_dir():
            break
        # an ingest committed a newer generation and removed this one between the two reads
    return Index(settings.index_dir, manifest, settings)


def write_index(
    settings: Settings, snapshot: Snapshot, embedding: dict[str, Any]
) -> Manifest:
    """Write `snapshot` as a new generation and commit it atomically. Caller holds the lock."""
    index_dir = settings.index_dir
    index_dir.mkdir(parents=True, exist_ok=True)
    number = 1 + max((int(m.group(1)) for p in index_dir.iterdir() if (m := _GEN.match(p.name))), default=0)
    name = f"gen-{number:06d}"
    tmp = index_dir / f"{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    n = len(snapshot.chunks)
    index_type = "hnsw" if n > settings.exact_index_max_chunks else "flat"
    _write_sqlite(tmp / "chunks.sqlite", snapshot)
    _write_faiss(tmp / "vectors.faiss", snapshot.vectors, embedding["dim"], index_type, settings)
    for f in tmp.iterdir():
        _fsync_file(f)
    _fsync_dir(tmp)
    os.replace(tmp, index_dir / name)
    _fsync_dir(index_dir)
    manifest = Manifest(
        generation=name,
        embedding=embedding,
        chunker=settings.chunker.as_dict(),
        index_type=index_type,
        chunks=n,
        files=len(snapshot.files),
    )
    atomic_write_text(index_dir / MANIFEST, json.dumps(manifest.__dict__, indent=2) + "\n")
    _remove_stale_generations(index_dir, keep=name)
    return manifest


def _write_sqlite(path: Path, snap: Snapshot) -> None:
    db = sqlite3.connect(path)
    try:
        db.executescript(
            """
            CREATE TABLE files (source TEXT PRIMARY KEY, path TEXT, sha256 TEXT, encoding TEXT,
                                title TEXT, date TEXT, outlet TEXT, chunks INTEGER, duplicate_of TEXT);
            CREATE TABLE chunks (id INTEGER PRIMARY KEY, source TEXT, start INTEGER, end INTEGER,
                                 text TEXT, title TEXT, date TEXT, outlet TEXT, vector BLOB);
            CREATE INDEX chunks_source ON chunks(source);
            CREATE TABLE texts (source TEXT PRIMARY KEY, text TEXT);
            CREATE TABLE stories (source TEXT PRIMARY KEY, story TEXT);
            CREATE VIRTUAL TABLE chunks_fts USING fts5(
                text, content='chunks', content_rowid='id',
                tokenize='porter unicode61 remove_diacritics 2');
            """
        )
        db.executemany(
            "INSERT INTO files VALUES (?,?,?,?,?,?,?,?,?)",
            [
                (f.source, f.path, f.sha256, f.encoding, f.title, f.date, f.outlet, f.chunks, f.duplicate_of)
                for f in snap.files.values()
            ],
        )
        db.executemany(
            "INSERT INTO chunks VALUES (?,?,?,?,?,?,?,?,?)",
            (
                (i, c.source, c.start, c.end, c.text, c.title, c.date, c.outlet, v.tobytes())
                for i, (c, v) in enumerate(zip(snap.chunks, snap.vectors))
            ),
        )
        db.executemany("INSERT INTO texts VALUES (?,?)", sorted(snap.texts.items()))
        db.executemany("INSERT INTO stories VALUES (?,?)", sorted(snap.stories.items()))
        db.execute("INSERT INTO chunks_fts(chunks_fts) VALUES('rebuild')")
        db.commit()
    finally:
        db.close()


def _write_faiss(path: Path, vectors: np.ndarray, dim: int, index_type: str, settings: Settings) -> None:
    import faiss

    faiss.write_index(_faiss_index(vectors, dim, index_type, settings), str(path))


def _faiss_index(vectors: np.ndarray, dim: int, index_type: str, settings: Settings) -> Any:
    import faiss

    index: faiss.Index
    if index_type == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
    else:
        index = faiss.IndexFlatIP(dim)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def atomic_write_text(path: Path, text: str) -> None:
    """Write to a temporary file in the same folder, fsync, then rename over `path`."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with tmp.open("w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # pragma: no cover - platforms without directory fds
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def _remove_stale_generations(index_dir: Path, keep: str) -> None:
    for p in index_dir.iterdir():
        if p.name != keep and (_GEN.match(p.name) or p.name.endswith(".tmp")):
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)


class WriteLock:
    """An exclusive lock on the index directory for the whole of an ingest.

    Held by another process: with `wait`, call `on_wait` once and block until it is free;
    without, raise IndexLocked at once.
    """

    def __init__(
        self, index_dir: Path, wait: bool = False, on_wait: Callable[[], None] | None = None
    ) -> None:
        from filelock import FileLock, Timeout

        index_dir.mkdir(parents=True, exist_ok=True)
        self._timeout_error = Timeout
        self._lock = FileLock(str(index_dir / ".lock"), timeout=0)
        self._dir = index_dir
        self._wait = wait
        self._on_wait = on_wait

    def __enter__(self) -> WriteLock:
        try:
            self._lock.acquire()
        except self._timeout_error:
            if not self._wait:
                raise IndexLocked(self._dir) from None
            if self._on_wait:
                self._on_wait()
            self._lock.acquire(timeout=-1)
        return self

    def __exit__(self, *exc: object) -> None:
        self._lock.release()
