"""Benchmark: `rag summarize` time on the seeds and on the largest story of a multi-outlet corpus,
beside a plain "write a neutral summary" prompt over the same articles with the same model.

    .venv/bin/python bench/summarize.py [--model default] [--corpus eval/corpora/stories]

Issue 11's speed bar: the seeds summary <= 30 s and a 10-article story <= 60 s, default model on
2 cores. Reported per run: seconds and sentences for --length full and short, the share of
sentences the model wrote (the rest are extracts), and the plain prompt's seconds, all measured
in one process, one after the other, so the ratio is what to compare.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from rag.config import SHORT_SECTION_CAPS, Settings
from rag.embed import Embedder, load_embedder
from rag.generate import LlamaCppGenerator, open_generator
from rag.index import Index, open_index
from rag.models import default_models_dir
from rag.stories import index_stories
from rag.summarize import summarize
from rag.update import embedding_info, ingest

PLAIN_SYSTEM = "Write a short neutral summary of the news articles below."


def plain(gen: LlamaCppGenerator, index: Index, sources: list[str], max_tokens: int = 200) -> float:
    """Seconds for the baseline: every article whole in one prompt, no grammar, no checks."""
    text = "\n\n".join(index.document(s).strip() for s in sources)
    gen.llm.reset()
    started = time.perf_counter()
    gen.llm.create_chat_completion(
        messages=[{"role": "system", "content": PLAIN_SYSTEM}, {"role": "user", "content": text}],
        temperature=0.0, top_k=1, seed=0, max_tokens=max_tokens)
    return time.perf_counter() - started


def run(name: str, folder: Path, gen: LlamaCppGenerator, embedder: Embedder, tmp: Path, largest: bool) -> dict[str, object]:
    settings = Settings(index_dir=tmp / name)
    ingest([folder], settings, embedder, base=folder.parent)
    index = open_index(settings, embedding_info(embedder))
    sources = index_stories(index, settings.stories)[0].sources if largest else [f.source for f in index.files()]
    row: dict[str, object] = {"articles": len(sources)}
    seconds: dict[str, float] = {}
    for length, caps in (("full", settings.section_caps), ("short", SHORT_SECTION_CAPS)):
        s = Settings(index_dir=settings.index_dir, section_caps=caps)
        started = time.perf_counter()
        summary = summarize(index, embedder, gen, s, sources=sources)
        sentences = [x for sec in summary.sections for x in sec.sentences]
        seconds[length] = time.perf_counter() - started
        row[f"{length}_s"] = round(seconds[length], 1)
        row[f"{length}_sentences"] = len(sentences)
        row[f"{length}_model_share"] = round(sum(x.origin == "model" for x in sentences) / max(1, len(sentences)), 2)
    baseline = plain(gen, index, sources)
    row["plain_prompt_s"] = round(baseline, 1)
    row["full_over_plain"] = round(seconds["full"] / baseline, 1)
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--corpus", type=Path, default=Path("eval/corpora/stories"))
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    embedder = load_embedder("all-minilm-l6-v2")
    gen = open_generator(args.model, default_models_dir())
    assert isinstance(gen, LlamaCppGenerator)
    report = {}
    with tempfile.TemporaryDirectory() as tmp:
        report["seeds"] = run("seeds", Path("seeds"), gen, embedder, Path(tmp), largest=False)
        report["largest story"] = run("story", args.corpus, gen, embedder, Path(tmp), largest=True)
    for name, row in report.items():
        print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summarize.json").write_text(json.dumps({"model": gen.name, **report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
