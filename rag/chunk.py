"""Document -> Chunks: sentences packed up to a token budget, with overlap. Pure.

The token counter is passed in (the embedding model's own tokenizer in production, a word counter
in unit tests), so "no chunk is truncated by the embedder" is a property of the inputs, not a hope.
"""

from __future__ import annotations

from collections.abc import Callable

from .config import ChunkerSettings
from .records import Chunk, Document
from .sentences import split_sentences

TokenCounter = Callable[[str], int]


def chunk_document(doc: Document, settings: ChunkerSettings, count: TokenCounter) -> list[Chunk]:
    """Cut the body of `doc` into chunks whose text is exactly `doc.text[start:end]`."""
    pieces = _pieces(doc.text, doc.body_start, doc.body_end, settings.max_tokens, count)
    spans = _pack(pieces, settings.max_tokens, settings.overlap_tokens)
    return [
        Chunk(
            source=doc.source,
            start=s,
            end=e,
            text=doc.text[s:e],
            title=doc.title,
            date=doc.date,
            outlet=doc.outlet,
        )
        for s, e in spans
    ]


def _pieces(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int, int]]:
    """Sentences as (start, end, tokens); a sentence over the budget is cut at word boundaries."""
    out = []
    for s, e in split_sentences(text, start, end):
        n = count(text[s:e])
        if n <= max_tokens:
            out.append((s, e, n))
        else:
            out.extend(_split_long(text, s, e, max_tokens, count))
    return out


def _split_long(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int, int]]:
    """Cut one over-long sentence into word-aligned parts of at most `max_tokens` each."""
    words = []  # (start, end, tokens)
    i = start
    while i < end:
        while i < end and text[i].isspace():
            i += 1
        j = i
        while j < end and not text[j].isspace():
            j += 1
        if j > i:
            words.append((i, j, count(text[i:j])))
        i = j
    parts: list[tuple[int, int, int]] = []
    cur_start, cur_end, cur_n = -1, -1, 0
    for ws, we, wn in words:
        if wn > max_tokens:  # subtle: one "word" longer than the budget (a URL, a hash): by chars
            if cur_start >= 0:
                parts.append((cur_start, cur_end, cur_n))
                cur_start, cur_n = -1, 0
            parts.extend(_split_chars(text, ws, we, max_tokens, count))
            continue
        if cur_start >= 0 and cur_n + wn > max_tokens:
            parts.append((cur_start, cur_end, cur_n))
            cur_start, cur_n = -1, 0
        if cur_start < 0:
            cur_start = ws
        cur_end, cur_n = we, cur_n + wn
    if cur_start >= 0:
        parts.append((cur_start, cur_end, cur_n))
    return parts


def _split_chars(
    text: str, start: int, end: int, max_tokens: int, count: TokenCounter
) -> list[tuple[int, int, int]]:
    parts = []
    while start < end:
        lo, hi = start + 1, end
        while lo < hi:  # the longest prefix that fits the budget
            mid = (lo + hi + 1) // 2
            if count(text[start:mid]) <= max_tokens:
                lo = mid
            else:
                hi = mid - 1
        parts.append((start, lo, count(text[start:lo])))
        start = lo
    return parts


def _pack(
    pieces: list[tuple[int, int, int]], max_tokens: int, overlap_tokens: int
) -> list[tuple[int, int]]:
    """Greedy packing; each chunk after the first repeats trailing pieces of the previous one
    (at most `overlap_tokens` of them) so a fact split across a boundary is still found whole."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(pieces):
        j, total = i, 0
        while j < len(pieces) and total + pieces[j][2] <= max_tokens:
            total += pieces[j][2]
            j += 1
        j = max(j, i + 1)  # a piece alone always fits (pieces are <= max_tokens)
        spans.append((pieces[i][0], pieces[j - 1][1]))
        if j >= len(pieces):
            break
        # subtle: the overlap must leave room for the next new piece, or packing would not advance
        budget = min(overlap_tokens, max_tokens - pieces[j][2])
        back, kept = j, 0
        while back - 1 > i and kept + pieces[back - 1][2] <= budget:
            back -= 1
            kept += pieces[back][2]
        i = back
    return spans
