import pytest

from rag.sentences import split_sentences


def texts(s: str) -> list[str]:
    return [s[a:b] for a, b in split_sentences(s)]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("One. Two.", ["One.", "Two."]),
        ("Antony J. Blinken spoke. Then left.", ["Antony J. Blinken spoke.", "Then left."]),
        ("The U.S. Secretary met them. Talks began.", ["The U.S. Secretary met them.", "Talks began."]),
        ("Mr. Smith said so. Dr. Who too.", ["Mr. Smith said so.", "Dr. Who too."]),
        ("He said “peace.” Then he left.", ["He said “peace.”", "Then he left."]),
        ("Headline without stop\nBody starts here.", ["Headline without stop", "Body starts here."]),
        ("Is it? Yes! 25 million people.", ["Is it?", "Yes!", "25 million people."]),
        ("outside of Washington D.C., TURAN has learned.", ["outside of Washington D.C., TURAN has learned."]),
        ("  padded.  \n\n  ", ["padded."]),
        ("", []),
        ("a 3.5 percent rise. ok", ["a 3.5 percent rise. ok"]),
    ],
)
def test_split_sentences(text, expected):
    assert texts(text) == expected


def test_spans_are_exact_offsets():
    text = "  First one.  Second one!\n\nThird"
    for start, end in split_sentences(text):
        assert text[start:end] == text[start:end].strip() and text[start:end]


def test_respects_bounds():
    text = "Skip me. Keep this. And this. Not this."
    start = text.index("Keep")
    end = text.index(" Not")
    assert [text[a:b] for a, b in split_sentences(text, start, end)] == ["Keep this.", "And this."]
