"""`rag summarize`: a neutral, fully cited summary of what several outlets report.

Built from verified pieces, never from free text:
  1. claims: every sentence of each chosen article, with its span and speaker (claims.py);
  2. alignment: claims from different sources that say the same thing (embedding similarity
     plus the number/name check from `rag ask`) form "shared" groups; a one-source claim close
     to another source's claims is "contested"; the rest are "single-source";
  3. selection: the most central claims of each kind, taken in turn from each source so no
     side is crowded out;
  4. writing: the LLM rewrites one group at a time (so any number of articles fits the
     context: map over groups, reduce by selection), its opening words fixed by grammar to the
     attribution; the sentence must pass the same support check as `rag ask` plus the
     neutrality checks, or it is replaced by the source sentence itself, quoted and attributed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from . import neutrality, prompts
from .cite import Evidence, assess, content_stems, names, numbers, speakers, stem
from .claims import Claim, extract_claims, source_label
from .config import Settings
from .embed import Embedder
from .errors import UsageError
from .generate import Generator
from .index import Index
from .records import Citation, Summary, SummarySection, SummarySentence

HEADINGS = ("What the sources agree on", "Where accounts differ", "Only in one source")
NO_TOPIC = "The indexed articles do not cover this topic."


@dataclass
class Group:
    kind: str  # "shared" | "contested" | "single"
    members: list[int]  # claim indices; for shared, at least two sources
    weight: float  # centrality, for ranking


@dataclass
class _Written:
    sentence: SummarySentence
    cited: list[int]  # claim indices cited, in order
    scores: dict[int, float] = field(default_factory=dict)  # claim index -> cosine with the sentence
    note: str = ""  # why the model's sentence was replaced by an extract


def summarize(
    index: Index,
    embedder: Embedder,
    generator: Generator,
    settings: Settings,
    topic: str | None = None,
    sources: list[str] | None = None,
    on_step: Callable[[int, int], None] | None = None,
) -> Summary:
    started = time.perf_counter()
    chosen = choose_sources(index, sources)
    claims = extract_claims(index, chosen)
    vecs = embedder.embed([c.text for c in claims]) if claims else np.zeros((0, 1), np.float32)
    notes: list[str] = []
    if topic and len(claims):
        relevance = vecs @ embedder.embed([topic])[0]
        keep = [i for i in range(len(claims)) if relevance[i] >= settings.topic_min_cosine]
        claims, vecs = [claims[i] for i in keep], vecs[keep]
        notes.append(f"{len(keep)} claims are about the topic (cosine >= {settings.topic_min_cosine})")
    if len(claims) > settings.max_claims:
        central = np.argsort(-(vecs @ vecs.mean(axis=0)))[: settings.max_claims]
        keep = sorted(int(i) for i in central)
        notes.append(f"{len(claims)} claims; the {len(keep)} most central were aligned")
        claims, vecs = [claims[i] for i in keep], vecs[keep]
    present = list(dict.fromkeys(c.source for c in claims))
    source_text = {s: _source_text(index, s) for s in present}
    headers = {s: next(c for c in claims if c.source == s) for s in present}

    groups = select(align(claims, vecs, settings), claims, vecs, settings)
    terms = neutrality.load_terms()
    written: list[tuple[str, _Written]] = []
    for i, group in enumerate(groups):
        if on_step:
            on_step(i, len(groups))
        w = write(group, claims, vecs, embedder, generator, settings, terms, source_text)
        written.append((group.kind, w))
        if w.note:
            notes.append(w.note)
    if on_step:
        on_step(len(groups), len(groups))

    sections, citations = _number(written, claims)
    shares = {s: sum(1 for c in claims if c.source == s) / max(1, len(claims)) for s in present}
    checks = run_checks(sections, citations, source_text, shares, terms)
    source_rows = [
        {"source": s, "label": headers[s].label, "outlet": headers[s].outlet, "date": headers[s].date,
         "title": headers[s].title, "claims": sum(1 for c in claims if c.source == s)}
        for s in present
    ]
    if not claims:
        notes.append("no claims to summarize")
    summary = Summary(source_rows, sections, citations, checks, "", generator.name,
                      {"total_ms": round((time.perf_counter() - started) * 1000, 1)}, notes)
    summary.text = render_text(summary) if claims else NO_TOPIC
    return summary


def choose_sources(index: Index, wanted: list[str] | None) -> list[str]:
    """Indexed files to summarize: all of them, or those named (by stored name, path or file name)."""
    files = [f for f in index.files() if not f.duplicate_of]
    if not wanted:
        return [f.source for f in files]
    out: list[str] = []
    for w in wanted:
        match = [f.source for f in files if w in (f.source, f.path)]  # an exact name wins over a suffix
        match = match or [f.source for f in files if f.source.endswith("/" + w.lstrip("./"))]
        if not match:
            known = ", ".join(f.source for f in files[:5]) + (" …" if len(files) > 5 else "")
            raise UsageError(f"{w} is not in the index (indexed: {known})")
        out.extend(m for m in match if m not in out)
    return out


def _source_text(index: Index, source: str) -> str:
    return " ".join(c.text for c in index.chunks_of(source))


def agree(a: int, b: int, claims: list[Claim], vecs: np.ndarray, sims: np.ndarray, settings: Settings) -> bool:
    """Two claims report the same thing: close in meaning, mostly the same words (relative to
    the shorter one: one outlet quotes more of a statement than the other), and no number that
    one gives and the other contradicts."""
    if sims[a, b] < settings.match_cosine:
        return False
    sa, sb = content_stems(claims[a].text), content_stems(claims[b].text)
    if len(sa & sb) / max(1, min(len(sa), len(sb))) < settings.min_overlap:
        return False
    na, nb = numbers(claims[a].text), numbers(claims[b].text)
    return not (na and nb and not (na <= nb or nb <= na))


def speaker_keys(speaker: str | None) -> set[str]:
    """The proper names in a speaker, stemmed: "Armenia's foreign ministry" -> {"armeni"}."""
    return {stem(w) for w in names(speaker or "")} - _TITLES


_TITLES = {stem(w) for w in "The A An Secretary President Prime Minister Ministry Spokesperson Office".split()}


def align(claims: list[Claim], vecs: np.ndarray, settings: Settings) -> list[Group]:
    """Group claims: shared across sources, contested, or single-source.

    Contested: a one-source claim with a named speaker, on a subject another source also
    covers (cosine >= related_cosine), whose speaker is not one the sources all quote (a
    mediator's readout both outlets carry is not one side's position), nor whom that shared
    voice reports on (the mediator the readout is about)."""
    n = len(claims)
    if n == 0:
        return []
    sims = vecs @ vecs.T
    parent = list(range(n))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in range(n):
        for b in range(a + 1, n):
            if claims[a].source != claims[b].source and agree(a, b, claims, vecs, sims, settings):
                parent[root(a)] = root(b)
    clusters: dict[int, list[int]] = {}
    for i in range(n):
        clusters.setdefault(root(i), []).append(i)
    centrality = sims.mean(axis=1)
    groups = []
    common: set[str] = set()
    for members in clusters.values():
        if len({claims[i].source for i in members}) > 1:
            groups.append(Group("shared", members, float(max(centrality[i] for i in members))))
            common |= {k for i in members for k in speaker_keys(claims[i].speaker)}
    # whom the shared voice speaks about is a third party too: a readout every outlet carries
    # ("Secretary Blinken reiterated …", said the State Department) makes Blinken the mediator
    common |= {k for c in claims if speaker_keys(c.speaker) & common
               for who in speakers(c.text, subject=True) for k in speaker_keys(who) if len(k) > 2}
    for members in clusters.values():
        if len({claims[i].source for i in members}) > 1:
            continue
        for i in members:
            others = [j for j in range(n) if claims[j].source != claims[i].source]
            related = bool(others) and float(sims[i, others].max()) >= settings.related_cosine
            keys = speaker_keys(claims[i].speaker)
            side = bool(claims[i].speaker) and not (keys & common)
            groups.append(Group("contested" if related and side else "single", [i], float(centrality[i])))
    return groups


def select(groups: list[Group], claims: list[Claim], vecs: np.ndarray, settings: Settings) -> list[Group]:
    """The most central groups of each kind, taken in turn from each source, near-duplicates and
    a third sentence from one speaker left out; returned in section order."""
    out: list[Group] = []
    for kind, cap in zip(("shared", "contested", "single"), settings.section_caps):
        before = list(out)
        mine = sorted((g for g in groups if g.kind == kind), key=lambda g: -g.weight)
        by_source: dict[str, list[Group]] = {}
        for g in mine:
            by_source.setdefault(claims[g.members[0]].source if kind != "shared" else "", []).append(g)
        queues = list(by_source.values())
        picked: list[Group] = []
        speakers: dict[str, int] = {}
        while len(picked) < cap and any(queues):
            for q in queues:
                while q and len(picked) < cap:
                    g = q.pop(0)
                    lead = g.members[0]
                    who = (claims[lead].speaker or "").lower()
                    duplicate = any(float(vecs[lead] @ vecs[m]) >= 0.8 for p in before + picked for m in p.members)
                    if duplicate or (who and speakers.get(who, 0) >= 2):
                        continue
                    speakers[who] = speakers.get(who, 0) + 1
                    picked.append(g)
                    break
        out.extend(picked)
    return out


def write(
    group: Group,
    claims: list[Claim],
    vecs: np.ndarray,
    embedder: Embedder,
    generator: Generator,
    settings: Settings,
    terms: list[neutrality.Term],
    articles: dict[str, str] | None = None,
) -> _Written:
    """One summary sentence for a group: the model's, if it passes every check, else an extract.
    `articles`: each source's whole text, where a title the sentence gives a name is looked up.
    A sentence that fails is sent back with why, up to `settings.sentence_attempts` tries (the
    prompt stays in the KV cache, so a retry costs the reason's tokens and the new sentence)."""
    if group.kind == "shared":
        lead = _lead(group.members, claims, vecs)
        by_source: dict[str, int] = {}
        for i in [lead, *group.members]:
            by_source.setdefault(claims[i].source, i)
        cited = list(by_source.values())
        text = "\n".join(f"- {_oneline(claims[i].text)} ({claims[i].label})" for i in cited)
        user = prompts.fill(prompts.load("summarize_shared.txt"), "summarize_shared.txt", claims=text)
        opening, attributed_to = '[A-Z"“]', None
    else:
        (lead,) = group.members[:1]
        cited = [lead]
        c = claims[lead]
        attributed_to = c.speaker or c.label
        opening_text = f"{_capital(c.speaker)} said" if c.speaker else f"According to {c.label},"
        user = prompts.fill(
            prompts.load("summarize_claim.txt"), "summarize_claim.txt", label=c.label,
            speaker=c.speaker or "(not named; the outlet reports it)", claim=_oneline(c.text), opening=opening_text,
        )
        opening = json.dumps(opening_text, ensure_ascii=False)
    examples = ", ".join(f'"{t.text.rstrip("*")}"' for t in terms if t.kind == "label")
    system = prompts.fill(prompts.load("summarize_system.txt"), "summarize_system.txt", examples=examples)
    grammar = prompts.fill(prompts.load("summary.gbnf"), "summary.gbnf", opening=opening)
    messages = [{"role": "system", "content": system.strip()}, {"role": "user", "content": user.strip()}]
    if any(prompts.is_injection(claims[i].text) for i in cited):
        return _extract(group, lead, cited, claims, "extract used: the claim addresses an AI system")
    first = ""
    for attempt in range(max(1, settings.sentence_attempts)):
        sentence = _tidy(generator.complete(messages, grammar, settings.max_sentence_tokens).text)
        problem, hint, scores = _check_sentence(sentence, group, cited, claims, vecs, embedder, settings, terms,
                                                attributed_to, articles or {})
        if not problem:
            note = f"attempt {attempt + 1} used, the first {first}" if attempt else ""
            return _Written(SummarySentence(sentence, [], attributed_to, "model"), cited, scores, note)
        first = first or f"{problem}: {sentence!r}"
        messages = [*messages, {"role": "assistant", "content": sentence},
                    {"role": "user", "content": prompts.fill(prompts.load("summarize_retry.txt"),
                                                             "summarize_retry.txt", problem=hint).strip()}]
    return _extract(group, lead, cited, claims, f"extract used, {first}" + (
        f"; the last attempt {problem}: {sentence!r}" if attempt else ""))


def _check_sentence(
    sentence: str,
    group: Group,
    cited: list[int],
    claims: list[Claim],
    vecs: np.ndarray,
    embedder: Embedder,
    settings: Settings,
    terms: list[neutrality.Term],
    attributed_to: str | None,
    articles: dict[str, str],
) -> tuple[str | None, str, dict[int, float]]:
    """Why the model's sentence cannot be used (None if it can), the same said to the model, and
    its support per claim. A shared sentence may name every outlet it cites."""
    labels = " ".join(dict.fromkeys(claims[i].label for i in cited))
    claim = reported(sentence, labels) if group.kind == "shared" else sentence
    vec = embedder.embed([claim])[0]
    scores: dict[int, float] = {}
    for i in cited:
        c = claims[i]
        ev = [Evidence(0, c.start, c.end, c.text)]
        support = assess(claim, vec, 0, articles.get(c.source, c.text), ev, vecs[i : i + 1],
                         f"{labels} {c.speaker or ''}")
        if not support.ok(settings.min_cosine, settings.min_overlap):
            if support.missing:
                return (f"not supported by {c.source} (missing {', '.join(support.missing)})",
                        f"{c.label} does not say {', '.join(support.missing)}; leave that out", scores)
            return (f"not supported by {c.source} (similarity {support.cosine:.2f}, overlap {support.overlap:.2f})",
                    f"it says more than {c.label}, which says only: {_oneline(c.text)} Keep to what it says", scores)
        scores[i] = round(support.cosine, 4)
    loaded = neutrality.loaded_terms(sentence, terms)
    if loaded:
        return (f"loaded terms in the narrator's voice ({', '.join(loaded)})",
                f"it says {', '.join(loaded)} in your own voice; such words go only inside quotation marks, "
                "as someone's exact words", scores)
    if group.kind != "shared" and not neutrality.attributed(sentence, attributed_to):
        return "not attributed", f"it does not say that {attributed_to} said it", scores
    if any(not neutrality.verbatim(q, [claims[i].text for i in cited]) for q in neutrality.quotes(sentence)):
        return "a quote is not verbatim", "a quotation in it is not word for word from the text", scores
    return None, "", scores


_SHARED_FRAME = re.compile(r"^[^.]{0,120}?\b(?:both|all(?:\s+(?:two|three|four|five|six|\d+))?)\s+(?:outlets\s+|sources\s+)?"
                           r"(?:report|reported|say|said|state|stated|agree|agreed)s?\s+(?:on\s+)?(?:that\s+)?", re.I)
_FRAME_WORDS = frozenset(stem(w) for w in "both all two three four five six outlets sources report say state agree".split())


def reported(sentence: str, labels: str) -> str:
    """What a shared sentence says the outlets report, its frame left out: "Turan and Armenpress
    both report that the talks ended." -> "the talks ended." The frame is only the cited outlets'
    names and reporting words ("Armenia and Azerbaijan both said that …" keeps its speakers), and
    its words are not facts to find in each claim, nor words to count in its overlap."""
    m = _SHARED_FRAME.match(sentence.strip())
    if not m or content_stems(m.group()) - content_stems(labels) - _FRAME_WORDS or m.end() >= len(sentence.strip()):
        return sentence
    return sentence.strip()[m.end():]


def _extract(group: Group, lead: int, cited: list[int], claims: list[Claim], why: str = "") -> _Written:
    """The source sentence itself, quoted and attributed: always neutral, always supported.

    A sentence that mostly quotes someone is quoted without its reporting frame, the speaker
    named outside the quote (`Turan reported that Aliyev said: “…”`), never quote marks inside
    quote marks."""
    c = claims[lead]
    inner = inner_quote(c.text)
    quote = _requote(inner or c.text)
    said = f" that {_lower_the(c.speaker)} said:" if inner and c.speaker else ":"
    if group.kind == "shared":
        labels = list(dict.fromkeys(claims[i].label for i in cited))
        who = ", ".join(labels[:-1]) + f" and {labels[-1]}"
        text = f"{_capital(who)} {'both' if len(labels) == 2 else 'all'} report{said} “{quote}”"
    else:
        text = f"{_capital(c.label)} reported{said} “{quote}”"
    # the narrator attributes the quote to the outlet (and names its speaker when it strips the frame)
    sentence = SummarySentence(text, [], None if group.kind == "shared" else c.label, "extract")
    order = [lead, *[i for i in cited if i != lead]]
    return _Written(sentence, order, {lead: 1.0}, why)


def inner_quote(text: str) -> str | None:
    """The words a sentence quotes, when they are most of it ("“We will …,” the minister said.")
    and so the claim, the rest being its reporting frame; None for a scare quote or no quote."""
    quoted = [q.strip(" ,.") for q in re.findall(r"“([^”]+)”|\"([^\"]+)\"", text) for q in q if q]
    # a quote the sentence splitter cut: it closes here without opening, or opens without closing
    before, closes, _ = text.partition("”")
    _, opens, after = text.rpartition("“")
    if closes and "“" not in before:
        quoted.append(before.strip(" ,."))
    if opens and "”" not in after:
        quoted.append(after.strip(" ,."))
    if not quoted:
        return None
    best = max(quoted, key=len)
    return best if len(best) >= 0.4 * len(text.strip()) and len(best.split()) >= 5 else None


def _lower_the(speaker: str) -> str:
    return "the" + speaker[3:] if speaker.startswith("The ") else speaker


def _lead(members: list[int], claims: list[Claim], vecs: np.ndarray) -> int:
    """The member closest to the other sources' versions (shorter wins a tie): what they all report."""
    def score(i: int) -> tuple[float, int]:
        others = [j for j in members if claims[j].source != claims[i].source]
        return (round(float(np.mean([vecs[i] @ vecs[j] for j in others])), 2), -len(claims[i].text))
    return max(members, key=score)


def _number(written: list[tuple[str, _Written]], claims: list[Claim]) -> tuple[list[SummarySection], list[Citation]]:
    """Number the cited claims 1, 2, ... in order of first use, and build the sections."""
    order: dict[int, int] = {}
    scores: dict[int, float] = {}
    sections = {kind: SummarySection(h, []) for kind, h in zip(("shared", "contested", "single"), HEADINGS)}
    for kind, w in written:
        ns = [order.setdefault(i, len(order) + 1) for i in w.cited]
        for i in w.cited:
            scores[i] = max(scores.get(i, 0.0), w.scores.get(i, 0.0))
        s = w.sentence
        sections[kind].sentences.append(SummarySentence(s.text, ns, s.attributed_to, s.origin))
    citations = [
        Citation(n, claims[i].source, claims[i].start, claims[i].end, claims[i].text, claims[i].title,
                 claims[i].outlet, claims[i].date, scores[i])
        for i, n in order.items()
    ]
    return [s for s in sections.values() if s.sentences], citations


def run_checks(
    sections: list[SummarySection],
    citations: list[Citation],
    source_text: dict[str, str],
    input_share: dict[str, float],
    terms: list[neutrality.Term],
) -> dict[str, object]:
    """The neutrality checks shown with every summary (and under `checks` in --json)."""
    by_n = {c.n: c for c in citations}
    loaded, unattributed, unverified, unsupported = [], [], [], []
    cited_sources: list[list[str]] = []
    for section in sections:
        for s in section.sentences:
            files = list(dict.fromkeys(by_n[n].source for n in s.citations))
            cited_sources.append(files)
            loaded += [{"sentence": s.text, "term": t} for t in neutrality.loaded_terms(s.text, terms)]
            if section.heading != HEADINGS[0] and not neutrality.attributed(s.text, s.attributed_to):
                unattributed.append(s.text)
            texts = [source_text[f] for f in files]
            unverified += [{"sentence": s.text, "quote": q} for q in neutrality.quotes(s.text)
                           if not neutrality.verbatim(q, texts)]
            # the names the summary gives its sources ("the article of 1 May 2023") are not facts to find
            haystack = " ".join(texts) + " " + " ".join(
                source_label(by_n[n].source, by_n[n].outlet, by_n[n].date) for n in s.citations)
            stems = {stem(w) for w in re.findall(r"[A-Za-z][\w'’-]*", haystack)}
            missing = [n for n in numbers(s.text) if n not in numbers(haystack)]
            missing += [w for st, w in names(s.text).items() if st not in stems]
            if missing:
                unsupported.append({"sentence": s.text, "missing": missing})
    nested = [s.text for section in sections for s in section.sentences
              if any(re.search(r"[“”\"‘]", q) for q in neutrality.quotes(s.text))]  # ’ alone: an apostrophe
    summary_share = neutrality.coverage(cited_sources, list(input_share))
    worst, gap = neutrality.under_representation(input_share, summary_share) if input_share else ("", 0.0)
    return {
        "passed": not (loaded or unattributed or unverified or unsupported),
        "loaded_terms": loaded,
        "unattributed": unattributed,
        "unverified_quotes": unverified,
        "unsupported_facts": unsupported,
        "coverage": summary_share,
        "input_share": {s: round(v, 3) for s, v in input_share.items()},
        "under_representation": {"source": worst, "gap": gap},
        # an editor's rules, reported (not in "passed": at most one extract per section can only be
        # had by dropping a side's sentence when the model's wording fails, which is worse)
        "nested_quotes": nested,
        "extracts": {sec.heading: sum(s.origin == "extract" for s in sec.sentences) for sec in sections},
    }


def render_text(summary: Summary) -> str:
    """The summary as plain text, citations inline; the Sources list is rendered separately."""
    parts = []
    for section in summary.sections:
        lines = [with_marks(s.text, s.citations) for s in section.sentences]
        parts.append(section.heading + "\n" + "\n".join(lines))
    return "\n\n".join(parts)


def with_marks(text: str, citations: list[int]) -> str:
    """'Sentence [1][2].' — the marks go before the final stop, after a closing quote."""
    body = text.rstrip()
    end = ""
    if body.endswith(".") and not re.search(r"\b[A-Z]\.$", body):
        body, end = body[:-1], "."
    marks = "".join(f"[{n}]" for n in citations)
    return f"{body} {marks}{end or '.'}" if marks else body + end


def _oneline(text: str) -> str:
    return " ".join(text.split())


def _capital(text: str | None) -> str:
    return (text[:1].upper() + text[1:]) if text else ""


def _requote(text: str) -> str:
    """The sentence ready to sit inside “…”: its own double quotes become single ones."""
    text = _oneline(text).replace("“", "‘").replace("”", "’")
    return re.sub(r'"([^"]*)"', r"‘\1’", text).replace('"', "’")


def _tidy(text: str) -> str:
    text = _oneline(text)
    while text.endswith(".."):
        text = text[:-1]
    return text
