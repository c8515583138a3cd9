"""Typed errors whose messages are written for users; the CLI prints them as one line."""

from __future__ import annotations


class RagError(Exception):
    """Base class: `str(err)` is a complete sentence a user can act on."""

    exit_code = 1


class IndexNotFound(RagError):
    def __init__(self, path: object) -> None:
        super().__init__(f"no index at {path}; run `rag ingest PATH` first (or pass --index DIR)")


class CorruptIndex(RagError):
    def __init__(self, path: object, why: str) -> None:
        super().__init__(
            f"the index at {path} is unreadable: {why}; re-ingest with `rag ingest PATH --rebuild`"
        )


class IndexMismatch(RagError):
    """The index was built with another embedding model, chunker or format."""

    def __init__(self, path: object, why: str) -> None:
        super().__init__(
            f"the index at {path} was built with {why}; re-ingest with `rag ingest PATH --rebuild`"
        )


class IndexLocked(RagError):
    def __init__(self, path: object) -> None:
        super().__init__(
            f"another `rag ingest` is writing {path}; run again without --no-wait to wait for it"
        )


class ModelNotFound(RagError):
    pass


class BadInput(RagError):
    """One input file could not be ingested; ingestion goes on with the others."""


class UsageError(RagError):
    exit_code = 2
