"""Dataclasses passed between stages: ingest -> chunk -> embed -> index -> retrieve."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Document:
    """One article, decoded. Offsets everywhere are character offsets into `text`.

    `body_start:body_end` is the part worth indexing: the title line onwards, without a leading
    `date ...` marker and without trailing page chrome ("Follow us on social networks").
    """

    source: str  # stable, human-readable key, e.g. "seeds/000_5b9d.txt" or "exports/a.jsonl#id-7"
    path: Path  # absolute path it was read from
    text: str  # the whole decoded file, or the article text extracted from it (`derived`)
    sha256: str  # of the raw bytes: the incremental-ingest key
    encoding: str  # "utf-8", or the legacy encoding it was decoded with
    body_start: int
    body_end: int
    title: str | None = None
    date: str | None = None  # ISO yyyy-mm-dd when it could be parsed
    outlet: str | None = None
    derived: bool = False  # text extracted from a web page or an export record: the index stores it


@dataclass(frozen=True)
class Chunk:
    """A passage: `text == document.text[start:end]`, always."""

    source: str
    start: int
    end: int
    text: str
    title: str | None = None
    date: str | None = None
    outlet: str | None = None


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the ranks that produced it (1-based, None = absent)."""

    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
    dense_score: float | None = None  # cosine similarity with the query

    def to_json(self) -> dict[str, Any]:
        out = asdict(self.chunk)
        out.update(
            score=round(self.score, 6),
            dense_rank=self.dense_rank,
            lexical_rank=self.lexical_rank,
            dense_score=None if self.dense_score is None else round(self.dense_score, 6),
        )
        return out


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one input file during `rag ingest`."""

    source: str
    status: str  # added | updated | skipped | duplicate | failed | pruned
    detail: str = ""  # e.g. the encoding used, "duplicate of x.txt", or the failure reason
    chunks: int = 0


@dataclass
class IngestReport:
    outcomes: list[FileOutcome] = field(default_factory=list)
    total_chunks: int = 0  # chunks in the index after this run
    embedded_chunks: int = 0  # chunks embedded in this run
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def failed(self) -> bool:
        return self.count("failed") > 0

    def summary(self) -> str:
        parts = [
            f"{self.count(s)} {s}"
            for s in ("added", "updated", "skipped", "duplicate", "pruned", "failed")
        ]
        return f"{', '.join(parts)}; {self.total_chunks} chunks in the index"


@dataclass(frozen=True)
class Citation:
    """A passage cited by an answer, shown with the sentence of it that best supports the answer."""

    n: int  # the number shown in the answer: [n]
    source: str
    start: int  # span of `quote` in the source file
    end: int
    quote: str
    title: str | None
    outlet: str | None
    date: str | None
    score: float  # support: cosine between the answer sentence and `quote`


@dataclass(frozen=True)
class AnswerSentence:
    text: str  # without the citation markers
    citations: list[int]
    supported: bool


@dataclass
class Answer:
    question: str
    answer: str  # the rendered text, citations inline: "... checkpoint [1]."
    abstained: bool
    sentences: list[AnswerSentence]
    citations: list[Citation]
    model: str
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)  # why it abstained, what was corrected or dropped
    # the model's answer as written, judged by the verifier before correction (rag eval audits it):
    # sentences, sentences_supported_as_cited, citations, citations_supporting, corrected, dropped
    verification: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SummarySentence:
    text: str  # without citation markers
    citations: list[int]
    attributed_to: str | None  # who the sentence says is speaking; None for shared facts
    origin: str  # "model" (written by the LLM and verified) or "extract" (the source sentence, quoted)


@dataclass
class SummarySection:
    heading: str
    sentences: list[SummarySentence]


@dataclass
class Summary:
    sources: list[dict[str, Any]]  # {source, label, outlet, date, title, claims}
    sections: list[SummarySection]
    citations: list[Citation]
    checks: dict[str, Any]
    text: str  # the whole summary as plain text, citations inline
    model: str
    timings: dict[str, float]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)
