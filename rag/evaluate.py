"""`rag eval`: run an evaluation set through the real pipeline and score it.

The set format (one JSON object a line) and every metric's formula are documented in
eval/README.md; the functions here follow it. Gold evidence is given as exact sentences and
resolved to character spans here, so a typo in the set is an error, not a silent zero.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import neutrality
from .answer import ask, retrieve
from .cite import same_speaker
from .config import Settings
from .embed import Embedder
from .errors import BadInput
from .generate import Generator
from .index import Index, open_index
from .summarize import HEADINGS, summarize
from .update import embedding_info, ingest

SPLITS = ("dev", "test")
CATEGORIES = ("single_source", "both_sides", "contested", "who_said_what", "numbers_dates", "unanswerable")


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    corpus: str  # folder of articles, relative to the set's repository root
    category: str
    answerable: bool
    gold_sources: list[str]
    gold_spans: list[Span]
    key_facts: list[list[str]]  # each fact: accepted phrasings
    attribution: list[str]  # for contested items: names one of which the answer must give
    split: str = "dev"  # "dev" (tune on it) or "test" (held out: report it, never tune on it)
    speakers: list[str] = field(default_factory=list)  # who really makes the statement the answer reports


@dataclass(frozen=True)
class SummaryItem:
    id: str
    corpus: str
    sources: list[str]
    required_facts: list[list[str]]
    forbidden_terms: list[str]
    third_parties: list[str] = field(default_factory=list)  # a mediator every side quotes: never a side


@dataclass
class QuestionResult:
    item: Question
    answer: dict[str, Any]
    retrieved: list[Span]  # the top-k passages retrieval found, for recall@k
    scores: dict[str, Any] = field(default_factory=dict)


def load_set(path: Path, root: Path) -> tuple[list[Question], list[SummaryItem]]:
    """Parse and validate a set; gold evidence sentences must occur verbatim in their files."""
    questions: list[Question] = []
    summaries: list[SummaryItem] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("//"):
            continue
        where = f"{path}:{n}"
        try:
            raw = json.loads(line)
            if raw.get("kind") == "summary":
                summaries.append(SummaryItem(raw["id"], raw["corpus"], raw.get("sources", []),
                                             raw["required_facts"], raw.get("forbidden_terms", []),
                                             raw.get("third_parties", [])))
                continue
            if raw["category"] not in CATEGORIES:
                raise BadInput(f"{where}: category {raw['category']!r} is not one of {', '.join(CATEGORIES)}")
            spans = [_resolve(root / raw["corpus"], e["source"], e["text"], where) for e in raw["gold_evidence"]]
            if raw.get("split", "dev") not in SPLITS:
                raise BadInput(f"{where}: split {raw['split']!r} is not one of {', '.join(SPLITS)}")
            questions.append(Question(raw["id"], raw["question"], raw["corpus"], raw["category"],
                                      bool(raw["answerable"]), raw["gold_sources"], spans, raw["key_facts"],
                                      raw.get("attribution", []), raw.get("split", "dev"), raw.get("speakers", [])))
        except (KeyError, TypeError, json.JSONDecodeError) as e:
            raise BadInput(f"{where}: not a valid item ({type(e).__name__}: {e})") from None
    return questions, summaries


def _resolve(corpus: Path, source: str, text: str, where: str) -> Span:
    try:
        body = (corpus / source).read_text(encoding="utf-8")
    except OSError:
        raise BadInput(f"{where}: gold source {corpus / source} cannot be read") from None
    # any run of whitespace matches any other (articles carry non-breaking spaces)
    m = re.search(r"\s+".join(re.escape(w) for w in text.split()), body)
    if not m:
        raise BadInput(f"{where}: gold evidence not found verbatim in {source}: {text[:60]!r}")
    return Span(source, m.start(), m.end())


def corpus_index(corpus: Path, cache: Path, embedder: Embedder, settings: Settings) -> tuple[Index, Settings]:
    """An index of one corpus folder, kept under `cache` and brought up to date incrementally."""
    slug = re.sub(r"[^\w.-]+", "_", corpus.resolve().name) or "corpus"
    # one index per backend: vectors of two backends never meet
    corpus_settings = Settings(index_dir=cache / f"{slug}-{embedder.backend}", models_dir=settings.models_dir)
    ingest([corpus], corpus_settings, embedder, base=corpus, prune=True)
    return open_index(corpus_settings, embedding_info(embedder)), corpus_settings


def run_questions(
    items: list[Question],
    root: Path,
    cache: Path,
    embedder: Embedder,
    generator: Generator,
    settings: Settings,
    k: int | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> list[QuestionResult]:
    results = []
    indexes: dict[str, tuple[Index, Settings]] = {}
    for i, item in enumerate(items):
        if on_step:
            on_step(i, len(items))
        if item.corpus not in indexes:
            indexes[item.corpus] = corpus_index(root / item.corpus, cache, embedder, settings)
        index, s = indexes[item.corpus]
        answer = ask(item.question, index, embedder, generator, s, k)
        hits = retrieve(item.question, index, embedder, s, k)
        retrieved = [Span(h.chunk.source, h.chunk.start, h.chunk.end) for h in hits]
        result = QuestionResult(item, answer.to_json(), retrieved)
        result.scores = score_question(result)
        results.append(result)
    if on_step:
        on_step(len(items), len(items))
    return results


def overlaps(a: Span, b: Span) -> bool:
    return a.source == b.source and max(a.start, b.start) < min(a.end, b.end)


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split())}


def normalize(text: str) -> str:
    """Case- and number-normalized text for key-fact matching: "Eleven" and "11" match,
    "4,000" and "4000" match, curly and straight apostrophes match."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    text = re.sub(r"[a-z]+", lambda m: _NUMBER_WORDS.get(m.group(), m.group()), text)
    return " ".join(re.sub(r"[^\w%.' -]", " ", text).split())


def has_phrase(text: str, phrasings: list[str]) -> bool:
    hay = f" {normalize(text).replace('.', ' ')} "
    return any(f" {normalize(p).replace('.', ' ')} " in hay or
               (normalize(p) and re.search(rf"(?<!\w){re.escape(normalize(p))}(?!\w)", normalize(text)))
               for p in phrasings)


def score_question(r: QuestionResult) -> dict[str, Any]:
    """Per-item scores; `aggregate` turns them into the set's metrics."""
    a, item = r.answer, r.item
    cites = {c["n"]: c for c in a["citations"]}
    spans = {n: Span(c["source"], c["start"], c["end"]) for n, c in cites.items()}
    gold_ok = {n: any(overlaps(s, g) for g in item.gold_spans) for n, s in spans.items()}
    sentences = [s for s in a["sentences"] if s["supported"]]
    cited_sources = {c["source"] for c in a["citations"]}
    out: dict[str, Any] = {
        "abstained": a["abstained"],
        "sentences": len(sentences),
        "sentences_gold_supported": sum(any(gold_ok.get(n, False) for n in s["citations"]) for s in sentences),
        "citations": sum(len(s["citations"]) for s in sentences),
        "citations_gold": sum(gold_ok.get(n, False) for s in sentences for n in s["citations"]),
        "verification": a.get("verification", {}),
        "total_ms": a["timings"]["total_ms"],
        "prompt_tokens": a["timings"]["prompt_tokens"],
    }
    if item.answerable:
        facts = [has_phrase(a["answer"], f) for f in item.key_facts] if not a["abstained"] else [False] * len(item.key_facts)
        gold = set(item.gold_sources)
        out.update(
            key_facts=sum(facts), key_facts_total=len(item.key_facts),
            source_precision=(len(cited_sources & gold) / len(cited_sources)) if cited_sources else None,
            source_recall=len(cited_sources & gold) / len(gold) if gold else None,
            retrieved_gold=any(overlaps(s, g) for s in r.retrieved for g in item.gold_spans),
        )
        if item.attribution and not a["abstained"]:
            out["attributed"] = any(re.search(rf"\b{re.escape(n)}", a["answer"], re.I) for n in item.attribution)
        if item.speakers and not a["abstained"]:
            outlets = tuple(c["outlet"] for c in a["citations"] if c.get("outlet"))
            out["misattributed"] = sum(bool(same_speaker(_frame(s["text"]), set(), (*item.speakers, *outlets)))
                                       for s in sentences)
            out["speaker_sentences"] = len(sentences)
    return out


def _frame(sentence: str) -> str:
    """An attributed verbatim extract ("Turan reports: “…”") is judged by its frame: the quote is
    the article's own words, speakers and all."""
    m = re.match(r"^(.{1,80}?) reports: “.*”\.?$", sentence)
    return f"{m.group(1)} reports." if m else sentence


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 3) if den else None


def aggregate(results: list[QuestionResult]) -> dict[str, Any]:
    """The set's metrics (formulas in eval/README.md)."""
    sc = [r.scores for r in results]
    answerable = [r.scores for r in results if r.item.answerable]
    unanswerable = [r.scores for r in results if not r.item.answerable]
    answered = [s for s in answerable if not s["abstained"]]
    ver = [s["verification"] for s in sc if s["verification"]]
    abstained = [s for s in sc if s["abstained"]]
    sp = [s["source_precision"] for s in answered if s["source_precision"] is not None]
    sr = [s["source_recall"] for s in answered if s["source_recall"] is not None]
    times = sorted(s["total_ms"] for s in sc)
    attributed = [s["attributed"] for s in answered if "attributed" in s]
    return {
        "items": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "citation_recall_gold": _ratio(sum(s["sentences_gold_supported"] for s in answered),
                                       sum(s["sentences"] for s in answered)),
        "citation_precision_gold": _ratio(sum(s["citations_gold"] for s in answered), sum(s["citations"] for s in answered)),
        "citation_recall_verifier_as_written": _ratio(sum(v.get("sentences_supported_as_cited", 0) for v in ver),
                                                      sum(v.get("sentences", 0) for v in ver)),
        "citation_precision_verifier_as_written": _ratio(sum(v.get("citations_supporting", 0) for v in ver),
                                                         sum(v.get("citations", 0) for v in ver)),
        "sentences_dropped_by_verifier": _ratio(sum(v.get("dropped", 0) for v in ver), sum(v.get("sentences", 0) for v in ver)),
        "source_precision": round(statistics.mean(sp), 3) if sp else None,
        "source_recall": round(statistics.mean(sr), 3) if sr else None,
        "key_fact_recall": _ratio(sum(s["key_facts"] for s in answerable), sum(s["key_facts_total"] for s in answerable)),
        "abstention_precision": _ratio(sum(s["abstained"] for s in unanswerable), len(abstained)),
        "abstention_recall": _ratio(sum(s["abstained"] for s in unanswerable), len(unanswerable)),
        "false_abstention_rate": _ratio(sum(s["abstained"] for s in answerable), len(answerable)),
        "contested_attributed": _ratio(sum(attributed), len(attributed)),
        "misattributed_sentences": sum(s.get("misattributed", 0) for s in answered),
        "misattributed_rate": _ratio(sum(s.get("misattributed", 0) for s in answered),
                                     sum(s.get("speaker_sentences", 0) for s in answered)),
        "retrieval_recall_at_k": _ratio(sum(s["retrieved_gold"] for s in answerable), len(answerable)),
        "latency_ms_p50": round(statistics.median(times)) if times else None,
        "latency_ms_p95": round(times[min(len(times) - 1, int(0.95 * len(times)))]) if times else None,
        "prompt_tokens_mean": round(statistics.mean(s["prompt_tokens"] for s in sc)) if sc else None,
    }


def by_category(results: list[QuestionResult]) -> dict[str, dict[str, Any]]:
    return {c: aggregate([r for r in results if r.item.category == c]) for c in CATEGORIES
            if any(r.item.category == c for r in results)}


def run_summaries(
    items: list[SummaryItem],
    root: Path,
    cache: Path,
    embedder: Embedder,
    generator: Generator,
    settings: Settings,
    on_step: Callable[[int, int], None] | None = None,
) -> list[dict[str, Any]]:
    out = []
    terms = neutrality.load_terms()
    for i, item in enumerate(items):
        if on_step:
            on_step(i, len(items))
        index, s = corpus_index(root / item.corpus, cache, embedder, settings)
        summary = summarize(index, embedder, generator, s, sources=item.sources or None)
        voice = neutrality.outside_quotes(summary.text)
        forbidden = [t for t in item.forbidden_terms if re.search(rf"(?<!\w){re.escape(t)}", voice, re.I)]
        out.append({
            "id": item.id,
            "facts_covered": sum(has_phrase(summary.text, f) for f in item.required_facts),
            "facts_total": len(item.required_facts),
            "checks_passed": bool(summary.checks["passed"]),
            "forbidden_in_narrator_voice": forbidden,
            "loaded_terms": len(neutrality.loaded_terms(summary.text, terms)),
            "coverage": summary.checks["coverage"],
            "under_representation": summary.checks["under_representation"],
            "sentences_from_model": sum(x.origin == "model" for sec in summary.sections for x in sec.sentences),
            "sentences": sum(len(sec.sentences) for sec in summary.sections),
            "nested_quotes": len(summary.checks["nested_quotes"]),
            "max_extracts_per_section": max(summary.checks["extracts"].values(), default=0),
            "third_party_as_a_side": [x.text for sec in summary.sections if sec.heading == HEADINGS[1]
                                      for x in sec.sentences if any(t in (x.attributed_to or "") for t in item.third_parties)],
            "total_ms": summary.timings["total_ms"],
        })
    if on_step:
        on_step(len(items), len(items))
    return out


def aggregate_summaries(rows: list[dict[str, Any]]) -> dict[str, Any]:
    if not rows:
        return {}
    return {
        "summaries": len(rows),
        "summary_fact_coverage": _ratio(sum(r["facts_covered"] for r in rows), sum(r["facts_total"] for r in rows)),
        "summary_checks_pass_rate": _ratio(sum(r["checks_passed"] for r in rows), len(rows)),
        "summary_forbidden_terms": sum(len(r["forbidden_in_narrator_voice"]) for r in rows),
        "summary_max_under_representation": max(r["under_representation"]["gap"] for r in rows),
        "summary_model_sentence_share": _ratio(sum(r["sentences_from_model"] for r in rows), sum(r["sentences"] for r in rows)),
        "summary_nested_quotes": sum(r["nested_quotes"] for r in rows),
        "summary_max_extracts_per_section": max(r["max_extracts_per_section"] for r in rows),
        "summary_third_party_as_a_side": sum(len(r["third_party_as_a_side"]) for r in rows),
        "summary_ms_p50": round(statistics.median(r["total_ms"] for r in rows)),
    }


def below_floors(metrics: dict[str, Any], floors: dict[str, float]) -> list[str]:
    """Metrics under their floor (or above a ceiling, for keys ending in _max)."""
    failed = []
    for key, floor in floors.items():
        name, ceiling = (key[:-4], True) if key.endswith("_max") else (key, False)
        value = metrics.get(name)
        if value is None or (value > floor if ceiling else value < floor):
            failed.append(f"{name} = {value} ({'ceiling' if ceiling else 'floor'} {floor})")
    return failed


def score_story_set(gold_file: Path, root: Path, cache: Path, embedder: Embedder, settings: Settings) -> dict[str, Any]:
    """`rag stories` against a gold grouping (eval/stories/*.json): pairwise precision, recall and
    F1 over article pairs (the standard clustering measure), and whether every story's one-sided
    flag is right (with the set's outlet groups, `<name>.outlets.toml` beside it)."""
    from .stories import index_stories, load_outlets

    gold_set = json.loads(gold_file.read_text(encoding="utf-8"))
    index, _ = corpus_index(root / gold_set["corpus"], cache, embedder, settings)
    outlets_file = gold_file.with_suffix(".outlets.toml")
    found = index_stories(index, settings.stories, load_outlets(outlets_file if outlets_file.exists() else None))
    name = {src: src.rsplit("/", 1)[-1] for story in found for src in story.sources}
    pred = {name[src]: story.id for story in found for src in story.sources}
    gold = {f: s["id"] for s in gold_set["stories"] for f in s["files"]}
    if set(pred) != set(gold):
        raise BadInput(f"{gold_file}: gold names {sorted(set(gold) ^ set(pred))[:3]} that the index does not hold, or misses them")
    tp = fp = fn = 0
    for a, b in itertools.combinations(sorted(gold), 2):
        same, truth = pred[a] == pred[b], gold[a] == gold[b]
        tp, fp, fn = tp + (same and truth), fp + (same and not truth), fn + (truth and not same)
    gold_flags = {frozenset(s["files"]): bool(s.get("one_sided")) for s in gold_set["stories"]}
    flags = {frozenset(name[src] for src in story.sources): story.one_sided for story in found}
    return {
        "set": gold_file.stem, "split": gold_set.get("split", "dev"), "articles": len(gold),
        "stories": len(found), "gold_stories": len(gold_set["stories"]),
        "pairwise_precision": _ratio(tp, tp + fp), "pairwise_recall": _ratio(tp, tp + fn),
        "pairwise_f1": _ratio(2 * tp, 2 * tp + fp + fn),
        "one_sided_exact": all(flags.get(files) == flag for files, flag in gold_flags.items()) if outlets_file.exists() else None,
        # the flag itself, on the stories grouped exactly as the gold (a split story's parts have no gold flag)
        "one_sided_right_where_grouped": all(flags[f] == gold_flags[f] for f in flags.keys() & gold_flags.keys())
        if outlets_file.exists() else None,
    }
