"""Citation parsing and support checks (pure logic, plus the real embedding model)."""

import numpy as np
import pytest

from rag.cite import (
    Draft,
    assess,
    content_stems,
    counted,
    evidence_speakers,
    known_stems,
    listed,
    miscounted,
    names,
    numbers,
    parse_drafts,
    passage_sentences,
    quantities,
    rival_figures,
    same_speaker,
    speakers,
    spelled_dates,
    stem,
    titled,
    unframe,
    weekday_clashes,
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
        # a model caught in a loop: the repeat is dropped, wherever it cites
        ("The works were never started [4]. The works were never started [4]. The works were never started. [1]",
         [Draft("The works were never started.", (4,))]),
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


@pytest.mark.parametrize(
    "text, clashes",
    [
        ("The roof fell on Monday, 2025-03-06.", ["Monday, 2025-03-06 (a Thursday)"]),  # the dateline's date
        ("The roof fell on Monday, 2025-03-03.", []),
        ("It opened on Monday 6 March 2025.", ["Monday 6 March 2025 (a Thursday)"]),
        ("He called on Saturday, April 29, 2023.", []),
        ("He spoke on March 6, 2025, a Monday.", ["March 6, 2025, a Monday (a Thursday)"]),
        ("On Monday the talks began; the article is dated 2025-03-06.", []),  # not written as a pair
        ("It fell on Tuesday, 2025-02-30.", []),  # no such date: for the number check, not this one
    ],
)
def test_a_weekday_must_fall_on_the_date_it_is_written_with(text, clashes):
    assert weekday_clashes(text) == clashes


def test_a_weekday_paired_with_the_dateline_is_not_supported(embedder):
    text = "Rescuers recovered the last bodies after Monday's roof collapse."
    ev = passage_sentences(1, text, offset=0)
    claim = "The roof fell on Monday, 2025-03-06."
    s = assess(claim, embedder.embed([claim])[0], 1, text, ev, embedder.embed([e.text for e in ev]),
               header="Drenska toll rises 2025-03-06")
    assert "Monday, 2025-03-06 (a Thursday)" in s.missing


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


def test_a_name_is_supported_by_its_head_elsewhere_in_the_passage(embedder):
    text = ("Rescue teams at the Drenska North colliery worked through the night. "
            "The Drenska collapse was caused by a tremor, the company said. "
            "Dario Halloran of the union spoke to reporters. Halloran said crews had been cut.")
    ev = passage_sentences(1, text, 0)
    vecs = embedder.embed([e.text for e in ev])

    def missing(claim):
        return assess(claim, embedder.embed([claim])[0], 1, text, ev, vecs, only=1).missing

    assert missing("The Drenska North collapse was caused by a tremor.") == ()  # "Drenska" names it
    petra = "Petra Halloran said crews had been cut."  # a surname never stands for another first name
    assert "Petra" in assess(petra, embedder.embed([petra])[0], 1, text, ev, vecs, only=3).missing


@pytest.mark.parametrize(
    "claim, only, missing",
    [
        # the passage calls him Secretary earlier: the title is not news the window must repeat
        ("Secretary Blinken shared his belief that peace was possible.", 3, ()),
        # a title the passage never gives him is a wrong fact
        ("President Blinken shared his belief that peace was possible.", 3, ("President",)),
        # the title belongs to someone else in the passage
        ("Minister Blinken shared his belief that peace was possible.", 3, ("Minister",)),
        # a title is excused only beside a name the window has
        ("Secretary Mirzoyan shared his belief that peace was possible.", 3, ("Mirzoyan", "Secretary")),
    ],
)
def test_a_title_is_supported_by_the_passage_calling_the_name_so(embedder, claim, only, missing):
    text = ("U.S. Secretary of State Antony J. Blinken spoke on Sunday with Foreign Minister Ararat Mirzoyan. "
            "The talks lasted an hour. "
            "They were held by telephone. "
            "Blinken shared his belief that peace was possible.")
    ev = passage_sentences(1, text, 0)
    vecs = embedder.embed([e.text for e in ev])
    assert assess(claim, embedder.embed([claim])[0], 1, text, ev, vecs, only=only).missing == missing


def test_titled_pairs_each_title_with_the_names_after_it():
    assert titled("U.S. Secretary of State Antony J. Blinken said.") == {
        (stem("Secretary"), stem("Antony")), (stem("Secretary"), stem("Blinken")),
        (stem("State"), stem("Antony")), (stem("State"), stem("Blinken"))}
    assert titled("The Secretary and the State Department both expressed concern.") == set()


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
        # a title before the name and the day between the name and the verb; "on Monday" never speaks
        ("Brinmoor mayor Tomas Greve on Monday announced plans for a tram line.", ["mayor Tomas Greve"]),
        ("The port authority on Tuesday evening said the berths were clear.", ["The port authority"]),
        ("Maslan accused his rivals of seeking a victory the voters had denied them.", ["Maslan"]),
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


@pytest.mark.parametrize(
    "claim, evidence, wrong",
    [
        # the passage's nine are victims, not volunteers
        ("Open Hands has 9 volunteers in Tarsa.", "The group's volunteers had found the nine victims in the villages.",
         ["9"]),
        ("The stoppage lasted three days.", "It reopened after a three-day strike.", []),  # hyphenated unit
        ("4,000 union members joined the strike.", "The union said 4,000 of its members had joined.", []),
        ("23 people died.", "At least 23 victims were found.", []),
        ("4,000 workers joined.", "The union said 4,000 of its members had joined.", []),  # the same people  # "people" fits whatever is counted
        ("The bridge cost 62 million crowns.", "It cost 62 million euros.", ["62"]),
        ("The tariff is 25 percent.", "A 25 percent tariff applies.", []),
        ("The talks were on April 30.", "Blinken called on April 30, 2023, before talks.", []),  # a date counts nothing
        ("Nine boats were sent.", "Nine were sent to the villages.", []),  # the passage does not say what
        # people are never counted in money, size or time
        ("2 people fled.", "The river fell two metres.", ["2"]),
        ("5,000 people were paid.", "Households get 5,000 crowns each.", ["5000"]),
    ],
)
def test_a_number_must_count_what_the_passage_counts(claim, evidence, wrong):
    assert miscounted(quantities(claim), quantities(evidence)) == wrong


@pytest.mark.parametrize(
    ("answer", "other", "rivals"),
    [
        # the same thing counted with another value: a rival figure
        ("The leak exposed the records of about 230,000 people.",
         "A security researcher has claimed that as many as 600,000 people may be affected.", {"600000"}),
        ("Four boxes from Lower Docks were tampered with.", "Only two boxes from Lower Docks had arrived late.", {"2"}),
        ("Repairs would cost about 4.2 million crowns.", "Dunmore put the likely bill at eleven million crowns.", {"11"}),
        ("4,000 workers joined the strike.", "The union said 6,000 of its members had joined.", {"6000"}),
        # the same value, something else counted, a measure of the thing, or nothing counted: none
        ("Four boxes were tampered with.", "Four boxes were tampered with, the monitors said.", set()),
        ("The repairs cost 4.2 million crowns.", "Some 62,000 vehicles cross the bridge each day.", set()),
        ("Two of the trawler's four crew were rescued.", "The ferry struck the 14-metre trawler.", set()),
        ("The toll rose to six on Monday.", "Four people were killed and 37 injured.", set()),
        ("About 230,000 people were affected.", "The leak began on 14 August.", set()),
    ],
)
def test_a_rival_figure_counts_what_the_answer_counts(answer, other, rivals):
    assert rival_figures(answer, other) == rivals


def test_a_figure_the_question_gives_is_no_rival():
    assert rival_figures("Four boxes were late.", "Nine boxes vanished.", known={"9"}) == set()


def test_a_miscounted_number_is_a_missing_fact():
    text = "Open Hands coordinator Samuel Okoro said that the group's volunteers had found the nine victims."
    ev = passage_sentences(1, text, 0)
    vecs = np.ones((1, 4), np.float32)
    claim_vec = np.ones(4, np.float32) / 4
    s = assess("Open Hands has nine volunteers.", claim_vec, 1, text, ev, vecs)
    assert s.missing == ("9 volunt (the passage counts something else)",)
    assert not s.plausible(0.0)  # a wrong fact is never put to the judge


@pytest.mark.parametrize(
    "text, spelled",
    [
        ("Washington/30.04.23/Turan: Blinken spoke", "30 April 2023"),
        ("date 2023-05-01 Before Meeting", "1 May 2023"),
        ("filed 25/12/2024", "25 December 2024"),
        ("filed 12/25/2024", "25 December 2024"),
        ("on 03/04/2024", "3 April 2024 4 March 2024"),  # either order: both
        ("version 1.2.3 and 99.99.99", ""),
    ],
)
def test_numeric_dates_are_spelled_out(text, spelled):
    assert spelled_dates(text) == spelled


@pytest.mark.parametrize(
    "claim, speaker",
    [
        ("Piet Vos, Drenland's economy minister, said the deal sets no deadline.", ["Piet Vos"]),
        ("The talks, held in Washington, were useful, said Blinken.", ["Blinken"]),
        ("Yes, Blinken called on the world to respond.", ["Blinken"]),
    ],
)
def test_the_speaker_is_the_name_not_the_clause_or_the_reply(claim, speaker):
    assert speakers(claim) == speaker
    assert "Yes" not in names(claim).values()


@pytest.mark.parametrize(
    "draft, claim",
    [
        ("Yes, according to the passage, Pashinyan called it a violation.", "Pashinyan called it a violation."),
        ("No, interior minister Jonas Weber said so.", "Interior minister Jonas Weber said so."),
        ("The passage states that 180 millimetres of rain fell.", "180 millimetres of rain fell."),
        ("According to the passage [3], 112 people fell ill.", "112 people fell ill."),
        ("According to the sources, the talks began on Monday.", "The talks began on Monday."),
        # a frame that names who says it is an attribution, not a frame
        ("According to Turan, Aliyev said so.", "According to Turan, Aliyev said so."),
        ("Nobody was hurt.", "Nobody was hurt."),
        ("Yesterday the port reopened.", "Yesterday the port reopened."),
        # "Both sources say" generalizes: it stays, and is then refused as a claim about the sources
        ("Both sources say the talks began.", "Both sources say the talks began."),
    ],
)
def test_the_claim_is_taken_out_of_the_models_frame(draft, claim):
    assert unframe(draft) == claim


def test_the_markers_way_around_its_grammar_is_no_sentence():
    assert parse_drafts("Not in SOURCES. [2]") == []
    assert parse_drafts("No, Weber said it [2].") == [Draft("Weber said it.", (2,))]


@pytest.mark.parametrize(
    "claim_name, passage",
    [
        ("US", "U.S. Secretary of State Antony Blinken"),
        ("US", "the United States said"),
        ("United States", "the U.S. said"),
        ("France", "the French and American partners"),
        ("British", "Britain said"),
        ("Kovian", "Kovia signed the pact"),
        ("Kovia", "the Kovian minister"),
        ("Canadian", "Canada said"),
    ],
)
def test_another_way_of_writing_a_name_is_the_same_name(claim_name, passage):
    known = known_stems(passage)
    assert all(stem(word) in known for word in claim_name.split())


@pytest.mark.parametrize("claim_name, passage", [("EU", "the U.S. said"), ("France", "Germany said"),
                                                 ("Weber", "Castell said")])
def test_a_different_name_is_not_an_alias(claim_name, passage):
    assert stem(claim_name) not in known_stems(passage)
