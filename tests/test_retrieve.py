import pytest

from rag.index import fts_query
from rag.retrieve import rrf, search


@pytest.mark.parametrize(
    "rankings, expected",
    [
        ([[1, 2, 3]], [1, 2, 3]),
        ([[1, 2], [2, 1]], [1, 2]),  # a tie keeps first appearance
        ([[1, 2, 3], [3]], [3, 1, 2]),  # agreement of two rankers beats one top rank
        ([[], []], []),
    ],
)
def test_rrf(rankings, expected):
    assert [i for i, _ in rrf(rankings, k=1)] == expected


@pytest.mark.parametrize(
    "query, expected",
    [
        ("Raufoglu", '"raufoglu"'),
        ('he said "NOT" OR* (x', '"he" OR "said" OR "not" OR "or" OR "x"'),
        ("7-2 vote", '"7" OR "2" OR "vote"'),
        ("   ", ""),
    ],
)
def test_fts_query_never_passes_user_syntax(query, expected):
    assert fts_query(query) == expected


@pytest.mark.parametrize(
    "query, source, phrase",
    [
        ("Raufoglu", "seeds/004_e87519febac53f09.txt", "Alex Raufoglu"),
        ("What did Zakharova say about honest mediators?", "seeds/000_5b9d689dbf11e4c1.txt", "honest mediator"),
        ("border crossing point sovereign right", "seeds/004_e87519febac53f09.txt", "sovereign right"),
        ("ethnic cleansing in Karabakh", "seeds/000_5b9d689dbf11e4c1.txt", "ethnic cleansing"),
    ],
)
def test_hybrid_search_finds_the_passage(seed_index, embedder, query, source, phrase):
    index, settings = seed_index
    hits = search(index, embedder, query, 3, settings)
    assert hits[0].chunk.source == source
    assert phrase in hits[0].chunk.text
    assert hits[0].dense_score is not None and -1.0 <= hits[0].dense_score <= 1.0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_lexical_ranker_rescues_a_rare_name(seed_index, embedder):
    index, settings = seed_index
    hits = search(index, embedder, "Raufoglu", 5, settings)
    assert hits[0].lexical_rank == 1


def test_empty_query_returns_nothing(seed_index, embedder):
    index, settings = seed_index
    assert search(index, embedder, "   ", 5, settings) == []
