"""`rag ask`: retrieve -> prompt -> constrained generation -> verify citations -> Answer.

The model is trusted for wording only. Whether there is an answer (abstention) and which passage
supports each sentence (citations) are decided here: retrieval relevance first, then every
sentence is checked against its cited passage, corrected to a better passage, or dropped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

import numpy as np

from . import prompts
from .cite import Draft, Evidence, Support, assess, content_stems, parse_drafts, passage_sentences
from .config import Settings
from .embed import Embedder
from .generate import Generator, OnToken
from .index import Index
from .records import Answer, AnswerSentence, Citation, Hit
from .retrieve import search

ABSTAIN = "The indexed articles do not answer this."
ABSTAIN_MARKER = "NOT IN SOURCES"


@dataclass(frozen=True)
class Passage:
    n: int
    hit: Hit
    evidence: list[Evidence]  # all sentences of the chunk
    vectors: np.ndarray  # one per evidence sentence
    shown: str  # what the model sees: the most relevant sentences, injections masked


def ask(
    question: str,
    index: Index,
    embedder: Embedder,
    generator: Generator,
    settings: Settings,
    k: int | None = None,
    show_unsupported: bool = False,
    on_token: OnToken | None = None,
) -> Answer:
    started = time.perf_counter()
    hits = search(index, embedder, question, k or settings.answer_k, settings)
    retrieve_ms = (time.perf_counter() - started) * 1000
    timings = {"retrieve_ms": round(retrieve_ms, 1), "prompt_tokens": 0, "first_token_ms": 0.0,
               "generate_ms": 0.0, "total_ms": 0.0}

    def finish(answer: Answer) -> Answer:
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return answer

    best = max((h.dense_score or 0.0 for h in hits), default=0.0)
    if best < settings.min_relevance:
        note = f"no passage is relevant (best similarity {best:.2f} < {settings.min_relevance})"
        return finish(_abstain(question, generator.name, timings, note))

    question_vec = embedder.embed([question])[0]
    passages = _passages(hits, question_vec, embedder, generator, settings)
    messages = [
        {"role": "system", "content": prompts.load("answer_system.txt").strip()},
        {"role": "user", "content": prompts.fill(
            prompts.load("answer_user.txt"), "answer_user.txt",
            passages="\n\n".join(prompts.label_passage(p.n, p.hit, p.shown) for p in passages),
            question=question.strip(),
        ).strip()},
    ]
    ids = " | ".join(f'"{p.n}"' for p in passages)
    grammar = prompts.fill(prompts.load("answer.gbnf"), "answer.gbnf", ids=ids)
    completion = generator.complete(messages, grammar, settings.max_answer_tokens, on_token)
    timings.update(
        prompt_tokens=completion.prompt_tokens,
        first_token_ms=round(completion.first_token_ms, 1),
        generate_ms=round(completion.generate_ms, 1),
    )
    if completion.text.strip().startswith(ABSTAIN_MARKER):
        return finish(_abstain(question, generator.name, timings, "the model found no answer"))

    drafts = parse_drafts(completion.text)
    counts: dict[str, int] = {}
    sentences, citations, notes = verify(drafts, passages, embedder, settings, show_unsupported, counts, question)
    if not any(s.supported for s in sentences):
        why = "no sentence of the model's answer is supported by the passages"
        answer = _abstain(question, generator.name, timings, why, notes)
        answer.verification = counts
        return finish(answer)
    return finish(
        Answer(
            question=question,
            answer=render_text(sentences),
            abstained=False,
            sentences=sentences,
            citations=citations,
            model=generator.name,
            timings=timings,
            notes=notes,
            verification=counts,
        )
    )


def _abstain(
    question: str, model: str, timings: dict[str, float], why: str, notes: list[str] | None = None
) -> Answer:
    return Answer(question, ABSTAIN, True, [], [], model, timings, [why, *(notes or [])])


def _passages(
    hits: list[Hit], question_vec: np.ndarray, embedder: Embedder, generator: Generator, settings: Settings
) -> list[Passage]:
    """Split hits into sentences, embed them once, and choose what the model is shown."""
    evidence = [passage_sentences(n, h.chunk.text, h.chunk.start) for n, h in enumerate(hits, 1)]
    flat = [e for es in evidence for e in es]
    vectors = embedder.embed([e.text for e in flat]) if flat else np.zeros((0, 1), np.float32)
    out, at = [], 0
    budget = generator.n_ctx - settings.max_answer_tokens - 400  # 400: instructions and question
    for n, (hit, es) in enumerate(zip(hits, evidence), 1):
        vecs = vectors[at : at + len(es)]
        at += len(es)
        per_passage = min(settings.passage_max_tokens, budget // len(hits))
        out.append(Passage(n, hit, es, vecs, _shown(es, vecs @ question_vec, per_passage, generator)))
    return out


def _shown(evidence: list[Evidence], relevance: np.ndarray, budget: int, generator: Generator) -> str:
    """The passage's most question-relevant sentences, in their original order, within `budget`
    tokens; sentences that address an AI system are masked (article text is data)."""
    chosen: set[int] = set()
    used = 0
    for i in np.argsort(-relevance):
        cost = generator.count_tokens(evidence[i].text)
        if used + cost > budget and chosen:
            continue
        chosen.add(int(i))
        used += cost
    parts, last = [], -2
    for i in sorted(chosen):
        text = prompts.MASK if prompts.is_injection(evidence[i].text) else " ".join(evidence[i].text.split())
        parts.append(text if i == last + 1 or last < 0 else "… " + text)
        last = i
    return " ".join(parts)


def verify(
    drafts: list[Draft],
    passages: list[Passage],
    embedder: Embedder,
    settings: Settings,
    show_unsupported: bool = False,
    counts: dict[str, int] | None = None,
    question: str = "",
) -> tuple[list[AnswerSentence], list[Citation], list[str]]:
    """Check every draft sentence against its cited passages; correct or drop what fails.

    `counts` (if given) receives how the model's sentences fared as written, before correction."""
    tally = dict.fromkeys(("sentences", "sentences_supported_as_cited", "citations", "citations_supporting",
                           "corrected", "dropped"), 0)
    if counts is not None:
        counts.update(tally)
        tally = counts
    if not drafts:
        return [], [], []
    by_n = {p.n: p for p in passages}
    claim_vecs = embedder.embed([d.text for d in drafts])
    in_passages = set().union(*(content_stems(p.hit.chunk.text + " " + _header(p.hit)) for p in passages))
    question_only = frozenset(content_stems(question) - in_passages)
    sentences: list[AnswerSentence] = []
    quotes: dict[int, Support] = {}  # passage n -> support that provides its quote
    notes: list[str] = []
    for draft, vec in zip(drafts, claim_vecs):
        supports = {
            p.n: assess(draft.text, vec, p.n, p.hit.chunk.text, p.evidence, p.vectors, _header(p.hit), question_only)
            for p in passages
        }
        ok = {n for n, s in supports.items() if s.ok(settings.min_cosine, settings.min_overlap)}
        cited = [n for n in dict.fromkeys(draft.citations) if n in by_n]
        chosen = [n for n in cited if n in ok]
        tally["sentences"] += 1
        tally["sentences_supported_as_cited"] += bool(chosen)
        tally["citations"] += len(cited)
        tally["citations_supporting"] += len(chosen)
        tally["corrected"] += bool(not chosen and ok)
        tally["dropped"] += not ok
        if not chosen and ok:
            best = max(ok, key=lambda n: supports[n].cosine)
            chosen = [best]
            notes.append(f"citation corrected to passage {best}: {draft.text!r}")
        if not chosen:
            reasons = supports[cited[0]] if cited else max(supports.values(), key=lambda s: s.cosine)
            why = f"missing {', '.join(reasons.missing)}" if reasons.missing else (
                f"similarity {reasons.cosine:.2f}, word overlap {reasons.overlap:.2f}")
            notes.append(f"unsupported sentence {'kept' if show_unsupported else 'dropped'} ({why}): {draft.text!r}")
            if show_unsupported:
                sentences.append(AnswerSentence(draft.text, cited, False))
            continue
        for n in chosen:
            quotes.setdefault(n, supports[n])
        sentences.append(AnswerSentence(draft.text, chosen, True))
    return _renumber(sentences, quotes, by_n) + (notes,)


def _header(hit: Hit) -> str:
    c = hit.chunk
    return " ".join(x for x in (c.title, c.outlet, c.date) if x)


def _renumber(
    sentences: list[AnswerSentence], quotes: dict[int, Support], by_n: dict[int, Passage]
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Number cited passages 1, 2, ... in order of first use, so the answer reads [1] before [2]."""
    order: dict[int, int] = {}
    for s in sentences:
        for n in s.citations:
            if n in quotes:
                order.setdefault(n, len(order) + 1)
    renumbered = [
        AnswerSentence(s.text, [order[n] for n in s.citations if n in order], s.supported) for s in sentences
    ]
    citations = []
    for n, new in order.items():
        support, chunk = quotes[n], by_n[n].hit.chunk
        ev = support.best
        assert ev is not None
        citations.append(
            Citation(new, chunk.source, ev.start, ev.end, ev.text, chunk.title, chunk.outlet, chunk.date,
                     round(support.cosine, 4))
        )
    return renumbered, citations


def render_text(sentences: list[AnswerSentence]) -> str:
    """'Sentence one [1]. Sentence two [1][2].' — unsupported sentences are marked [?]."""
    out = []
    for s in sentences:
        body = s.text.rstrip()
        end = "."
        # subtle: keep the stop of a final abbreviation ("Washington D.C.") inside the sentence
        if body.endswith(("!", "?")) or (body.endswith(".") and not re.search(r"\b[A-Z]\.$", body)):
            body, end = body[:-1], body[-1]
        marks = "".join(f"[{n}]" for n in s.citations) if s.supported else "[?]"
        out.append(f"{body} {marks}{end}")
    return " ".join(out)
