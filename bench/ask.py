"""Benchmark: `rag ask` on the seeds versus the same prompt run through llama-cpp-python directly.

    .venv/bin/python bench/ask.py [--models default fast] [--repeat 1]

For each model and seed question: time to first token, total answer time, prompt tokens and
generation speed, for the whole pipeline (retrieval, prompt building, constrained generation,
citation verification, judgements) and for the floor (the identical messages and grammar handed
straight to `Llama.create_chat_completion`), and for the naive baseline: the same retrieved
passages, whole and numbered, under a plain "cite [n]" prompt, no grammar, no verification. The KV cache is reset before every call so neither side reuses
the other's prompt. Overhead = ours / floor - 1, from runs interleaved in one process. It can be
negative: our decoder (rag/decode.py) checks the grammar only for the token it picks, where
llama-cpp-python checks the whole vocabulary at every step; both produce the same tokens.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from rag.answer import ask
from rag.config import Settings
from rag.embed import load_embedder
from rag.generate import Completion, LlamaCppGenerator, open_generator
from rag.index import open_index
from rag.models import default_models_dir
from rag.update import embedding_info, ingest

QUESTIONS = [
    "Where will most of the talks take place?",
    "Who hosted the meeting between the foreign ministers?",
    "What did Aliyev say about the border crossing point?",
    "What did Pashinyan tell Blinken?",
    "How many troops did Russia send?",
]


class Recording:
    """Wraps a generator, remembering the last prompt so the floor can replay it."""

    def __init__(self, inner: LlamaCppGenerator) -> None:
        self.inner = inner
        self.name, self.n_ctx = inner.name, inner.n_ctx
        self.last: tuple[list[dict[str, str]], str | None, int] | None = None
        self.completion: Completion | None = None

    def count_tokens(self, text: str) -> int:
        return self.inner.count_tokens(text)

    def complete(self, messages, grammar, max_tokens, on_token=None) -> Completion:  # type: ignore[no-untyped-def]
        if self.last is None or self.last[0] != messages:  # a best attempt reuses its own prompt, as in use
            self.inner.llm.reset()
        self.last = (messages, grammar, max_tokens)
        self.completion = self.inner.complete(messages, grammar, max_tokens, on_token)
        return self.completion

    def judge(self, messages) -> float:  # type: ignore[no-untyped-def]
        return self.inner.judge(messages)


def floor(gen: LlamaCppGenerator, messages, grammar, max_tokens) -> dict[str, float]:  # type: ignore[no-untyped-def]
    from llama_cpp import LlamaGrammar

    gen.llm.reset()
    started = time.perf_counter()
    first = None
    n = 0
    for chunk in gen.llm.create_chat_completion(
        messages=messages, temperature=0.0, top_k=1, seed=0, max_tokens=max_tokens,
        grammar=LlamaGrammar.from_string(grammar, verbose=False) if grammar else None, stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            first = first or time.perf_counter()
            n += 1
    ended = time.perf_counter()
    return {"first_token_ms": ((first or ended) - started) * 1000, "total_ms": (ended - started) * 1000,
            "completion_tokens": n}


NAIVE_SYSTEM = "Answer the question using only the numbered sources. Cite the source of every sentence like [1]."


def naive(gen: LlamaCppGenerator, index, embedder, question: str, settings: Settings) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """The baseline the issue names: the same retrieved passages, whole and numbered, a plain
    "cite [n]" prompt, no grammar, no verification, straight through llama-cpp-python."""
    from rag.retrieve import search

    hits = search(index, embedder, question, settings.answer_k, settings)
    sources = "\n\n".join(f"[{n}] {' '.join(h.chunk.text.split())}" for n, h in enumerate(hits, 1))
    messages = [{"role": "system", "content": NAIVE_SYSTEM},
                {"role": "user", "content": f"{sources}\n\nQuestion: {question}"}]
    from rag.decode import chat_prompt

    result = floor(gen, messages, None, settings.max_answer_tokens)
    result["prompt_tokens"] = len(chat_prompt(gen.llm, messages))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["default", "fast"])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--out", type=Path, default=Path("bench/out"))
    args = parser.parse_args()

    embedder = load_embedder("all-minilm-l6-v2")
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp) / "index")
        ingest([Path("seeds")], settings, embedder, base=Path("."))
        index = open_index(settings, embedding_info(embedder))
        for role in args.models:
            inner = open_generator(role, default_models_dir())
            assert isinstance(inner, LlamaCppGenerator)
            gen = Recording(inner)
            ask(QUESTIONS[0], index, embedder, gen, settings)  # warm-up
            ours, base, prompt_tokens, tps, tps_ours = [], [], [], [], []
            ttft_ours, ttft_base, plain, plain_ttft, plain_tokens = [], [], [], [], []
            for _ in range(args.repeat):
                for q in QUESTIONS:
                    result = ask(q, index, embedder, gen, settings)
                    assert gen.last is not None and gen.completion is not None
                    c = gen.completion
                    if c.completion_tokens > 1 and c.generate_ms > c.first_token_ms:
                        tps_ours.append((c.completion_tokens - 1) / (c.generate_ms - c.first_token_ms) * 1000)
                    ours.append(result.timings["total_ms"])
                    ttft_ours.append(result.timings["retrieve_ms"] + result.timings["first_token_ms"])
                    prompt_tokens.append(result.timings["prompt_tokens"])
                    f = floor(inner, *gen.last)
                    base.append(f["total_ms"])
                    ttft_base.append(f["first_token_ms"])
                    n = naive(inner, index, embedder, q, settings)
                    plain.append(n["total_ms"])
                    plain_ttft.append(n["first_token_ms"])
                    plain_tokens.append(n["prompt_tokens"])
                    gen_s = (f["total_ms"] - f["first_token_ms"]) / 1000
                    if f["completion_tokens"] > 1 and gen_s > 0:
                        tps.append((f["completion_tokens"] - 1) / gen_s)
            report[inner.name] = {
                "answer_ms_p50": round(statistics.median(ours)),
                "answer_ms_max": round(max(ours)),
                "floor_ms_p50": round(statistics.median(base)),
                "overhead_ratio": round(sum(ours) / sum(base) - 1, 3),
                "naive_ms_p50": round(statistics.median(plain)),
                "vs_naive_p50_ratio": round(statistics.median(ours) / statistics.median(plain), 3),
                "naive_first_token_ms_p50": round(statistics.median(plain_ttft)),
                "naive_prompt_tokens_p50": statistics.median(plain_tokens),
                "first_token_ms_p50": round(statistics.median(ttft_ours)),
                "floor_first_token_ms_p50": round(statistics.median(ttft_base)),
                "prompt_tokens_p50": statistics.median(prompt_tokens),
                "gen_tokens_per_s_p50": round(statistics.median(tps_ours), 1) if tps_ours else 0.0,
                "floor_gen_tokens_per_s_p50": round(statistics.median(tps), 1) if tps else 0.0,
            }
    keys = list(next(iter(report.values())))
    print(f"{'model':<22}" + "".join(f"{k:>{max(26, len(k) + 2)}}" for k in keys))
    for name, row in report.items():
        print(f"{name:<22}" + "".join(f"{row[k]:>{max(26, len(k) + 2)}}" for k in keys))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "ask.json").write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
