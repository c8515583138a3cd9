"""Citation parsing and support checks (pure logic, plus the real embedding model)."""

import pytest

from rag.cite import Draft, assess, names, numbers, parse_drafts, passage_sentences, stem


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Blinken spoke with Aliyev [1].", [Draft("Blinken spoke with Aliyev.", (1,))]),
        ("A fact is here [1][2]. Another one stands [3].",
         [Draft("A fact is here.", (1, 2)), Draft("Another one stands.", (3,))]),
        ("Most talks were held at the centre. [2]", [Draft("Most talks were held at the centre.", (2,))]),
        ("Two sentences share it. Both are cited [1].",
         [Draft("Two sentences share it.", (1,)), Draft("Both are cited.", (1,))]),
        ("This is cited first [1]. Then an uncited claim follows.",
         [Draft("This is cited first.", (1,)), Draft("Then an uncited claim follows.", ())]),
        ("NOT IN SOURCES", []),
        ("Ok [1].", []),  # too short to be a claim
    ],
)
def test_parse_drafts(text, expected):
    assert parse_drafts(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("25 million people", {"25"}), ("1,200 troops and 3.5 percent", {"1200", "3.5"}), ("no numbers", set())],
)
def test_numbers(text, expected):
    assert numbers(text) == expected


def test_names_skip_ordinary_sentence_starts():
    assert set(names("Officials said Blinken met Aliyev in Washington.").values()) == {
        "Blinken", "Aliyev", "Washington"
    }
    assert stem("Blinken's") == stem("Blinken") and stem("ministers") == stem("minister")


PASSAGE = (
    "The ministry said 25 million people were affected. "
    "Blinken expressed deep concern about the checkpoint on the Lachin corridor. "
    "The talks will continue in Moscow."
)


@pytest.fixture
def evidence(embedder):
    ev = passage_sentences(1, PASSAGE, offset=100)
    return ev, embedder.embed([e.text for e in ev])


def check(embedder, evidence, claim):
    ev, vecs = evidence
    return assess(claim, embedder.embed([claim])[0], 1, PASSAGE, ev, vecs)


def test_offsets_point_into_the_file(evidence):
    ev, _ = evidence
    assert ev[1].text.startswith("Blinken") and ev[1].start == 100 + PASSAGE.index("Blinken")
    assert ev[1].end - ev[1].start == len(ev[1].text)


@pytest.mark.parametrize(
    "claim, supported, missing",
    [
        ("Blinken voiced deep concern about the Lachin corridor checkpoint.", True, ()),
        ("The ministry said 25 million people were affected.", True, ()),
        ("The ministry said 18 million people were affected.", False, ("18",)),  # wrong number
        ("Bayramov expressed deep concern about the checkpoint on the Lachin corridor.", False, ("Bayramov",)),
        ("The talks will continue in Paris.", False, ("Paris",)),
        ("The weather in the region was unusually warm.", False, ()),
    ],
)
def test_support(embedder, evidence, claim, supported, missing):
    s = check(embedder, evidence, claim)
    assert s.ok(min_cosine=0.55, min_overlap=0.6) is supported, s
    assert s.missing == missing


def test_best_evidence_is_the_matching_sentence(embedder, evidence):
    s = check(embedder, evidence, "Blinken was deeply concerned about the Lachin checkpoint.")
    assert s.best is not None and s.best.text.startswith("Blinken expressed")
