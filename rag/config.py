"""Settings: every default in one place, flowing one way (CLI -> Settings -> library).

The library never reads the environment: the CLI resolves `--index` / $RAG_INDEX and builds a
`Settings`; tests build `Settings(...)` directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_INDEX_DIR = Path(".rag")


@dataclass(frozen=True)
class ChunkerSettings:
    """How articles are cut into passages. Recorded in the index manifest: a change means re-ingest."""

    max_tokens: int = 160  # word pieces per chunk; below MiniLM's 256 limit so nothing is truncated
    overlap_tokens: int = 40  # trailing sentences (up to this many tokens) repeated in the next chunk
    version: int = 1  # bump when the splitting rules change, so old indexes are rebuilt

    def as_dict(self) -> dict[str, int]:
        return {
            "max_tokens": self.max_tokens,
            "overlap_tokens": self.overlap_tokens,
            "version": self.version,
        }


@dataclass(frozen=True)
class StorySettings:
    """How articles are grouped into stories (`rag stories`)."""

    # join and names_weight: the middle of the range that grouped all three dev sets exactly with
    # both embedding backends (join 0.50-0.55 with torch, 0.47-0.54 with the ONNX export)
    join: float = 0.52  # average score with a story's articles to join it
    names_weight: float = 0.5  # weight of shared names (Jaccard) next to the cosine
    window_days: int = 10  # farther than this in date from every article of a story: another event
    refine_rounds: int = 3  # re-placing passes after the first, single one (see rag.stories.assign)


# `rag summarize --length short`: about five sentences, the length of an editor's roundup (80-120 words)
SHORT_SECTION_CAPS = (2, 2, 1)


@dataclass(frozen=True)
class Settings:
    index_dir: Path = DEFAULT_INDEX_DIR  # where `rag ingest` writes and every command reads
    embedding_model: str = "all-minilm-l6-v2"  # name in models.txt
    embed_backend: str = "auto"  # torch | onnx | auto (the index's own; ONNX for a new index when installed)
    embed_url: str | None = None  # an OpenAI-compatible /v1/embeddings server instead of a local model
    chunker: ChunkerSettings = field(default_factory=ChunkerSettings)
    stories: StorySettings = field(default_factory=StorySettings)
    max_file_bytes: int = 10_000_000  # larger files are refused (news articles are a few KB)
    embed_batch_size: int = 32  # sentences per forward pass; 32 was fastest on 2 cores
    exact_index_max_chunks: int = 200_000  # above this, an approximate (HNSW) FAISS index is built
    hnsw_m: int = 32  # HNSW graph degree (approximate index only)
    hnsw_ef_search: int = 128  # HNSW search breadth; higher = better recall, slower
    rrf_k: int = 60  # reciprocal rank fusion constant (Cormack et al. 2009)
    candidates: int = 50  # how many hits each ranker contributes before fusion
    # answering (`rag ask`)
    answer_k: int = 3  # passages given to the model; each one costs ~1 s of prompt time on 2 cores
    passage_max_tokens: int = 100  # a passage is cut to its sentences most relevant to the question
    max_answer_tokens: int = 200  # generation cap (the grammar caps sentences at 4 x 320 chars)
    min_relevance: float = 0.25  # best passage cosine below this: nothing relevant, abstain
    min_cosine: float = 0.55  # claim vs. best evidence sentence, for a citation to count
    min_overlap: float = 0.6  # share of the claim's content words that must occur in the passage
    min_judged_cosine: float = 0.3  # a paraphrase this similar, with every fact in place, is put to the judge
    judge_candidates: int = 3  # sentences judged "does it answer?" when the model's answer fails
    # p(yes) that a cited sentence answers the question, asked in context (Judge.yes). On dev, gold
    # sentences scored 0.63-0.94 (26 of 31 >= 0.75); the best sentence of unanswerable questions
    # 0.30-0.78 (1 of 13 >= 0.75).
    judge_answers: float = 0.7  # that the sentence an answer cites answers the question
    # p(yes) asked of the sentence and the question alone (Judge.alone). On all of dev (154 answerable
    # questions that are not who-said-it, 84 unanswerable; candidates ordered by closeness to the
    # question, without the model's pointing), the gold sentence was among the 3 judged for 114;
    # at >= 0.5 a sentence was quoted for 100 (88 of them gold) and for 10 of 84 unanswerable; at
    # >= 0.4, 117 (96 gold) and 17 of 84; at >= 0.6, 76 (69 gold) and 5 of 84. Asked with the sentence
    # before the question, the judge told gold sentences (125) from the best two of each unanswerable
    # question better (AUC 0.894, not 0.869), but at a threshold that lets 10 % of unanswerable
    # questions through it passed no more gold (0.65, not 0.64) and cost twice the time: the
    # question first is a prefix the candidates share in the KV cache.
    judge_extract: float = 0.5  # that a sentence near the question answers it, to quote it instead
    # p(yes), asked alone, that a sentence with a rival figure (rag.cite.rival_figures) answers a how-many
    # question, to add it. The rule decides; the judge only vetoes what is off the question. On the 24
    # how-many/how-much dev questions, rivals that held a key fact scored 0.83, 0.39, 0.30, 0.21, the
    # one that did not 0.29, the others 0.04-0.25: no threshold separates them, 0.15 drops the plainly off.
    judge_other_figure: float = 0.15
    other_figure_candidates: int = 2  # such sentences judged, closest first
    # a who-said-it question's statement vs. the sentence quoted as making it: cosine + 0.5 x word share.
    # On the dev splits the sentence at 0.68 and 0.69 was the gold one, at 0.65 and 0.66 it was not.
    statement_score: float = 0.67
    judge_states: float = 0.5  # the model's p(yes) that a sentence states what an answer sentence says
    # summaries (`rag summarize`)
    match_cosine: float = 0.7  # two sources' claims this similar (and passing the name/number check) agree
    related_cosine: float = 0.45  # a one-source claim this close to another source's claim is contested
    topic_min_cosine: float = 0.3  # with --topic, claims less similar to the topic are left out
    max_claims: int = 1500  # claims aligned pairwise (quadratic); the most central are kept
    section_caps: tuple[int, int, int] = (4, 6, 4)  # sentences: agree, differ, one source (`--length full`)
    max_sentence_tokens: int = 90  # one summary sentence (the grammar caps it at 300 characters)
    # the model's tries at a summary sentence before the claim is quoted: a failed sentence is sent
    # back once with why it failed. On eval/summaries.jsonl, 2 took the most extracts in a section
    # from 2 to 1 and the model's share of sentences from 0.80 to 0.90, for ~15 % more time.
    sentence_attempts: int = 2
    models_dir: Path | None = None  # GGUF cache; None = $RAG_MODELS_DIR or ~/.cache/rag/models

