"""Parse the model's cited sentences and verify each citation against its passage. Pure logic
plus the embedding model passed in.

A sentence is supported by a passage when
  * it means much the same as one of the passage's sentences (cosine >= `min_cosine`), and
  * its content words mostly occur in the passage (`min_overlap`, crude stemming tolerates
    inflection), and
  * every number and every name in it occurs in the passage: cosine alone cannot tell
    "25 million" from "18 million", nor Blinken from Bayramov.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .sentences import split_sentences

STOPWORDS = frozenset(
    """a an the and or but if of to in on at by for with from as into about over after before
    between during under than that this these those there here it its it's is are was were be been
    being has have had do does did will would shall should can could may might must not no nor so
    such too very also just only both each other any all some more most own same which who whom
    whose what when where why how he she they them their his her him we our you your i me my mr
    mrs ms said says say told according stated added noted while however on upon""".split()
)
_WORD = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_NUM = r"(\d[\d,.]*\d|\d)"
_FROM_TO = re.compile(rf"\bfrom\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}[^.;]{{0,40}}?\bto\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}", re.I)
_TO_FROM = re.compile(rf"\bto\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}[^.;]{{0,40}}?\bfrom\s+(?:[^\s\d]+\s+){{0,3}}?{_NUM}", re.I)
_CITED = re.compile(r"(?P<text>[^\[\]]*?)(?P<cites>(?:\s*\[\d+\])+)\s*\.?")

# Verbs that attribute a statement or a stance to someone: "X said / expressed / called ...".
SPEECH_VERBS = (
    "said|says|say|stated|states|told|tells|added|adds|noted|notes|emphasized|emphasised|emphasizes|stressed|"
    "stresses|expressed|expresses|underscored|underscores|reiterated|reiterates|declared|declares|announced|"
    "announces|confirmed|confirms|insisted|insists|warned|warns|urged|urges|called|calls|described|describes|"
    "characterized|characterised|shared|shares|pledged|pledges|mentioned|mentions|wrote|writes|reported|"
    "reports|claimed|claims|accused|accuses|denied|denies|argued|argues|believes|voiced|voices|welcomed|"
    "welcomes|condemned|condemns|criticized|criticised|praised|promised|vowed|demanded|asked|explained|"
    "replied|responded|assured|acknowledged|admitted|agreed|rejected|dismissed|highlighted|reads|blamed"
)
_NAME_RUN = r"(?:[A-Z][\w’'.-]*\s+(?:and\s+)?){0,4}[A-Z][\w’'-]*"
_ADV = r"(?:(?:also|again|then|later|earlier|only|further|repeatedly|publicly|previously|has|have|had)\s+)*"
# "Brinmoor mayor Tomas Greve on Monday announced": when it was said, between the speaker and the verb
WEEKDAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_WHEN = (rf"(?:,?\s*(?:late\s+|early\s+)?on\s+(?:{'|'.join(WEEKDAYS)})"
         r"(?:\s+(?:morning|afternoon|evening|night))?,?)?")
# lower-case words that may lead into a speaker's name ("mayor Tomas Greve"), never a preposition
_LEAD = r"(?:(?!(?:on|in|at|by|for|from|with|to|of|after|before|during|since|until)\s)[a-z][\w’'-]*\s+)"
# "Blinken (also) expressed", "the press service of the Azerbaijani President said", "He added"
_SUBJECT_SPEAKS = re.compile(
    rf"\b(?P<who>(?:[Tt]he\s+)?{_LEAD}{{0,3}}?{_NAME_RUN}(?:\s+of\s+(?:the\s+)?{_NAME_RUN})?"
    rf"|[Tt]he\s+[a-z][\w’'-]*(?:\s+[a-z][\w’'-]*){{0,2}}(?:\s+of\s+(?:the\s+)?{_NAME_RUN})?"
    rf"|[Hh]e|[Ss]he|[Tt]hey|[Ii]t)[”\"’']?{_WHEN}\s+[“\"‘']?{_ADV}(?:{SPEECH_VERBS})\b"
    r"(?<!denied(?=\s(?:them|him|her|us|me)\b))"  # "a victory the voters had denied them": refused, not said
)
# "Piet Vos, Drenland's economy minister, said ...": the name, not what follows "said", speaks.
_APPOSITIVE_SPEAKS = re.compile(rf"(?:^|\bthat\s+)(?P<who>{_NAME_RUN}),\s+[^,.;]{{3,80}},\s+{_ADV}(?:{SPEECH_VERBS})\b")
# "..., said X." / "..." reads the readout.
_SPEAKS_AFTER = re.compile(rf"(?:,[”\"]?|(?<=\S)[”\"])\s*(?:{SPEECH_VERBS})\s+(?P<who>[^,.”\"]{{2,80}})")
_ACCORDING = re.compile(r"\b[Aa]ccording to (?P<who>[^,.”\"]{3,80})")
_SUBJECT = re.compile(rf"(?<![\w’'-])(?P<who>{_NAME_RUN}(?:\s+of\s+(?:the\s+)?{_NAME_RUN})?)")
_PREPOSITION = re.compile(r"\b(?:with|to|of|by|from|for|on|at|in|between|about|against|over|into|after|before|"
                          r"near|outside|inside|under|through|across|among)\s+(?:the\s+|a\s+)?$", re.IGNORECASE)
_PRONOUN_SPEAKERS = frozenset("he she they it the secretary".split())
# Words a question lends an answer that say how, not what: "Who gave the readout?" ->
# "Miller gave the readout" where the article says "said in a readout". Not evidence either way.
LIGHT_WORDS = frozenset(
    """give gave given make made take took taken get got hold held happen happens happened occur
    occurred describe described characterize characterized characterise characterised respond responded
    react reacted view views viewed see saw think thought feel felt call called tell told speak spoke spoken
    talk talked mention mentioned discuss discussed comment commented express expressed state stated
    report reported explain explained name named refer referred regard regarded position stance
    role reaction response opinion place places""".split()
)
# An answer sentence about the sources instead of the news ("All state that ...", "Both passages
# agree ...") generalizes where sources may disagree; such a sentence is never supported.
_META = re.compile(
    r"^(?:all|both|each|every|the|these|several|most|many)?\s*(?:of\s+the\s+)?(?:sources?|passages?|articles?|"
    r"reports?|documents?|outlets?)\b|^(?:all|both)\s+(?:state|say|agree|report|mention|claim|confirm)|"
    r"\b(?:all|both)\s+(?:sources|passages|articles|documents|outlets)\s+(?:state|say|agree|report|confirm)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Draft:
    """One sentence as the model wrote it, with the passage numbers it cited."""

    text: str
    citations: tuple[int, ...]


@dataclass(frozen=True)
class Evidence:
    """One sentence of a retrieved passage, with offsets into the source file."""

    passage: int  # 1-based number of the passage in the prompt
    start: int
    end: int
    text: str
    paragraph: int = 0  # paragraph number within the passage: reported speech carries on inside one


@dataclass(frozen=True)
class Support:
    passage: int
    cosine: float  # best cosine between the claim and one sentence of the passage
    overlap: float  # share of the claim's content words found in the passage
    missing: tuple[str, ...]  # numbers and names of the claim not found in the passage, wrong speakers
    best: Evidence | None  # the passage's sentence closest to the claim: the quote to show
    echo: tuple[str, ...] = ()  # words the claim took from the question that the passage does not have

    def ok(self, min_cosine: float, min_overlap: float) -> bool:
        return not self.missing and not self.echo and self.cosine >= min_cosine and self.overlap >= min_overlap

    def plausible(self, min_cosine: float) -> bool:
        """No fact is wrong, only the wording differs (low similarity or overlap, a word from the
        question): worth asking whether the sentence says the same in other words."""
        return not self.missing and self.best is not None and self.cosine >= min_cosine


def parse_drafts(text: str) -> list[Draft]:
    """Split model output into sentences with citations; text after the last citation is kept
    with no citation (the verifier then looks for a passage that supports it)."""
    drafts: list[Draft] = []
    pos = 0
    for m in _CITED.finditer(text):
        if not m.group("cites").strip():
            continue
        cites = tuple(int(n) for n in re.findall(r"\d+", m.group("cites")))
        body = m.group("text").strip()
        pos = m.end()
        for s, e in split_sentences(body):
            drafts.append(Draft(_clean(body[s:e]), cites))
    tail = text[pos:].strip()
    for s, e in split_sentences(tail):
        drafts.append(Draft(_clean(tail[s:e]), ()))
    kept: dict[str, Draft] = {}  # a small model in a loop repeats its last sentence: once is enough
    for d in drafts:
        if len(d.text.split()) >= 3 and "not in sources" not in d.text.lower():
            kept.setdefault(" ".join(_WORD.findall(d.text.lower())), d)
    return list(kept.values())


_INPUT = r"(?:the\s+|this\s+|these\s+)?(?:given\s+|provided\s+|retrieved\s+)?(?:passages?|sentences?|sources?|articles?|texts?|information|context)(?:\s*\[\d+\])?"
# What the model says around a claim instead of the claim: "Yes, ...", "According to the passage,
# ...", "The passage states that ...". Unframed, the claim is checked (and shown) on its own; a
# frame naming a real speaker ("According to Turan, ...") is an attribution and stays.
_FRAME = re.compile(
    rf"^(?:(?:yes|no)\b\s*[,.;:!\u2014-]\s*|(?:according\s+to|based\s+on|as\s+(?:stated|mentioned|reported)\s+in|as\s+per)\s+"
    rf"{_INPUT}\s*,\s*|{_INPUT}\s+(?:clearly\s+)?(?:states?|says?|mentions?|reports?|indicates?|notes?|shows?)\s+(?:that\s+)?)",
    re.IGNORECASE,
)


def unframe(sentence: str) -> str:
    """The claim inside the model's frame: "Yes, according to the passage, X said ..." -> "X said ..."."""
    s = sentence.strip()
    while (m := _FRAME.match(s)) and m.end() < len(s):
        s = s[m.end():].lstrip()
    return s[:1].upper() + s[1:] if s != sentence.strip() else s


def _clean(s: str) -> str:
    s = unframe(s.strip())
    return s if s.endswith((".", "!", "?", '"', "”")) else s + "."


def stem(word: str) -> str:
    """Crude, deliberately: lowercase, drop possessives and plural/verb endings, keep 6 chars."""
    w = word.lower().replace("’", "'")
    w = re.sub(r"'s?$", "", w)
    for suffix in ("ing", "ed", "es", "s"):
        if len(w) > len(suffix) + 3 and w.endswith(suffix):
            w = w[: -len(suffix)]
            break
    if len(w) > 4 and w.endswith("e"):  # "remove" and "removed" -> "remov"
        w = w[:-1]
    return w[:6]


_LIGHT_STEMS = frozenset(stem(w) for w in LIGHT_WORDS)
# "according to the passage / the sources": the model talking about its input, not naming a speaker
_INPUT_WORDS = frozenset(stem(w) for w in "passage passages source sources article articles text report reports "
                         "document documents sentence sentences".split())


def content_stems(text: str) -> set[str]:
    """Stems of the content words; hyphenated compounds count as their parts ("Kovia-Drenland")."""
    words = [p for w in _WORD.findall(text) for p in w.split("-") if p]
    return {stem(w) for w in words if w.lower() not in STOPWORDS and not w[0].isdigit()}


_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty".split()) if i >= 2}  # "one" is too often not a number
_NUMBER_WORD = re.compile(rf"\b({'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)


def numbers(text: str) -> set[str]:
    """Numbers as digits, number words included: "within two years" must not pass for "no date"."""
    found = {n.rstrip(".,").replace(",", "") for n in _NUMBER.findall(text)}
    return found | {_NUMBER_WORDS[w.lower()] for w in _NUMBER_WORD.findall(text)}


_COUNTED = re.compile(rf"\b(?:the\s+)?({'|'.join(_NUMBER_WORDS)})\s+(?:[a-z]+\s+){{0,2}}?([a-z]+s)\b", re.IGNORECASE)
_LISTED = re.compile(r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*(?:\s*,\s*[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*)*\s+and\s+[A-Z]")


def counted(text: str) -> dict[str, str]:
    """Number words that count something plural: {"2": "ministers"} for "the two foreign ministers"."""
    return {_NUMBER_WORDS[w.lower()]: noun for w, noun in _COUNTED.findall(text)}


def listed(text: str) -> int:
    """The longest list of names joined by "and" ("Mirzoyan and Bayramov" -> 2): a passage that
    names both ministers supports "the two ministers" without ever writing "two"."""
    best = 0
    for m in _LISTED.finditer(text):
        best = max(best, m.group(0).count(",") + 2)
    return best


_QUANTITY = re.compile(rf"\b(?:\d[\d,.]*\d|\d|{'|'.join(_NUMBER_WORDS)})\b", re.IGNORECASE)
_COUNTED_AFTER = re.compile(r"^-?\s*(?:of\s+(?:its|the|their|his|her|our)\s+)?([^.,;:!?()\"“”]*)")
# Counted words that fit anything counted: "23 people" may be "23 victims"
_SCALES = frozenset("hundred thousand million billion trillion m bn".split())
GENERIC_COUNTED = frozenset(stem(w).rstrip("s") for w in "people persons percent per cent times".split())


def quantities(text: str) -> dict[str, set[str]]:
    """What each number counts: the content words right after it, up to the first function word
    ("nine victims in ..." -> {"9": {"victim"}}, "4,000 of its members" -> {"4000": {"member"}}).
    A number followed by nothing countable (a date, the end of a clause) maps to an empty set."""
    found: dict[str, set[str]] = {}
    for m in _QUANTITY.finditer(text):
        raw = m.group(0)
        n = _NUMBER_WORDS.get(raw.lower(), raw.rstrip(".,").replace(",", ""))
        words: list[str] = []
        for w in _COUNTED_AFTER.match(text[m.end():]).group(1).split():  # type: ignore[union-attr]
            if w.lower() in _SCALES:  # part of the number: "62 million crowns" counts crowns
                continue
            if w.lower() in STOPWORDS or not w[0].isalpha() or len(words) == 3:
                break
            words.append(stem(w.strip("'’-")).rstrip("s"))  # "days" and "three-day" count the same
        found.setdefault(n, set()).update(words)
    return found


# Counted words that name the same people in news reports: 4,000 "workers" joined a strike the union
# counts as 4,000 "members". A count of victims stays a count of victims.
_SAME_COUNT = [frozenset(stem(w).rstrip("s") for w in group.split()) for group in (
    "workers members employees staff strikers dockworkers dockers unionists labourers laborers",
    "deaths dead victims killed bodies fatalities lives",
    "vehicles cars lorries trucks",
)]


def _counted_as(words: set[str]) -> set[str]:
    return words | {f"group{i}" for i, group in enumerate(_SAME_COUNT) if words & group}


# Units of money, size and time: "23 people" may be "23 victims", never "5,000 crowns" or "two metres"
MEASURES = frozenset(stem(w).rstrip("s") for w in """crowns euros dollars pounds francs manats drams roubles rubles
    yuan yen lira rupees metres meters kilometres kilometers km miles hectares acres tonnes tons kilograms kg
    litres liters gallons millimetres millimeters mm centimetres cm cubic seconds minutes hours days weeks months
    years""".split())


def _people_in_units(people: set[str], units: set[str]) -> bool:
    return bool(people & GENERIC_COUNTED and units & MEASURES and not units & GENERIC_COUNTED)


def count_the_same(a: set[str], b: set[str]) -> bool:
    """Whether two sets of counted words (from `quantities`) can count the same thing."""
    if _people_in_units(a, b) or _people_in_units(b, a):
        return False
    return bool(not a or not b or a & GENERIC_COUNTED or b & GENERIC_COUNTED or _counted_as(a) & _counted_as(b))


def rival_figures(answer: str, text: str, known: set[str] | frozenset[str] = frozenset()) -> set[str]:
    """The numbers of `text` that count what a number of `answer` counts, with another value (and
    not in `known`): "as many as 600,000 people may be affected" against "the records of about
    230,000 people"; "only two boxes arrived late" against "four boxes were tampered with". A
    number that counts nothing nameable, or something else, is no rival figure, nor a measure of
    the thing counted ("the 14-metre trawler" against "two of the trawler's crew")."""
    given = {n: words for n, words in quantities(answer).items() if words}

    def rivals(words: set[str], other: set[str]) -> bool:
        return bool(_counted_as(words) & _counted_as(other)) and (words & MEASURES) == (other & MEASURES)

    return {n for n, words in quantities(text).items()
            if words and n not in given and n not in known and any(rivals(words, o) for o in given.values())}


def miscounted(claim: dict[str, set[str]], haystack: dict[str, set[str]]) -> list[str]:
    """Numbers the claim counts one thing with and the passage only ever counts another with:
    "Open Hands has 9 volunteers" against "the group's volunteers had found the nine victims"."""
    wrong = []
    for n, words in claim.items():
        if n in haystack and not count_the_same(words, haystack[n]):
            wrong.append(n)
    return wrong


MONTHS = "January February March April May June July August September October November December".split()
_NUMERIC_DATE = re.compile(r"\b(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})([./])(\d{1,2})\5(\d{4}|\d{2}))\b")


def spelled_dates(text: str) -> str:
    """Numeric dates written out ("30.04.23" -> "30 April 2023", "2023-05-01" -> "1 May 2023"),
    so that "April 30" is found in a dateline. Slashed dates that could be either order give both."""
    out = []
    for m in _NUMERIC_DATE.finditer(text):
        if m.group(1):
            orders = [(int(m.group(3)), int(m.group(2)), m.group(1))]
        else:
            a, b, year = int(m.group(4)), int(m.group(6)), m.group(7)
            year = year if len(year) == 4 else f"20{year}"
            orders = [(a, b, year)] if m.group(5) == "." or a > 12 else [(b, a, year)] if b > 12 else [(a, b, year), (b, a, year)]
        out += [f"{d} {MONTHS[mo - 1]} {y}" for d, mo, y in orders if 1 <= mo <= 12 and 1 <= d <= 31]
    return " ".join(out)


_MONTH = "|".join(MONTHS)
_WEEKDAY = "|".join(WEEKDAYS)
_FULL_DATE = re.compile(rf"\b(?:(?P<iy>\d{{4}})-(?P<im>\d{{1,2}})-(?P<id>\d{{1,2}})|(?P<dd>\d{{1,2}})\s+(?P<dm>{_MONTH})\s+(?P<dy>\d{{4}})"
                        rf"|(?P<mm>{_MONTH})\s+(?P<md>\d{{1,2}}),?\s+(?P<my>\d{{4}}))\b")
_WEEKDAY_BEFORE = re.compile(rf"\b({_WEEKDAY}),?\s+(?:the\s+)?$")  # "Monday, 2025-03-06"
_WEEKDAY_AFTER = re.compile(rf",?\s+(?:a\s+)?({_WEEKDAY})\b")  # "March 6, 2025, a Monday"


def weekday_clashes(text: str) -> list[str]:
    """A weekday written with a date it does not fall on: "on Monday, 2025-03-06" (a Thursday).
    Small models pair the day an article names with its dateline; the two facts are each in the
    passage, the pair is false."""
    out = []
    for m in _FULL_DATE.finditer(text):
        before, after = _WEEKDAY_BEFORE.search(text[: m.start()]), _WEEKDAY_AFTER.match(text, m.end())
        if not (before or after):
            continue
        g = m.groupdict()
        try:
            if g["iy"]:
                day = datetime.date(int(g["iy"]), int(g["im"]), int(g["id"]))
            elif g["dd"]:
                day = datetime.date(int(g["dy"]), MONTHS.index(g["dm"]) + 1, int(g["dd"]))
            else:
                day = datetime.date(int(g["my"]), MONTHS.index(g["mm"]) + 1, int(g["md"]))
        except ValueError:
            continue  # not a real date: the number check sees it
        actual = WEEKDAYS[day.weekday()]
        pairs = []  # (the weekday written, the words that pair it with the date)
        if before:
            pairs.append((before.group(1), text[before.start(1) : m.end()]))
        if after:
            pairs.append((after.group(1), text[m.start() : after.end()]))
        out += [f"{span} (a {actual})" for wd, span in pairs if wd != actual]
    return out


# Names a passage may write another way than the answer: abbreviations, and countries against
# their adjectives where the two do not share a stem ("France"/"French"; "Armenia"/"Armenian" do).
_SAME_NAMES = [tuple(g.split("|")) for g in """US|U.S.|USA|United States|America|American|Americans
UK|U.K.|United Kingdom|Britain|British|Great Britain
EU|E.U.|European Union|Europe|European
UN|U.N.|United Nations
NATO|Nato
Netherlands|Dutch
France|French
Germany|German|Germans
Spain|Spanish
Sweden|Swedish
Poland|Polish
Denmark|Danish
Finland|Finnish
Switzerland|Swiss
Turkey|Turkish
Greece|Greek
Ireland|Irish
China|Chinese
Japan|Japanese
Lebanon|Lebanese
Portugal|Portuguese
Vietnam|Vietnamese""".splitlines()]
_DEMONYM_ENDINGS = ("ian", "an", "n", "i", "ese", "ish")


def other_names(text: str) -> str:
    """Other ways of writing the names in `text`, to add to a haystack: "U.S." -> "US United States
    America American ...", "France" -> "French", "Kovia" -> "Kovian", "Drenish" -> "Dren"."""
    out: list[str] = []
    for group in _SAME_NAMES:
        if any(re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text) for name in group):
            out += group
    for word in set(re.findall(r"\b[A-Z][a-z]{3,}\b", text)):  # invented places follow the same rules
        root = word[:-1] if word.endswith(("a", "e", "o", "y")) else word
        out += [root + e for e in _DEMONYM_ENDINGS] + [word + "n"]
        out += [word[: -len(e)] + tail for e in _DEMONYM_ENDINGS if word.endswith(e) and len(word) - len(e) >= 4
                for tail in ("", "a")]
    return " ".join(out)


def known_stems(text: str) -> set[str]:
    """The content stems of `text` and of the other ways of writing its names."""
    return content_stems(text) | content_stems(other_names(text))


def changes(text: str) -> set[tuple[str, str]]:
    """Directed changes "from 40 to 10" (also written "to 10 from 40") as (from, to) pairs:
    the same two numbers in the wrong direction say the opposite."""
    pairs = {(a, b) for a, b in _FROM_TO.findall(text)} | {(b, a) for a, b in _TO_FROM.findall(text)}
    return {(a.replace(",", ""), b.replace(",", "")) for a, b in pairs}


def names(text: str) -> dict[str, str]:
    """Capitalized words (people, places, organisations), as {stem: word as written}."""
    found: dict[str, str] = {}
    for s, e in split_sentences(text):
        words = _WORD.findall(text[s:e])
        for i, w in enumerate(words):
            if not w[0].isupper() or w.lower() in STOPWORDS or len(w) == 1:  # initials: "Antony J. Blinken"
                continue
            # subtle: a sentence-initial word is a name only if it is not an ordinary word
            if i == 0 and w.lower() in _COMMON_INITIALS:
                continue
            for part in w.rstrip("'’").split("-"):  # "Kovia-Drenland": each name must be found
                if part[:1].isupper() and len(part) > 1:
                    found.setdefault(stem(part), part)
    return found


_COMMON_INITIALS = frozenset(
    """during earlier later last next both most many some several officials ministers talks
    peace in on at after before according while despite since meanwhile separately yes no""".split()
)


def about_sources(sentence: str) -> bool:
    """ "All state that ...", "Both passages agree ...": a sentence about the sources, not the news."""
    return bool(_META.search(sentence))


def speakers(sentence: str, subject: bool = False) -> list[str]:
    """Everyone a sentence presents as speaking or taking a stance, as written:
    "Blinken expressed ...", "..., said a statement issued by the State Department", "according to X".
    `subject`: also the sentence's first name that is not the object of a preposition ("Blinken
    also held a call with Pashinyan and underscored ..."), for evidence, where it may be far from its verb."""
    s = " ".join(sentence.split())
    found = [m.group("who") for m in _SUBJECT_SPEAKS.finditer(s)]
    if subject:
        found += [m.group("who") for m in _SUBJECT.finditer(s)
                  if not _PREPOSITION.search(s[: m.start()]) and m.group("who").split()[0].lower() not in _COMMON_INITIALS][:1]
    apposed = list(_APPOSITIVE_SPEAKS.finditer(s))
    found += [m.group("who") for m in apposed]
    found += [m.group("who") for m in _SPEAKS_AFTER.finditer(s)
              if not any(a.start() < m.start() < a.end() for a in apposed)]
    found += [m.group("who") for m in _ACCORDING.finditer(s)]
    return [w.strip(" ,") for w in found if w.strip(" ,")]


TITLES = frozenset(stem(w) for w in """president secretary minister prime foreign spokesperson spokesman
    spokeswoman official officials ministry office press service statement readout department government
    leader chief head deputy state country side general director chairman chair senior mayor governor
    councillor commissioner ambassador""".split())


def _keys(who: str) -> set[str]:
    """What identifies a speaker: its name stems ("Ilham Aliyev" -> ilham, aliyev), or, for
    "the press service", its plain words."""
    stems = content_stems(who)
    return (stems - TITLES) or stems


def _is_pronoun(who: str) -> bool:
    return who.lower() in _PRONOUN_SPEAKERS or not _keys(who) or _keys(who) <= _INPUT_WORDS


def evidence_speakers(evidence: list[Evidence]) -> list[set[str]]:
    """For each evidence sentence, the key stems of who speaks in it. A sentence without a named
    speaker ("He also expressed ...", "As for the checkpoint, it is ...") continues the speech of
    the nearest sentence before it in the same paragraph that names one."""
    out: list[set[str]] = []
    for i, ev in enumerate(evidence):
        keys: set[str] = set()
        found = speakers(ev.text, subject=True)
        named = [w for w in found if not _is_pronoun(w)]
        for w in named:  # all its words: "the press service" matches "the press service of the President"
            keys |= content_stems(w)
        if len(named) < len(found) or not named:
            for j in range(i - 1, -1, -1):
                if evidence[j].paragraph != ev.paragraph:
                    break
                if out[j]:
                    keys |= out[j]
                    break
        out.append(keys)
    return out


def same_speaker(claim: str, who: set[str], known: tuple[str, ...] = ()) -> list[str]:
    """The speakers the claim names that its evidence does not present as speaking (empty: fine).
    `who`: key stems of the evidence's speakers; `known`: other acceptable ones (the outlet)."""
    allowed = set(who)
    for k in known:
        if k:
            allowed |= _keys(k)
    wrong = []
    for w in speakers(claim):
        keys = _keys(w)
        if _is_pronoun(w) or keys & allowed:
            continue
        wrong.append(w)
    return wrong


def assess(
    claim: str,
    claim_vec: np.ndarray,
    passage: int,
    passage_text: str,
    evidence: list[Evidence],
    evidence_vecs: np.ndarray,
    header: str = "",
    question_only: frozenset[str] = frozenset(),
    known_speakers: tuple[str, ...] | None = None,
    only: int | None = None,
) -> Support:
    """How well one passage supports one claim. `evidence` are that passage's sentences.

    Support must be local: the claim's names, numbers and words are looked for in one evidence
    sentence and its two neighbours (so "He said" can lean on the sentence before), not across the
    whole passage, where facts from unrelated sentences could be stitched into a false claim. The
    window with no missing facts whose sentence is most similar wins; that sentence is the quote.
    `only`: judge just that evidence sentence (the one the model named).

    `question_only`: stems of question words that no retrieved passage contains. A claim using
    one is unsupported: small models echo the question ("How many were injured?" -> "23 were
    injured") where every passage says something else ("23 died"). Words that say how rather
    than what ("gave", "described") are exempt.

    `known_speakers` (None: no speaker check): a claim that says who spoke ("Aliyev said ...")
    needs an evidence sentence where that speaker speaks (or one of these, e.g. the outlet):
    the words of a readout put in the wrong mouth are a wrong citation."""
    facts = _Facts.of(claim, question_only)
    runs = name_runs(passage_text)
    titles = frozenset(titled(passage_text)) if facts.titles else frozenset()
    if not len(evidence):
        return _support(facts, passage, passage_text + " " + header, 0.0, None, runs, titles)
    sims = evidence_vecs @ claim_vec
    who = evidence_speakers(evidence) if known_speakers is not None and speakers(claim) else None
    best: Support | None = None
    for i, ev in enumerate(evidence):
        if only is not None and i != only:
            continue
        window = " ".join(e.text for e in evidence[max(0, i - 1) : i + 2])
        s = _support(facts, passage, window + " " + header, float(sims[i]), ev, runs, titles)
        if who is not None:
            wrong = same_speaker(claim, who[i], known_speakers or ())
            if wrong:
                s = Support(s.passage, s.cosine, s.overlap, (*s.missing, *(f"{w} (not the speaker)" for w in wrong)),
                            s.best, s.echo)
        if best is None or _rank(s) > _rank(best):
            best = s
    assert best is not None
    if clashes := weekday_clashes(claim):
        best = Support(best.passage, best.cosine, best.overlap, (*best.missing, *clashes), best.best, best.echo)
    return best


def _rank(s: Support) -> tuple[int, int, float]:
    # not overlap: neighbouring windows share words, so only the cosine tells which sentence it is
    return (-len(s.missing), -len(s.echo), s.cosine)


@dataclass(frozen=True)
class _Facts:
    """What a claim asserts, extracted once and checked against every window of a passage."""

    stems: set[str]
    numbers: set[str]
    counted: dict[str, str]  # number words that count a plural noun: {"2": "ministers"}
    quantities: dict[str, set[str]]  # what each number counts: {"9": {"volunt"}}
    names: dict[str, str]
    changes: set[tuple[str, str]]
    echo: frozenset[str]  # words taken from the question that no passage has
    titles: frozenset[tuple[str, str]]  # ("secret", "blinke") for "Secretary Blinken"

    @classmethod
    def of(cls, claim: str, question_only: frozenset[str]) -> _Facts:
        stems = content_stems(claim)
        return cls(stems, numbers(claim), counted(claim), quantities(claim), names(claim), changes(claim),
                   frozenset(stems & question_only) - _LIGHT_STEMS, frozenset(titled(claim)))


_BREAKS_NAMES = frozenset(SPEECH_VERBS.split("|")) | {w.lower() for w in [*MONTHS, *WEEKDAYS]}


def name_runs(text: str) -> list[list[str]]:
    """The stems of each name of two or more words in `text`, in order ("the Drenska North
    colliery" -> ["drensk", "north"]), without the titles before it."""
    runs = []
    for m in re.finditer(r"(?:[A-Z][\w’'-]*\s+){1,4}[A-Z][\w’'-]*", text):
        run: list[str] = []
        # a headline in title case is not one name: "Blinken Tells Aliyev On A Sunday Call"
        for w in [*m.group().split(), "."]:
            if w == "." or w.lower() in STOPWORDS or w.lower() in _BREAKS_NAMES:
                if len(run) >= 2:
                    runs.append(run)
                run = []
            elif run or stem(w) not in TITLES:
                run.append(stem(w))
    return runs


_TITLED_RUN = re.compile(r"[A-Z][\w’'-]*(?:\s+(?:of\s+(?:the\s+)?)?(?:[A-Z]\.|[A-Z][\w’'-]*))+")


def titled(text: str) -> set[tuple[str, str]]:
    """(title, name) stems for each title written before a name: "Secretary of State Antony J.
    Blinken" -> (secret, blinke), (state, antony), …: what the article calls whom."""
    pairs: set[tuple[str, str]] = set()
    for m in _TITLED_RUN.finditer(text):
        words = [stem(w) for w in m.group().split() if w not in ("of", "the") and not re.fullmatch(r"[A-Z]\.", w)]
        for i, t in enumerate(words):
            if t in TITLES:
                pairs |= {(t, n) for n in words[i + 1:] if n not in TITLES}
    return pairs


def _support(
    facts: _Facts, passage: int, haystack: str, cosine: float, best: Evidence | None, runs: Sequence[list[str]] = (),
    titles: frozenset[tuple[str, str]] = frozenset(),
) -> Support:
    """`runs`: the multi-word names of the whole passage. A window that names one by its head
    ("Drenska" for "Drenska North") supports the rest of it; never by a later word, so "Halloran"
    does not stand for "Petra Halloran" when two Hallorans are in the news. `titles`: the passage's
    (title, name) pairs: "Secretary Blinken" is supported by a window that names Blinken when the
    passage calls him Secretary somewhere, as a title is not news the window must repeat."""
    haystack = f"{haystack} {spelled_dates(haystack)}"
    haystack_stems = content_stems(haystack)
    overlap = len(facts.stems & haystack_stems) / max(1, len(facts.stems))
    haystack_stems |= content_stems(other_names(haystack))
    for run in runs:
        if run[0] in haystack_stems:
            haystack_stems |= set(run)
    haystack_numbers = numbers(haystack)
    missing = sorted(n for n in facts.numbers if n not in haystack_numbers and not _counts(facts, n, haystack))
    missing += sorted(w for s, w in facts.names.items() if s not in haystack_stems
                      and not any(t == s and n in haystack_stems and (t, n) in titles for t, n in facts.titles))
    missing += [f"{n} {' '.join(sorted(facts.quantities[n]))} (the passage counts something else)"
                for n in miscounted(facts.quantities, quantities(haystack))
                if n not in missing and not _counts(facts, n, haystack)]
    haystack_changes = changes(haystack)
    missing += [f"from {a} to {b}" for a, b in sorted(facts.changes) if (b, a) in haystack_changes]
    echo = tuple(f"{w} (from the question)" for w in sorted(facts.echo - haystack_stems))
    return Support(passage, cosine, overlap, tuple(missing), best, echo)


def _counts(facts: _Facts, n: str, haystack: str) -> bool:
    """A number word that counts a plural noun the passage has ("the two foreign ministers") is
    supported when the passage lists that many by name ("Mirzoyan and Bayramov")."""
    noun = facts.counted.get(n)
    return noun is not None and stem(noun) in content_stems(haystack) and listed(haystack) >= int(n)


def passage_sentences(passage: int, text: str, offset: int) -> list[Evidence]:
    """The sentences of a passage, with offsets into the file (`offset` is the chunk's start)."""
    return [Evidence(passage, offset + s, offset + e, text[s:e], text.count("\n", 0, s))
            for s, e in split_sentences(text)]
