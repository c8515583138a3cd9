"""Pure logic: speakers, loaded terms in the narrator's voice, verbatim quotes, attribution, UER."""

from pathlib import Path

import pytest

from rag import neutrality
from rag.cite import changes
from rag.claims import find_speaker, source_label
from rag.summarize import with_marks

TERMS = neutrality.load_terms()


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("According to Armenia’s foreign ministry, the situation was discussed.", "Armenia’s foreign ministry"),
        ("In turn, the press service of the Azerbaijani President said that Aliyev noted it.",
         "the press service of the Azerbaijani President"),
        ("“Such announcements do not attest to constructive efforts,” said Zakharova.", "Zakharova"),
        ("The gates stay closed until April, Pashinyan’s office said.", "Pashinyan’s office"),
        ("Aliyev also said that the rights of the population will be ensured.", "Aliyev"),
        ("He said the talks went well.", None),  # a pronoun: the paragraph names the speaker
        ("The talks resumed on Monday in Vienna after a pause.", None),
    ],
)
def test_find_speaker(sentence, speaker):
    assert find_speaker(sentence) == speaker


def test_loaded_terms_count_only_in_the_narrators_voice():
    assert neutrality.loaded_terms("Officials described the illegal blockade of the road.", TERMS) == [
        "illegal", "blockade"]
    assert neutrality.loaded_terms("Ortiz said “the illegal dam flooded villages”.", TERMS) == []
    assert neutrality.loaded_terms("Terrorists and occupation forces, he claimed.", TERMS) == [
        "Terrorists", "occupation", "claimed"]
    assert neutrality.loaded_terms("A preoccupied official said the talks were constructive.", TERMS) == []
    assert neutrality.loaded_terms("Residents of Artsakh were evacuated.", TERMS) == ["Artsakh"]


def test_verbatim_ignores_quote_marks_and_spacing_but_not_words():
    source = "Blinken “shared his belief that peace was possible,” the  readout said."
    assert neutrality.verbatim("shared his belief that peace was possible,", [source])
    assert neutrality.verbatim("Blinken ‘shared his belief", [source])
    assert not neutrality.verbatim("shared his hope that peace was possible", [source])
    assert not neutrality.verbatim("", [source])


def test_attribution_needs_the_speaker_and_a_reporting_verb():
    assert neutrality.attributed("Upland's energy minister Tomas Reyes said the dam is safe.", "Tomas Reyes")
    assert neutrality.attributed("According to Turan, talks begin today.", "Turan")
    assert not neutrality.attributed("The dam is safe.", "Tomas Reyes")
    assert not neutrality.attributed("Reyes toured the dam.", "Tomas Reyes")  # named, but not as saying it
    assert not neutrality.attributed("Turan said the talks begin.", None)


def test_under_representation_is_input_share_minus_summary_share():
    worst, gap = neutrality.under_representation({"a": 0.5, "b": 0.5}, {"a": 1.0, "b": 0.25})
    assert (worst, gap) == ("b", 0.3)
    assert neutrality.coverage([["a"], ["a", "b"], ["b"], ["a"]], ["a", "b"]) == {"a": 0.75, "b": 0.5}


def test_reversed_changes_are_caught():
    assert changes("cut the journey from 40 minutes to 10 minutes") == {("40", "10")}
    assert changes("The journey is cut to 40 minutes from 10 minutes") == {("10", "40")}


def test_label_and_marks():
    assert source_label("a/b.txt", "Turan", "T") == "Turan"
    # a file without an outlet is named by its date, else its file: never by its headline
    assert source_label("a/b.txt", None, "2023-05-01") == "the article of 1 May 2023"
    assert source_label("a/b.txt", None, None) == "the article a/b.txt"
    assert with_marks("Talks begin in Washington D.C.", [1]) == "Talks begin in Washington D.C. [1]."
    assert with_marks("Turan reported: “Talks begin.”", [2, 3]) == "Turan reported: “Talks begin.” [2][3]."


FRAMING = neutrality.load_framing(Path(__file__).resolve().parent.parent / "eval" / "framing_terms.txt")


@pytest.mark.parametrize(
    ("text", "reference", "score", "words"),
    [
        # quotes count: a quoted "massacre" still frames the story
        ("Officials called it a “massacre”.", "Officials described the shooting.", 1.0, ["massacre"]),
        # a word the neutral roundup uses too is not framing
        ("The crisis deepened as protesters clashed with police.", "The crisis over fuel prices grew.",
         1.1, ["clashed", "protesters"]),
        # a trailing * matches endings, whole words only: "preoccupied" is not "occupied"
        ("Brutality and brutal raids; a preoccupied minister.", "A raid took place.", 1.6, ["Brutality", "brutal"]),
        # each occurrence counts, with its tier's weight
        ("Rioters and rioters; critics slammed it.", "Protesters marched.", 2.0, ["Rioters", "rioters", "slammed"]),
        ("Police and marchers met in the square.", "Police and marchers met.", 0.0, []),
        # a word matched by two entries counts once, at the first entry's weight
        ("Accused of war crimes, the cowardly officer was alarming.", "The officer was accused.", 2.4,
         ["war crimes", "cowardly", "alarming"]),
        # entries are whole words or stems of loaded words only: no "executive", "explore", "sober"
        ("The chief executive will explore options, sober and calm.", "", 0.0, []),
    ],
)
def test_framing_score_counts_loaded_words_the_reference_does_not_use(text, reference, score, words):
    assert neutrality.framing_score(text, reference, FRAMING) == (score, words)


def test_the_neutral_reference_scores_zero_against_itself():
    text = "Critics slammed the brutal crackdown, calling it a massacre."
    assert neutrality.framing_score(text, text, FRAMING) == (0.0, [])
    assert neutrality.framing_score(text, "", FRAMING)[0] > 0
