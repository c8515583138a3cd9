"""query -> Hits: dense (FAISS) and lexical (BM25) rankings fused by reciprocal rank fusion.

Small embedding models miss names, numbers and rare words ("Raufoglu", "7-2"); BM25 catches
them. RRF needs no score calibration between the two: score = sum over rankers of 1 / (k + rank).
"""

from __future__ import annotations

from .config import Settings
from .embed import Embedder
from .index import Index
from .records import Hit


def rrf(rankings: list[list[int]], k: int) -> list[tuple[int, float]]:
    """Fuse ranked id lists; ties keep the order of first appearance.

    >>> rrf([[1, 2], [2, 3]], k=60)[0][0]
    2
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, 1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def search(
    index: Index, embedder: Embedder, query: str, k: int, settings: Settings, also: tuple[str, ...] = ()
) -> list[Hit]:
    """The top `k` chunks for `query`, best first. `also`: other wordings of the same need, fused
    in as rankers of their own ("Was it X who said S?" also looks for S alone: the guessed name X
    pulls the ranking toward X's articles, where S is not)."""
    if not query.strip() or len(index) == 0:
        return []
    n = max(settings.candidates, k)
    queries = [query, *(q for q in also if q.strip())]
    vecs = embedder.embed(queries)
    qvec = vecs[0]
    dense = index.dense(qvec, n)
    lexical = index.lexical(query, n)
    rankings = [[i for i, _ in dense], [i for i, _ in lexical]]
    for q, vec in zip(queries[1:], vecs[1:]):
        rankings += [[i for i, _ in index.dense(vec, n)], [i for i, _ in index.lexical(q, n)]]
    fused = rrf(rankings, settings.rrf_k)[:k]
    chunks = index.chunks([i for i, _ in fused])
    dense_rank = {i: r for r, (i, _) in enumerate(dense, 1)}
    cosine = index.cosine(qvec, [i for i, _ in fused])
    lexical_rank = {i: r for r, (i, _) in enumerate(lexical, 1)}
    return [
        Hit(
            chunk=chunks[i],
            score=score,
            dense_rank=dense_rank.get(i),
            lexical_rank=lexical_rank.get(i),
            dense_score=cosine[i],
        )
        for i, score in fused
    ]
