"""`rag ask`: retrieve -> numbered evidence sentences -> constrained generation -> verify -> Answer.

The model is trusted for wording only. It sees the retrieved passages as numbered sentences and
cites the sentence each of its sentences rests on; each is then checked against the sentence it
named (names, numbers, speaker, meaning), corrected to another retrieved sentence that supports
it, or dropped. Whether there is an answer is decided here too: a supported answer must give what
the question asks for (a time, a quantity, a name, the words of whoever it names) and be judged to answer
it; when the model says there is none, or none of its sentences survives, a sentence of the
articles is quoted verbatim and attributed instead of refusing: for "Was it X who said …?" the
one that makes the statement (it names who did), otherwise, of the sentences that hold the facts
of the model's answer, that it cited, or that are closest to the question, the one the model
judges most surely to answer it ("does this sentence answer the question?", asked of the
sentence alone).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace

import numpy as np

from . import prompts
from .cite import (
    Draft,
    Evidence,
    Support,
    about_sources,
    assess,
    content_stems,
    evidence_speakers,
    known_stems,
    names,
    numbers,
    parse_drafts,
    passage_sentences,
    rival_figures,
    speakers,
    spelled_dates,
)
from .claims import source_label
from .config import Settings
from .embed import Embedder
from .generate import Generator, OnToken
from .index import Index
from .question import (
    asks_for,
    gives,
    guessed_speaker,
    kind_noun,
    parts,
    quantities_asked,
    statement,
    unmet_names,
    whose_words,
)
from .records import Answer, AnswerSentence, Citation, Hit
from .retrieve import search

ABSTAIN = "The indexed articles do not answer this."
ABSTAIN_MARKER = "NOT IN SOURCES"
MIN_EXTRACT_WORDS = 6  # shorter sentences are headings, bylines or fragments, not answers


@dataclass(frozen=True)
class Passage:
    n: int
    hit: Hit
    evidence: list[Evidence]  # all sentences of the chunk
    vectors: np.ndarray  # one per evidence sentence
    ids: dict[int, int]  # sentence id shown to the model -> index into `evidence`


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
    said = statement(question)
    hits = retrieve(question, index, embedder, settings, k)
    retrieve_ms = (time.perf_counter() - started) * 1000
    timings = {"retrieve_ms": round(retrieve_ms, 1), "prompt_tokens": 0, "first_token_ms": 0.0,
               "generate_ms": 0.0, "judge_ms": 0.0, "total_ms": 0.0}

    def finish(answer: Answer) -> Answer:
        answer.timings["total_ms"] = round((time.perf_counter() - started) * 1000, 1)
        return answer

    best = max((h.dense_score or 0.0 for h in hits), default=0.0)
    if best < settings.min_relevance:
        note = f"no passage is relevant (best similarity {best:.2f} < {settings.min_relevance})"
        return finish(_abstain(question, generator.name, timings, note))

    question_vec = embedder.embed([question])[0]
    passages, shown = _passages(hits, question_vec, embedder, generator, settings)
    notes: list[str] = []
    if said:
        # Who said it: the sentence that makes the statement names the speaker, where the model
        # tends to repeat whoever the question guessed; when it is found, it is the answer.
        found = _who_said(said, passages, embedder, notes, settings)
        if found is not None:
            return finish(Answer(question, render_text(found[0]), False, found[0], found[1], generator.name,
                                 timings, notes))
    system = prompts.load("answer_system.txt").strip()
    user = prompts.fill(prompts.load("answer_user.txt"), "answer_user.txt", passages=shown,
                        question=question.strip()).strip()
    messages = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    ids = " | ".join(f'"{i}"' for p in passages for i in p.ids)
    grammar = prompts.fill(prompts.load("answer.gbnf"), "answer.gbnf", ids=ids, root='"NOT IN SOURCES" | answer')
    completion = generator.complete(messages, grammar, settings.max_answer_tokens, on_token)
    timings.update(
        prompt_tokens=completion.prompt_tokens,
        first_token_ms=round(completion.first_token_ms, 1),
        generate_ms=round(completion.generate_ms, 1),
    )
    if completion.text.strip().startswith(ABSTAIN_MARKER):
        # The model's refusal is not the decision: ask for its best attempt (same prompt, already
        # in the KV cache; a grammar without the marker) and let verification and the judge decide.
        notes.append("the model found no answer; its best attempt was verified instead")
        forced = prompts.fill(prompts.load("answer.gbnf"), "answer.gbnf", ids=ids, root="attempt")
        completion = generator.complete(messages, forced, settings.max_answer_tokens)
        timings["generate_ms"] = round(timings["generate_ms"] + completion.generate_ms, 1)
    judge = Judge(generator, system, user, notes)  # its judgements go into the notes as they are made
    kind = asks_for(question)
    whose = whose_words(question)
    counts: dict[str, int] = {}
    drafts = parse_drafts(completion.text)
    sentences, citations, checked = verify(drafts, passages, embedder, settings, show_unsupported, counts,
                                           question, judge, guessed_speaker(question))
    notes += checked
    sentences, citations = _to_the_point(kind, question, sentences, citations, notes)
    if not any(s.supported for s in sentences):
        notes.insert(0, "no sentence of the model's answer is supported by the passages")
    elif not gives(kind, " ".join(s.text for s in sentences if s.supported), question):
        notes.insert(0, f"the supported sentences give no {kind_noun(kind)}, which the question asks for")
        sentences, citations = [], []
    elif not _about_whom_asked(whose, " ".join([*(s.text for s in sentences if s.supported),
                                                *(f"{c.quote} {c.outlet or ''}" for c in citations)])):
        notes.insert(0, "the answer reports the words of someone other than the question asks about")
        sentences, citations = [], []
    elif unmet := unmet_names(question, _context(citations, passages)):
        notes.insert(0, f"the cited passages never mention {', '.join(unmet)}: the answer is about something else")
        sentences, citations = [], []
    elif not _answers(citations, passages, question, judge, settings):
        notes.insert(0, "the supported sentences do not answer the question")
        sentences, citations = [], []
    if not any(s.supported for s in sentences):
        holding = _holding_facts(drafts, question, passages)
        pointed = [*holding, *(i for d in drafts for i in d.citations)]
        held = set(holding)
        extract = _extract(question_vec, question, passages, pointed, judge, settings, held)
        if extract is None and len(asked := parts(question)) > 1:
            # a question that asks two things, when no sentence answers both, is answered part by
            # part, each with its own sentence (candidates are still those closest to the whole
            # question: "When?" alone is close to nothing)
            quoted = [e for part in asked
                      if (e := _extract(question_vec, part, passages, pointed, judge, settings, held, question))]
            extract = _joined(quoted) if quoted else None
        if extract is not None:
            sentences, citations = extract
    if kind == "quantity" and any(s.supported for s in sentences) and \
            (other := _other_figure(question_vec, question, passages, sentences, citations, judge, settings)):
        sentences, citations = _joined([(sentences, citations), other])
    timings["judge_ms"] = round(judge.ms, 1)
    if partial := _partial(kind, question, sentences):
        notes.insert(0, partial)
    if not any(s.supported for s in sentences):
        answer = _abstain(question, generator.name, timings, notes[0], notes[1:])
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


def retrieve(question: str, index: Index, embedder: Embedder, settings: Settings, k: int | None = None) -> list[Hit]:
    """The passages `ask` answers from. A who-said question is searched for its statement too."""
    said = statement(question)
    return search(index, embedder, question, k or settings.answer_k, settings, also=(said,) if said else ())


@dataclass
class Judge:
    """Yes/no questions to the model about the numbered sentences it was shown, asked as a
    follow-up to the answer prompt: the passages are already in the model's KV cache, so each
    judgement costs only its own ~20 tokens of prompt, not the passages again."""

    generator: Generator
    system: str
    user: str
    notes: list[str] = field(default_factory=list)
    ms: float = 0.0

    def yes(self, template: str, **values: str) -> float:
        """p(yes) asked as a follow-up to the answer prompt, about sentences shown in it."""
        return self._ask(self.system, self.user + "\n\n", template, values)

    def alone(self, template: str, **values: str) -> float:
        """p(yes) asked on its own: the sentence and the question, without the passages. Whether
        a sentence answers a question was judged better so: on 50 dev questions, the gold sentence
        outscored the best sentence of unanswerable questions 88 times in 100 alone, 85 as a
        follow-up, and at equal recall let 1 of 20 unanswerable questions through, not 6."""
        return self._ask(prompts.load("judge_system.txt").strip(), "", template, values)

    def _ask(self, system: str, context: str, template: str, values: dict[str, str]) -> float:
        started = time.perf_counter()
        values = {k: " ".join(v.split()) for k, v in values.items()}
        asked = prompts.fill(prompts.load(template), template, **values).strip()
        p = self.generator.judge([{"role": "system", "content": system}, {"role": "user", "content": context + asked}])
        self.ms += (time.perf_counter() - started) * 1000
        return p


def _abstain(
    question: str, model: str, timings: dict[str, float], why: str, notes: list[str] | None = None
) -> Answer:
    return Answer(question, ABSTAIN, True, [], [], model, timings, [why, *(notes or [])])


def _passages(
    hits: list[Hit], question_vec: np.ndarray, embedder: Embedder, generator: Generator, settings: Settings
) -> tuple[list[Passage], str]:
    """Split hits into sentences, embed them once, and number the ones the model is shown: each
    passage's most question-relevant sentences within its token budget, each sentence once (chunks
    overlap), sentences that address an AI system masked and not citable (article text is data)."""
    evidence = [passage_sentences(n, h.chunk.text, h.chunk.start) for n, h in enumerate(hits, 1)]
    flat = [e for es in evidence for e in es]
    vectors = embedder.embed([e.text for e in flat]) if flat else np.zeros((0, 1), np.float32)
    budget = generator.n_ctx - settings.max_answer_tokens - 400  # 400: instructions and question
    per_passage = min(settings.passage_max_tokens, budget // max(1, len(hits)))
    out, blocks, at, next_id = [], [], 0, 1
    seen: set[tuple[str, int]] = set()
    for n, (hit, es) in enumerate(zip(hits, evidence), 1):
        vecs = vectors[at : at + len(es)]
        at += len(es)
        chosen = _most_relevant(es, vecs @ question_vec, per_passage, generator)
        ids: dict[int, int] = {}
        lines = []
        for i in sorted(chosen):
            if (hit.chunk.source, es[i].start) in seen:
                continue
            seen.add((hit.chunk.source, es[i].start))
            if prompts.is_injection(es[i].text):
                lines.append(prompts.MASK)
                continue
            ids[next_id] = i
            lines.append(f"[{next_id}] {' '.join(es[i].text.split())}")
            next_id += 1
        out.append(Passage(n, hit, es, vecs, ids))
        if lines:
            blocks.append(prompts.label_passage(hit) + "\n" + "\n".join(lines))
    return out, "\n\n".join(blocks)


def _most_relevant(evidence: list[Evidence], relevance: np.ndarray, budget: int, generator: Generator) -> set[int]:
    """The passage's sentences most relevant to the question, within `budget` tokens."""
    chosen: set[int] = set()
    used = 0
    for i in np.argsort(-relevance):
        cost = generator.count_tokens(evidence[i].text)
        if used + cost > budget and chosen:
            continue
        chosen.add(int(i))
        used += cost
    return chosen


def verify(
    drafts: list[Draft],
    passages: list[Passage],
    embedder: Embedder,
    settings: Settings,
    show_unsupported: bool = False,
    counts: dict[str, int] | None = None,
    question: str = "",
    judge: Judge | None = None,
    guessed: frozenset[str] | set[str] = frozenset(),
) -> tuple[list[AnswerSentence], list[Citation], list[str]]:
    """Check every draft sentence against the sentences it cites; correct or drop what fails.

    A sentence whose names, numbers and speaker are all in the cited sentence but whose wording
    differs (a paraphrase the embedding scores low, a word lent by the question) is put to the
    `judge`: does the cited sentence state it? Wrong facts are never put to it, nor a sentence
    that names as its speaker whoever a who-said question `guessed` (the model echoes the guess).
    `counts` (if given) receives how the model's sentences fared as written, before correction."""
    tally = dict.fromkeys(("sentences", "sentences_supported_as_cited", "citations", "citations_supporting",
                           "corrected", "dropped"), 0)
    if counts is not None:
        counts.update(tally)
        tally = counts
    if not drafts:
        return [], [], []
    by_id = {i: (p, e) for p in passages for i, e in p.ids.items()}
    by_n = {p.n: p for p in passages}
    claim_vecs = embedder.embed([d.text for d in drafts])
    in_passages = set().union(*(content_stems(p.hit.chunk.text + " " + _header(p.hit)) for p in passages))
    question_only = frozenset(content_stems(question) - in_passages)
    # (text, cited (passage n, sentence index) keys, supported), numbered by _renumber at the end
    sentences: list[tuple[str, list[tuple[int, int]], bool]] = []
    quotes: dict[tuple[int, int], Support] = {}  # (passage, sentence index) -> its support, for the quote
    notes: list[str] = []

    def check(text: str, vec: np.ndarray, p: Passage, only: int | None = None) -> Support:
        return assess(text, vec, p.n, p.hit.chunk.text, p.evidence, p.vectors, _header(p.hit), question_only,
                      known_speakers=(p.hit.chunk.outlet or "",), only=only)

    for draft, vec in zip(drafts, claim_vecs):
        if about_sources(draft.text):  # generalizes over sources that may disagree: who says what instead
            tally["sentences"] += 1
            tally["dropped"] += 1
            notes.append(f"sentence dropped (a claim about the sources, not the news): {draft.text!r}")
            continue
        cited = [i for i in dict.fromkeys(draft.citations) if i in by_id]
        as_cited = {i: check(draft.text, vec, *by_id[i]) for i in cited}
        chosen = [i for i in cited if as_cited[i].ok(settings.min_cosine, settings.min_overlap)]
        repeats_guess = bool(guessed & content_stems(" ".join(speakers(draft.text))))
        if not chosen and judge is not None and not repeats_guess:
            chosen = [i for i in cited if as_cited[i].plausible(settings.min_judged_cosine)
                      and _states(judge, i, draft.text, settings)][:1]
        tally["sentences"] += 1
        tally["sentences_supported_as_cited"] += bool(chosen)
        tally["citations"] += len(cited)
        tally["citations_supporting"] += len(chosen)
        keys = [(by_id[i][0].n, by_id[i][1]) for i in chosen]
        supports = [as_cited[i] for i in chosen]
        if not chosen:
            anywhere = [check(draft.text, vec, p) for p in passages]
            ok = [s for s in anywhere if s.ok(settings.min_cosine, settings.min_overlap) and s.best is not None]
            tally["corrected"] += bool(ok)
            tally["dropped"] += not ok
            if ok:
                best = max(ok, key=lambda s: s.cosine)
                supports = [best]
                keys = [(best.passage, by_n[best.passage].evidence.index(best.best))]  # type: ignore[arg-type]
                notes.append(f"citation corrected to {_where(best)}: {draft.text!r}")
            else:
                reasons = as_cited[cited[0]] if cited else max(anywhere, key=lambda s: s.cosine)
                why = f"missing {', '.join(reasons.missing)}" if reasons.missing else (
                    f"similarity {reasons.cosine:.2f}, word overlap {reasons.overlap:.2f}")
                notes.append(f"unsupported sentence {'kept' if show_unsupported else 'dropped'} ({why}): "
                             f"{draft.text!r}")
                if show_unsupported:
                    sentences.append((draft.text, [], False))
                continue
        for key, support in zip(keys, supports):
            quotes.setdefault(key, support)
        sentences.append((draft.text, keys, True))
    return _renumber(sentences, quotes, passages) + (notes,)


def _to_the_point(
    kind: str | None, question: str, sentences: list[AnswerSentence], citations: list[Citation], notes: list[str]
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Asked how many or when, the supported sentences that give a number or a time; the others
    are padding ("How many died?" -> "... paid 5,000 crowns per household", "... the river fell
    two metres") and go, with their citations, unless none gives one (then the answer is judged whole)."""
    supported = [s for s in sentences if s.supported]
    to_the_point = [s for s in supported if gives(kind, s.text, question)]
    if kind is None or not to_the_point or len(to_the_point) == len(supported):
        return sentences, citations
    notes += [f"sentence left out (it gives no {kind_noun(kind)}, which the question asks for): {s.text!r}"
              for s in supported if s not in to_the_point]
    order: dict[int, int] = {}
    for s in to_the_point:
        for n in s.citations:
            order.setdefault(n, len(order) + 1)
    kept = [AnswerSentence(s.text, [order[n] for n in s.citations], s.supported)
            for s in sentences if s in to_the_point or not s.supported]
    return kept, sorted((replace(c, n=order[c.n]) for c in citations if c.n in order), key=lambda c: c.n)


def _context(citations: list[Citation], passages: list[Passage]) -> str:
    """The passages (with their headers) that hold the cited sentences: what the answer draws on."""
    held = [p for p in passages if any(c.source == p.hit.chunk.source and p.hit.chunk.start <= c.start < p.hit.chunk.end
                                       for c in citations)]
    return " ".join(f"{p.hit.chunk.text} {_header(p.hit)}" for p in held)


def _where(s: Support) -> str:
    return f"passage {s.passage}, sentence {(s.best.text[:40] + '…') if s.best else '?'!r}"


def _header(hit: Hit) -> str:
    c = hit.chunk
    return " ".join(x for x in (c.title, c.outlet, c.date) if x)


def _renumber(
    sentences: list[tuple[str, list[tuple[int, int]], bool]],
    quotes: dict[tuple[int, int], Support],
    passages: list[Passage],
) -> tuple[list[AnswerSentence], list[Citation]]:
    """Number cited sentences 1, 2, ... in order of first use, so the answer reads [1] before [2]."""
    by_n = {p.n: p for p in passages}
    order: dict[tuple[int, int], int] = {}
    for _, keys, _ in sentences:
        for key in keys:
            order.setdefault(key, len(order) + 1)
    renumbered = [AnswerSentence(text, [order[k] for k in keys], ok) for text, keys, ok in sentences]
    citations = []
    for key, new in order.items():
        support, chunk = quotes[key], by_n[key[0]].hit.chunk
        ev = by_n[key[0]].evidence[key[1]]
        citations.append(
            Citation(new, chunk.source, ev.start, ev.end, ev.text, chunk.title, chunk.outlet, chunk.date,
                     round(support.cosine, 4))
        )
    return renumbered, citations


def _states(judge: Judge, sentence_id: int, claim: str, settings: Settings) -> bool:
    p = judge.yes("judge_states.txt", id=str(sentence_id), claim=" ".join(claim.split()))
    judge.notes.append(f"judged {p:.2f} that sentence [{sentence_id}] states {claim!r}")
    return p >= settings.judge_states


def _answers(
    citations: list[Citation], passages: list[Passage], question: str, judge: Judge, settings: Settings
) -> bool:
    """Whether the sentences the answer cites answer the question, not just concern its subject
    ("How many boats were sent?" -> "40 tonnes of food were sent" is supported and no answer).
    Asked in context: the model's own answer leans on the passage around the sentence it cites
    ("She said three employees were treated" answers "How many were hurt in the fire?" only with
    the article around it), which the judge asked alone does not see."""
    shown = {(p.hit.chunk.source, p.evidence[i].start): n for p in passages for n, i in p.ids.items()}
    shown_text = {n: p.evidence[i].text for p in passages for n, i in p.ids.items()}
    ids = [shown[(c.source, c.start)] for c in citations if (c.source, c.start) in shown]
    if not ids:
        return True  # cited sentences the model was not shown cannot be named to it
    best = 0.0
    asked = list(dict.fromkeys([question, *parts(question)]))
    for n in ids[:2]:
        for part in asked:  # a question that asks two things is answered in part by one of them
            p = judge.yes("judge_answers.txt", id=str(n), sentence=shown_text[n], question=part)
            of = f" ({part!r})" if part != question else ""
            judge.notes.append(f"judged {p:.2f} that sentence [{n}] answers the question{of}")
            best = max(best, p)
            if best >= settings.judge_answers:
                return True
    return False


def _extract(
    question_vec: np.ndarray,
    question: str,
    passages: list[Passage],
    pointed: list[int],
    judge: Judge,
    settings: Settings,
    holding: frozenset[int] | set[int] = frozenset(),  # those that hold the facts of its answer
    whole: str = "",  # the whole question, when `question` is one of its parts
) -> tuple[list[AnswerSentence], list[Citation]] | None:
    """The shown sentence that answers the question, quoted and attributed, or None.

    Candidates are the sentences the model's answer points at (`pointed`, in order: those that
    hold its facts, then those it cited; its pointing is better than its wording), then those
    closest to the question (embedding cosine plus the share of the question's content words they
    contain), each giving the kind of thing the question asks for (a time, a quantity, a name), naming
    whoever the question asks the words of, and none a headline. The model is asked of the first
    few, each on its own with the question, whether it answers it; the surest good enough is
    quoted. Quoting the article's own sentence cannot misstate it; the judge decides only whether
    it answers."""
    scored = _candidates(question_vec, question, passages, whole)
    rank = {c[2]: c for c in scored}
    candidates = list({c[2]: c for c in [rank[n] for n in pointed if n in rank] + scored}.values())
    best = _surest(question, [(p, i, f"sentence [{n}] ({_label(p.hit)}"
                               + (", holding the facts of the model's answer)" if n in holding else ")"))
                              for _, p, n, i in candidates[: settings.judge_candidates]],
                   judge, settings.judge_extract)
    if best is None:
        return None
    judge.notes.append("answered with the article's own sentence: the model's wording was not supported")
    return _quote(*best)  # score 1.0: the answer sentence is the quote itself


def _surest(question: str, sentences: list[tuple[Passage, int, str]], judge: Judge,
            threshold: float) -> tuple[Passage, int] | None:
    """Of (passage, sentence index, how the note names it), the one the judge, asked of each
    alone, finds surest answers `question`, if at least `threshold`; each judgement is noted."""
    best: tuple[float, Passage, int] | None = None
    for p, i, named in sentences:
        ev = p.evidence[i]
        yes = judge.alone("judge_answers_alone.txt", sentence=ev.text, question=question)
        judge.notes.append(f"judged {yes:.2f} that {named} answers it: {ev.text[:80]!r}")
        if yes >= threshold and (best is None or yes > best[0]):
            best = (yes, p, i)
    return best[1:] if best else None


def _candidates(
    question_vec: np.ndarray, question: str, passages: list[Passage], whole: str = "", every: bool = False
) -> list[tuple[float, Passage, int, int]]:
    """The sentences that could answer `question`, closest first, as (closeness, passage, shown id
    or 0, sentence index): quotable, giving the kind of thing it asks for, naming whoever it asks
    the words of, from passages that name whom and what it names; those shown to the model, or
    with `every` all of the retrieved passages' sentences (each once; masked ones never). Closeness
    is the embedding cosine plus half the share of the question's content words the sentence contains."""
    whole = whole or question  # whom and what it names, and its words, are the whole question's
    asked = content_stems(whole)
    kind, whose = asks_for(question), whose_words(whole)
    scored: list[tuple[float, Passage, int, int]] = []
    seen: set[tuple[str, int]] = set()
    for p in passages:
        if unmet_names(whole, f"{p.hit.chunk.text} {_header(p.hit)}"):
            continue  # the passage never names whom or what the question names
        sims = p.vectors @ question_vec
        who = evidence_speakers(p.evidence) if whose else []
        shown = {i: n for n, i in p.ids.items()}
        for i in range(len(p.evidence)) if every else shown:
            ev = p.evidence[i]
            if (p.hit.chunk.source, ev.start) in seen or prompts.is_injection(ev.text):
                continue
            seen.add((p.hit.chunk.source, ev.start))
            if not _quotable(p, i) or not gives(kind, ev.text, question):
                continue
            # asked what X said, a sentence is an answer only in X's words (or in X's own paper)
            if whose and not whose & (who[i] | known_stems(" ".join([*speakers(ev.text, subject=True),
                                                                      p.hit.chunk.outlet or ""]))):
                continue
            lexical = len(asked & content_stems(ev.text)) / max(1, len(asked))
            scored.append((float(sims[i]) + 0.5 * lexical, p, shown.get(i, 0), i))
    scored.sort(key=lambda c: -c[0])
    return scored


def _other_figure(
    question_vec: np.ndarray,
    question: str,
    passages: list[Passage],
    sentences: list[AnswerSentence],
    citations: list[Citation],
    judge: Judge,
    settings: Settings,
) -> tuple[list[AnswerSentence], list[Citation]] | None:
    """Asked how many or how much, a retrieved sentence that counts what the answer counts with
    another figure, quoted and attributed: sources that disagree on a number ("about 230,000
    people" against a researcher's "as many as 600,000") are each given, not one of them as the
    answer. Candidates are the closest such sentences not already cited, of outlets the answer
    does not cite first; the judge, asked of each alone, must not find that it answers another question."""
    answer = " ".join(s.text for s in sentences if s.supported)
    outlets = {c.outlet or c.source for c in citations}

    def cited(p: Passage, i: int) -> bool:  # its quote (reaching back to a speaker's sentence) is cited
        quoted = _quote(p, i)[1][0]
        return any(c.source == quoted.source and c.start < quoted.end and quoted.start < c.end for c in citations)

    given = numbers(question)
    rivals = [(p, i) for _, p, _, i in _candidates(question_vec, question, passages, every=True)
              if rival_figures(answer, p.evidence[i].text, given) and not cited(p, i)]
    rivals.sort(key=lambda c: (c[0].hit.chunk.outlet or c[0].hit.chunk.source) in outlets)  # stable: closest first
    best = _surest(question, [(p, i, f"a sentence with another figure ({_label(p.hit)})")
                              for p, i in rivals[: settings.other_figure_candidates]],
                   judge, settings.judge_other_figure)
    if best is None:
        return None
    judge.notes.append("another figure was added from the articles: they give different figures")
    return _quote(*best)


def _partial(kind: str | None, question: str, sentences: list[AnswerSentence]) -> str | None:
    """A note when an answer gives fewer of the quantities than the question asks for: half an
    answer, cited, beats a refusal, and the user is told the rest was not found."""
    supported = " ".join(s.text for s in sentences if s.supported)
    if not supported or kind != "quantity":
        return None
    given, wanted = len(numbers(supported)), quantities_asked(question)
    return f"partial answer: it gives {given} of the {wanted} quantities the question asks for" if given < wanted else None


def _joined(answers: list[tuple[list[AnswerSentence], list[Citation]]]) -> tuple[list[AnswerSentence], list[Citation]]:
    """Quoted answers to the parts of a question as one answer, citations numbered in order; a
    sentence that answers two parts is quoted once."""
    sentences: list[AnswerSentence] = []
    citations: list[Citation] = []
    for part_sentences, part_citations in answers:
        if any(c.source == old.source and c.start == old.start for c in part_citations for old in citations):
            continue
        shift = len(citations)
        sentences += [replace(s, citations=[n + shift for n in s.citations]) for s in part_sentences]
        citations += [replace(c, n=c.n + shift) for c in part_citations]
    return sentences, citations


def _holding_facts(drafts: list[Draft], question: str, passages: list[Passage]) -> list[int]:
    """The shown sentences that hold every fact (name, number, day) a draft sentence adds to the
    question: where the model's answer came from when it cited the wrong sentence or worded it
    past the check ("The walkout started on Monday morning [1]" -> "Dockworkers went on strike on
    Monday morning"). Facts point more surely than the model's citation numbers."""
    asked = known_stems(question) | numbers(question)
    found: list[int] = []
    for d in drafts:
        facts = (set(names(d.text)) | numbers(d.text)) - asked
        if not facts:
            continue
        for p in passages:
            for n, i in p.ids.items():
                text = f"{p.evidence[i].text} {p.hit.chunk.outlet or ''}"
                if facts <= known_stems(f"{text} {spelled_dates(text)}") | numbers(text):
                    found.append(n)
    return list(dict.fromkeys(found))


def _who_said(
    said: str, passages: list[Passage], embedder: Embedder, notes: list[str], settings: Settings
) -> tuple[list[AnswerSentence], list[Citation]] | None:
    """The shown sentence that makes the statement a who-said-it question asks about, quoted: it
    names who made it, whoever the question guessed ("Was it Castell who said …?" -> the
    sentence where Weber says it). Decided by meaning and facts, not by the judge: the statement
    is in the question, so the closest sentence that has a speaker and all of the statement's
    numbers is the one, if it is close enough."""
    vec = embedder.embed([said])[0]
    asked = content_stems(said)
    best: tuple[float, Passage, int] | None = None
    for p in passages:
        sims = p.vectors @ vec
        who = evidence_speakers(p.evidence)
        for i in p.ids.values():
            ev = p.evidence[i]
            if not _quotable(p, i) or not who[i] or not numbers(said) <= numbers(ev.text):
                continue
            # the words of the statement count besides its meaning: "sovereign right" is the statement
            score = float(sims[i]) + 0.5 * len(asked & content_stems(ev.text)) / max(1, len(asked))
            if best is None or score > best[0]:
                best = (score, p, i)
    if best is None:
        return None
    score, p, i = best
    notes.append(f"the sentence closest to the statement asked about ({score:.2f}): {p.evidence[i].text[:80]!r}")
    if score < settings.statement_score:
        return None
    notes.append("answered with the sentence that makes the statement: it names who made it")
    return _quote(p, i, min(1.0, score))


def _quote(p: Passage, i: int, score: float = 1.0) -> tuple[list[AnswerSentence], list[Citation]]:
    """Sentence `i` of passage `p`, verbatim and attributed: the article's words cannot misstate it.
    A sentence that goes on with someone's words without naming them ("She added …", "As for
    the checkpoint, it is …") is quoted from the sentence of its paragraph that names them."""
    ev, chunk = p.evidence[i], p.hit.chunk
    first = ev
    who = evidence_speakers(p.evidence)[i]
    j = i
    while who and not who & content_stems(chunk.text[first.start - chunk.start : ev.end - chunk.start]) \
            and j > 0 and i - j < 2 and p.evidence[j - 1].paragraph == ev.paragraph \
            and not prompts.is_injection(p.evidence[j - 1].text):
        j -= 1
        first = p.evidence[j]
    text_span = chunk.text[first.start - chunk.start : ev.end - chunk.start]
    quote = " ".join(text_span.split()).replace("“", "‘").replace("”", "’")
    text = f"{_label(p.hit)} reports: “{quote}”"
    citation = Citation(1, chunk.source, first.start, ev.end, text_span, chunk.title, chunk.outlet, chunk.date, score)
    return [AnswerSentence(text, [1], True)], [citation]


def _about_whom_asked(whose: set[str], text: str) -> bool:
    """Whether `text` names whoever the question asks the words of (True when it names no one)."""
    return not whose or bool(whose & known_stems(text))


def _quotable(p: Passage, i: int) -> bool:
    """Whether sentence `i` of `p` may be quoted as an answer: not a heading, byline or fragment,
    and not the headline, which is the outlet's framing, not a statement it reports."""
    text = " ".join(p.evidence[i].text.split())
    title = " ".join((p.hit.chunk.title or "").split())
    return len(text.split()) >= MIN_EXTRACT_WORDS and not (title and title in text)


def _label(hit: Hit) -> str:
    """Who published a passage, short: the outlet, else the article's date, else its file."""
    c = hit.chunk
    label = source_label(c.source, c.outlet, c.date)
    return label[:1].upper() + label[1:]


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
