"""Benchmark: ingest throughput and search latency on generated articles.

    .venv/bin/python bench/ingest_search.py [--articles 2000] [--queries 50]

Generates a deterministic corpus of news-like articles, ingests it with the real embedding model
into a fresh index, re-ingests it unchanged, and times hybrid searches. Ingest throughput is
reported next to the embedding model alone on the same chunks (the floor), so the ratio shows
the pipeline's own overhead; figures from one run on a noisy machine, compare ratios.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

from rag.config import Settings
from rag.embed import load_embedder
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
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    rng = random.Random(7)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        corpus = tmp / "corpus"
        corpus.mkdir()
        for i in range(args.articles):
            (corpus / f"article_{i:05d}.txt").write_text(article(rng, i), encoding="utf-8")
        settings = Settings(index_dir=tmp / "index")

        t = time.perf_counter()
        embedder = load_embedder(settings.embedding_model)
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
                   for _ in range(args.queries)]
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

    chunks = report.total_chunks
    result = {
        "articles": args.articles,
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
    }
    width = max(map(len, result))
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ingest_search.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
