"""Citation parsing and support checks (pure logic, plus the real embedding model)."""

import numpy as np
import pytest

from rag.cite import (
    Draft,
    assess,
    content_stems,
    counted,
    evidence_speakers,
    listed,
    names,
    numbers,
    parse_drafts,
    passage_sentences,
    same_speaker,
    speakers,
    stem,
)


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


def test_support_must_be_local_not_stitched_across_the_passage(embedder):
    text = ("Ortiz met Reyes in Geneva on Monday. The weather was cold. Delegates ate lunch together. "
            "Officials toured the old town. The talks ran late. Engineers said the dam flooded 12 villages.")
    ev = passage_sentences(1, text, offset=0)
    claim = "Ortiz said the dam flooded 12 villages."
    s = assess(claim, embedder.embed([claim])[0], 1, text, ev, embedder.embed([e.text for e in ev]))
    assert "Ortiz" in s.missing  # Ortiz is in the passage, but nowhere near the flooding figure


def test_words_echoed_from_the_question_must_be_in_the_passage(embedder):
    text = "At least 23 people died in the Tarsa floods, the aid group said."
    ev = passage_sentences(1, text, offset=0)
    claim = "23 people were injured in the Tarsa floods."
    vec, vecs = embedder.embed([claim])[0], embedder.embed([e.text for e in ev])
    question_only = frozenset(content_stems("How many people were injured in the Tarsa floods?") - content_stems(text))
    asked = assess(claim, vec, 1, text, ev, vecs, question_only=question_only)
    # a soft failure: not supported as written, but no fact is wrong, so the judge is asked
    assert asked.echo == ("injur (from the question)",) and not asked.ok(0.55, 0.6) and asked.missing == ()
    died = "23 people died in the Tarsa floods."
    ok = assess(died, embedder.embed([died])[0], 1, text, ev, vecs, question_only=question_only)
    assert ok.ok(0.55, 0.6), ok


def test_hyphenated_names_count_as_their_parts():
    assert set(names("The Kovia-Drenland pact was signed.")) == {stem("Kovia"), stem("Drenland")}


def test_number_words_are_numbers():
    assert numbers("Eleven ships waited for two days, one by one.") == {"11", "2"}
    assert numbers("It took 11 rounds.") == {"11"}


@pytest.mark.parametrize(
    "sentence, expected",
    [
        ("During a call with President Ilham Aliyev of Azerbaijan, Blinken expressed deep concern.", ["Blinken"]),
        ('Blinken "shared his belief that peace was possible," State Department Spokesperson Matthew Miller '
         "said in a readout.", ["Blinken", "State Department Spokesperson Matthew Miller"]),
        ("The Secretary \"also expressed the United States’ deep concern,\" reads the readout.",
         ["The Secretary", "the readout"]),
        ("In turn, the press service of the Azerbaijani President said that Azerbaijan supports the agenda.",
         ["the press service of the Azerbaijani President"]),
        ("“The ministers met,” said a statement issued by the State Department.",
         ["a statement issued by the State Department"]),
        ("According to the prime minister’s press service, Pashinyan emphasized the point.",
         ["Pashinyan", "the prime minister’s press service"]),
        ("Most of the talks will take place at the Training Center.", []),
    ],
)
def test_speakers(sentence, expected):
    assert speakers(sentence) == expected


def test_the_speaker_must_be_the_one_the_evidence_names():
    text = ("Blinken spoke with Aliyev on Sunday. He also expressed deep concern about the checkpoint.\n"
            "In turn, the press service of the Azerbaijani President said Aliyev supports the agenda. "
            "As for the checkpoint, it is Azerbaijan's sovereign right.")
    who = evidence_speakers(passage_sentences(1, text, 0))
    assert stem("Blinken") in who[1]  # "He" continues the sentence before
    assert stem("Aliyev") not in who[1]
    assert {stem("press"), stem("Aliyev")} <= who[3]  # carried on within the paragraph
    assert same_speaker("Aliyev said it is Azerbaijan's sovereign right.", who[3]) == []
    assert same_speaker("The press service said it is a sovereign right.", who[3]) == []
    assert same_speaker("Aliyev expressed deep concern about the checkpoint.", who[1]) == ["Aliyev"]
    assert same_speaker("Turan reported that the checkpoint is a sovereign right.", who[3], ("Turan",)) == []
    assert same_speaker("The checkpoint is a sovereign right.", set()) == []  # no speaker claimed


def test_number_words_that_count_what_the_passage_lists():
    assert counted("Blinken hosted the two foreign ministers.") == {"2": "ministers"}
    assert listed("the foreign ministers, Ararat Mirzoyan and Jeyhun Bayramov, met") == 2
    assert listed("Kovia, Drenland and Tarsa signed") == 3
    text = "Blinken hosted the foreign ministers of Armenia and Azerbaijan, Ararat Mirzoyan and Jeyhun Bayramov."
    ev = passage_sentences(1, text, 0)
    vecs = np.ones((1, 4), np.float32)
    claim_vec = np.ones(4, np.float32) / 4
    assert assess("Blinken hosted the two foreign ministers.", claim_vec, 1, text, ev, vecs).missing == ()
    assert assess("Blinken hosted the three foreign ministers.", claim_vec, 1, text, ev, vecs).missing == ("3",)
