"""Claims: the sentences of each indexed article, with exact spans and who is speaking.

A summary is built from claims, never from free text: every summary sentence starts as one or
more claims, so it always has a source span to cite and a speaker to attribute it to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .cite import spelled_dates
from .index import Index
from .records import Chunk
from .sentences import split_sentences

MIN_WORDS = 6  # shorter sentences are bylines, headings or fragments ("The Lachin Corridor blockade.")

# A leading agency dateline, "Washington/30.04.23/Turan: " (the outlet is already in the header).
_DATELINE = re.compile(r"^[A-Z][\w .'-]{1,40}/\d{1,2}\.\d{1,2}\.\d{2,4}/\s*[^:]{1,40}:\s*")
_VERBS = (
    r"said|says|stated|states|declared|noted|added|emphasized|emphasised|stressed|reported|reads|"
    r"announced|told|wrote|confirmed|underscored|reiterated|expressed|mentioned|insisted"
)
_QUOTES = "\"“”"
_WHEN = r"(?:(?:Last|This|Next) (?:week|month|year) |On \w+day,? |Earlier |Later |Meanwhile,? |In turn,? )?"
_ADVERB = r"(?:(?:also|only|again|then|on \w+day|earlier|later) )?"
# Who is speaking, tried in order; each names the group `who`.
_SPEAKER = [
    re.compile(rf"^(?:[^,{_QUOTES}]{{0,60}}, )?[Aa]ccording to (?P<who>[^,]{{3,80}}),"),  # "According to X, ..."
    re.compile(rf"[,{_QUOTES}]\s*according to (?P<who>[^,.]{{3,80}})\.?[{_QUOTES}]?$"),  # "..., according to X."
    re.compile(rf"[,{_QUOTES}]\s*(?:{_VERBS}) (?P<who>[^,.{_QUOTES}]{{2,60}})\.?$"),  # "...,” said Zakharova."
    re.compile(rf"[,{_QUOTES}]\s*(?P<who>[^,{_QUOTES}]{{2,60}}?) (?:{_VERBS})(?: in [^,{_QUOTES}]{{0,40}})?\.?$"),  # "..., X said."
    re.compile(rf"^(?:[^,{_QUOTES}]{{0,100}}, )?{_WHEN}(?P<who>[Tt]he [^,{_QUOTES}]{{1,80}}?|(?:[Aa] )?[A-Z][^,{_QUOTES}]{{1,80}}?) "
               rf"{_ADVERB}(?:{_VERBS})\b"),  # "X said that ..."
]
_PRONOUNS = frozenset("he she they it this that there which who we i you".split())


@dataclass(frozen=True)
class Claim:
    """One sentence of one article. `text == file[start:end]`."""

    source: str
    start: int
    end: int
    text: str
    title: str | None
    date: str | None
    outlet: str | None
    speaker: str | None  # who the sentence says is speaking, as written ("Armenia's foreign ministry")

    @property
    def label(self) -> str:
        return source_label(self.source, self.outlet, self.date)


def source_label(source: str, outlet: str | None, date: str | None) -> str:
    """How a summary or an answer names an article: its outlet; for a file without one, the date
    it carries ("the article of 1 May 2023"), else its file name. Never its headline: a headline
    in every sentence is long and reads as the outlet's own framing."""
    if outlet:
        return outlet
    if date:
        return f"the article of {spelled_dates(date) or date}"
    return f"the article {source}"


def find_speaker(sentence: str) -> str | None:
    """The speaker a news sentence attributes itself to, or None for the narrator's own voice."""
    s = " ".join(sentence.split())
    for pattern in _SPEAKER:
        m = pattern.search(s)
        if m:
            who = m.group("who").strip(" ,")
            words = who.split()
            if words and len(words) <= 10 and words[0].lower() not in _PRONOUNS:
                return who
            return None  # "He said ...": the speaker is named elsewhere in the paragraph
    return None


def extract_claims(index: Index, sources: list[str]) -> list[Claim]:
    """The claims of the given indexed files, in reading order, deduplicated across chunk overlaps.

    A sentence that names no speaker takes the speaker of its paragraph (the nearest sentence
    before it, else after it, that names one): news continues reported speech without repeating
    "said X" ("As for the checkpoint, it is Azerbaijan's sovereign right.").
    """
    claims: list[Claim] = []
    for source in sources:
        chunks = index.chunks_of(source)
        if not chunks:
            continue
        text: list[str | None] = [None] * max(c.end for c in chunks)
        spans: dict[tuple[int, int], str] = {}
        for chunk in chunks:
            text[chunk.start : chunk.end] = chunk.text
            for s, e in split_sentences(chunk.text):
                spans[(chunk.start + s, chunk.start + e)] = chunk.text[s:e]
        first = chunks[0]
        paragraph: list[tuple[int, int, str, str | None]] = []
        last_end = -1
        for (start, end), sentence in sorted(spans.items()):
            gap = text[last_end:start] if last_end >= 0 else ["\n"]
            if None in gap or "\n" in gap:
                claims.extend(_claims(source, first, paragraph))
                paragraph = []
            last_end = end
            m = _DATELINE.match(sentence)
            if m:
                start, sentence = start + m.end(), sentence[m.end():]
            if len(sentence.split()) < MIN_WORDS or sentence == first.title:
                continue
            paragraph.append((start, end, sentence, find_speaker(sentence)))
        claims.extend(_claims(source, first, paragraph))
    return claims


def _claims(source: str, header: Chunk, paragraph: list[tuple[int, int, str, str | None]]) -> list[Claim]:
    out = []
    for i, (start, end, sentence, speaker) in enumerate(paragraph):
        if speaker is None:
            before = [p[3] for p in paragraph[:i] if p[3]]
            after = [p[3] for p in paragraph[i + 1 :] if p[3]]
            speaker = before[-1] if before else (after[0] if after else None)
        out.append(Claim(source, start, end, sentence, header.title, header.date, header.outlet, speaker))
    return out
