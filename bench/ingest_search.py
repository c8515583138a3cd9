"""Benchmark: ingest throughput and search latency on generated articles.

    .venv/bin/python bench/ingest_search.py [--articles 2000] [--queries 50] [--backends torch,onnx]

Generates a deterministic corpus of news-like articles, ingests it with the real embedding model
into a fresh index, re-ingests it unchanged, and times hybrid searches; then measures retrieval
recall@k on the eval questions. Each embedding backend runs in its own process (peak RSS is its
own), one after the other in the same run, and the ONNX/torch ratios are printed. Ingest
throughput is reported next to the embedding model alone on the same chunks (the floor), so the
ratio shows the pipeline's own overhead; figures from one run on a noisy machine, compare ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.config import Settings
from rag.embed import Embedder, load_embedder
from rag.evaluate import Span, corpus_index, load_set, overlaps
from rag.index import open_index
from rag.retrieve import search
from rag.update import embedding_info, ingest

PEOPLE = ["Amina Haddad", "Tomas Berg", "Li Wei", "Sofia Marquez", "Oleg Petrenko", "Grace Okafor",
          "Rahul Mehta", "Elena Rossi", "Yusuf Demir", "Hana Sato", "Marek Novak", "Ines Duarte"]
PLACES = ["Vienna", "Nairobi", "Tbilisi", "Lima", "Oslo", "Manila", "Accra", "Riga", "Quito", "Hanoi"]
OUTLETS = ["Daily Ledger", "Harbor Times", "Northern Wire", "Capital Report", "Valley Post"]
TOPICS = ["water rights", "a border crossing", "grain exports", "a power plant", "fishing quotas",
          "a rail corridor", "refugee returns", "customs duties", "a mining licence", "air routes"]
VERBS = ["said", "stated", "told reporters", "wrote in a statement", "said in an interview"]


def article(rng: random.Random, i: int) -> str:
    a, b = rng.sample(PEOPLE, 2)
    place, outlet, topic = rng.choice(PLACES), rng.choice(OUTLETS), rng.choice(TOPICS)
    day, month = rng.randint(1, 28), rng.randint(1, 12)
    lines = [f"Talks in {place} on {topic} end with {rng.choice(['progress', 'no deal', 'a pledge'])} ({i})",
             "", f"{place}/{day:02d}.{month:02d}.24/{outlet}: Negotiators met for {rng.randint(2, 9)} "
             f"days in {place} to discuss {topic}, officials {rng.choice(VERBS)}."]
    for _ in range(rng.randint(6, 14)):
        who = rng.choice([a, b])
        n = rng.randint(2, 900)
        lines.append(
            f"{who} {rng.choice(VERBS)} that {rng.randint(2, 40)} delegations had reviewed {n} "
            f"pages on {topic}, and that a follow-up meeting in {rng.choice(PLACES)} was "
            f"{rng.choice(['likely', 'possible', 'not yet agreed'])} before the end of "
            f"{rng.choice(['spring', 'summer', 'autumn', 'winter'])}."
        )
    lines += ["", "Share", "Follow us on social networks"]
    return "\n".join(lines)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=2000)
    parser.add_argument("--queries", type=int, default=50)
    parser.add_argument("--backends", default="torch,onnx", help="embedding backends, compared in this run")
    parser.add_argument("--backend", help=argparse.SUPPRESS)  # one backend, in a child process
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    if args.backend:
        print(json.dumps(measure(args.backend, args.articles, args.queries)))
        return
    results = {}
    for backend in args.backends.split(","):
        # each backend in its own process, so peak RSS is its own
        child = subprocess.run(
            [sys.executable, __file__, "--backend", backend, "--articles", str(args.articles),
             "--queries", str(args.queries)],
            capture_output=True, text=True, check=True,
        )
        results[backend] = json.loads(child.stdout.strip().splitlines()[-1])
    keys = list(next(iter(results.values())))
    width = max(map(len, keys))
    print(f"{'':<{width}}  " + "  ".join(f"{b:>10}" for b in results))
    for key in keys:
        print(f"{key:<{width}}  " + "  ".join(f"{r[key]:>10}" for r in results.values()))
    if {"torch", "onnx"} <= results.keys():
        t, o = results["torch"], results["onnx"]
        ratios = {
            "onnx_vs_torch_ingest_chunks_per_s": round(o["ingest_chunks_per_s"] / t["ingest_chunks_per_s"], 2),
            "onnx_vs_torch_embed_only": round(o["embed_only_chunks_per_s"] / t["embed_only_chunks_per_s"], 2),
            "onnx_vs_torch_search_p50": round(o["search_ms_p50"] / t["search_ms_p50"], 2),
            "eval_recall_at_3_difference": round(o["eval_recall_at_3"] - t["eval_recall_at_3"], 3),
            "eval_recall_at_10_difference": round(o["eval_recall_at_10"] - t["eval_recall_at_10"], 3),
        }
        for key, value in ratios.items():
            print(f"{key:<{width}}  {value}")
        results["ratios"] = ratios
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest_search.json").write_text(json.dumps(results, indent=2) + "\n")


def measure(backend: str, articles: int, n_queries: int) -> dict[str, object]:
    """Ingest, re-ingest, embed-only, search and eval retrieval with one backend."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        corpus.mkdir()
        for i in range(articles):
            (corpus / f"article_{i:05d}.txt").write_text(article(rng, i), encoding="utf-8")
        settings = Settings(index_dir=tmp / "index")

        t = time.perf_counter()
        embedder = load_embedder(settings.embedding_model, backend)
        load_s = time.perf_counter() - t

        t = time.perf_counter()
        report = ingest([corpus], settings, embedder, base=tmp)
        ingest_s = time.perf_counter() - t
        t = time.perf_counter()
        again = ingest([corpus], settings, embedder, base=tmp)
        reingest_s = time.perf_counter() - t
        assert again.embedded_chunks == 0

        index = open_index(settings, embedding_info(embedder))
        texts = [c.text for c in index.snapshot().chunks]
        t = time.perf_counter()
        embedder.embed(texts, batch_size=settings.embed_batch_size)
        embed_only_s = time.perf_counter() - t

        queries = [f"What did {rng.choice(PEOPLE)} say about {rng.choice(TOPICS)} in {rng.choice(PLACES)}?"
                   for _ in range(n_queries)]
        search(index, embedder, "warm-up", 5, settings)
        total, dense, lexical = [], [], []
        for q in queries:
            t = time.perf_counter()
            search(index, embedder, q, 5, settings)
            total.append((time.perf_counter() - t) * 1000)
            qv = embedder.embed([q])[0]
            t = time.perf_counter()
            index.dense(qv, settings.candidates)
            dense.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            index.lexical(q, settings.candidates)
            lexical.append((time.perf_counter() - t) * 1000)
        recall = eval_recall(embedder, tmp / "eval-indexes", settings)
        t = time.perf_counter()  # `rag stories` as a user runs it: a new process, no model
        listed = subprocess.run([sys.executable, "-m", "rag", "stories", "--json", "--index", str(settings.index_dir)],
                                capture_output=True, text=True, check=True)
        stories_s = time.perf_counter() - t
        n_stories = len(json.loads(listed.stdout))

    chunks = report.total_chunks
    return {
        "articles": articles,
        "chunks": chunks,
        "model_load_s": round(load_s, 2),
        "ingest_s": round(ingest_s, 2),
        "ingest_chunks_per_s": round(chunks / ingest_s, 1),
        "embed_only_chunks_per_s": round(chunks / embed_only_s, 1),
        "ingest_overhead_ratio": round(ingest_s / embed_only_s, 3),
        "reingest_unchanged_s": round(reingest_s, 2),
        "search_ms_p50": round(statistics.median(total), 2),
        "search_ms_p95": round(percentile(total, 95), 2),
        "faiss_ms_p50": round(statistics.median(dense), 3),
        "bm25_ms_p50": round(statistics.median(lexical), 3),
        **recall,
        "rag_stories_s": round(stories_s, 2),
        "stories": n_stories,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def eval_recall(embedder: Embedder, cache: Path, settings: Settings) -> dict[str, object]:
    """Share of answerable eval questions (all splits) with a gold passage in the top k."""
    root = Path(__file__).resolve().parent.parent
    questions, _ = load_set(root / "eval" / "questions.jsonl", root)
    answerable = [q for q in questions if q.gold_spans]
    found = {3: 0, 10: 0}
    indexes = {}
    for q in answerable:
        if q.corpus not in indexes:
            indexes[q.corpus] = corpus_index(root / q.corpus, cache, embedder, settings)
        index, s = indexes[q.corpus]
        hits = search(index, embedder, q.question, 10, s)
        spans = [Span(h.chunk.source, h.chunk.start, h.chunk.end) for h in hits]
        for k in found:
            found[k] += any(overlaps(a, g) for a in spans[:k] for g in q.gold_spans)
    return {"eval_questions": len(answerable), **{f"eval_recall_at_{k}": round(n / len(answerable), 3) for k, n in found.items()}}


if __name__ == "__main__":
    main()
