"""Benchmark: `rag summarize` time on the seeds and on the largest story of a multi-outlet corpus,
beside a plain "write a neutral summary" prompt over the same articles with the same model; and
its framing against an editor's neutral roundup of each story.

    .venv/bin/python bench/summarize.py [--model default] [--corpus eval/corpora/stories]
                                        [--only speed|roundups] [--split dev|test]

Issue 11's speed bar: the seeds summary <= 30 s and a 10-article story <= 60 s, default model on
2 cores. Reported per run: seconds and sentences for --length full and short, the share of
sentences the model wrote (the rest are extracts), and the plain prompt's seconds, all measured
in one process, one after the other, so the ratio is what to compare.

Issue 11's framing bar, by proxy (`roundups`): for each story of eval/stories/roundups_<split>.jsonl
(multi-outlet stories with a hand-written 80-120-word neutral roundup), `rag summarize --length
short` and the plain prompt are scored against the roundup: the framing score
(`neutrality.framing_score`, the arousal of loaded words of eval/framing_terms.txt that the
roundup does not use; lower is better), ROUGE-1 F (rouge-score, stemmed) and the word count.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from rag import neutrality
from rag.config import SHORT_SECTION_CAPS, Settings
from rag.embed import Embedder, load_embedder
from rag.evaluate import corpus_index
from rag.generate import LlamaCppGenerator, open_generator
from rag.index import Index, open_index
from rag.models import default_models_dir
from rag.stories import index_stories
from rag.summarize import summarize
from rag.update import embedding_info, ingest

PLAIN_SYSTEM = "Write a short neutral summary of the news articles below."


def plain(gen: LlamaCppGenerator, index: Index, sources: list[str], max_tokens: int = 200) -> tuple[float, str]:
    """Seconds and text of the baseline: every article whole in one prompt, no grammar, no checks."""
    text = "\n\n".join(index.document(s).strip() for s in sources)
    gen.llm.reset()
    started = time.perf_counter()
    out = gen.llm.create_chat_completion(
        messages=[{"role": "system", "content": PLAIN_SYSTEM}, {"role": "user", "content": text}],
        temperature=0.0, top_k=1, seed=0, max_tokens=max_tokens)
    return time.perf_counter() - started, str(out["choices"][0]["message"]["content"]).strip()  # type: ignore[index]


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
    baseline, _ = plain(gen, index, sources)
    row["plain_prompt_s"] = round(baseline, 1)
    row["full_over_plain"] = round(seconds["full"] / baseline, 1)
    return row


def roundups(split: str, gen: LlamaCppGenerator, embedder: Embedder, tmp: Path) -> dict[str, object]:
    """Framing score, ROUGE-1 and length of the short summary and of the plain prompt, per story."""
    from rouge_score import rouge_scorer

    lexicon = neutrality.load_framing(Path("eval/framing_terms.txt"))
    scorer = rouge_scorer.RougeScorer(["rouge1"], use_stemmer=True)
    lines = Path(f"eval/stories/roundups_{split}.jsonl").read_text(encoding="utf-8").splitlines()
    indexes: dict[str, tuple[Index, Settings]] = {}
    rows: list[dict[str, Any]] = []
    for line in filter(None, lines):
        story = json.loads(line)
        if story["corpus"] not in indexes:
            index, settings = corpus_index(Path(story["corpus"]), tmp, embedder, Settings())
            indexes[story["corpus"]] = index, replace(settings, section_caps=SHORT_SECTION_CAPS)
        index, settings = indexes[story["corpus"]]
        sources = story["files"]
        started = time.perf_counter()
        summary = summarize(index, embedder, gen, settings, sources=sources)
        ours_s = time.perf_counter() - started
        ours = " ".join(x.text for sec in summary.sections for x in sec.sentences)
        plain_s, baseline = plain(gen, index, sources)
        row: dict[str, Any] = {"story": story["story"]}
        for name, text, seconds in (("rag", ours, ours_s), ("plain", baseline, plain_s)):
            score, words = neutrality.framing_score(text, story["reference"], lexicon)
            row[f"{name}_framing"] = score
            row[f"{name}_rouge1"] = round(100 * scorer.score(story["reference"], text)["rouge1"].fmeasure, 1)
            row[f"{name}_words"] = len(text.split())
            row[f"{name}_s"] = round(seconds, 1)
            row[f"{name}_loaded"] = words
            row[f"{name}_text"] = text
        rows.append(row)
    means = {key: round(sum(r[key] for r in rows) / len(rows), 2)
             for key in ("rag_framing", "plain_framing", "rag_rouge1", "plain_rouge1", "rag_words", "plain_words",
                         "rag_s", "plain_s")}
    return {"split": split, "stories": len(rows), "mean": means, "per_story": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="default")
    parser.add_argument("--corpus", type=Path, default=Path("eval/corpora/stories"))
    parser.add_argument("--only", choices=("speed", "roundups"))
    parser.add_argument("--split", default="test", choices=("dev", "test"), help="which roundups to score")
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()
    embedder = load_embedder("all-minilm-l6-v2")
    gen = open_generator(args.model, default_models_dir())
    assert isinstance(gen, LlamaCppGenerator)
    report: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if args.only != "roundups":
            report["seeds"] = run("seeds", Path("seeds"), gen, embedder, Path(tmp), largest=False)
            report["largest story"] = run("story", args.corpus, gen, embedder, Path(tmp), largest=True)
        if args.only != "speed":
            report["roundups"] = roundups(args.split, gen, embedder, Path(tmp))
    for name, row in report.items():
        if name == "roundups":
            framed = report["roundups"]
            assert isinstance(framed, dict)
            for r in framed["per_story"]:
                print(f"{r['story']}: " + ", ".join(f"{k} {v}" for k, v in r.items() if not k.endswith(("_text", "story"))))
            print(f"roundups ({framed['split']}, {framed['stories']} stories), mean: "
                  + ", ".join(f"{k} {v}" for k, v in framed["mean"].items()))
        else:
            assert isinstance(row, dict)
            print(f"{name}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
    args.out.mkdir(parents=True, exist_ok=True)
    name = "summarize.json" if args.only != "roundups" else f"summarize_roundups_{args.split}.json"
    (args.out / name).write_text(json.dumps({"model": gen.name, **report}, indent=2) + "\n")


if __name__ == "__main__":
    main()
