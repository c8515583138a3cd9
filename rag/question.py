"""What kind of thing a question asks for, and whether an answer gives one. Pure logic.

A sentence can be true, cited and on topic and still not answer: asked "When will households be
paid?", "The government said it would pay 5,000 crowns" answers how much, not when. The model's
yes/no judgement misses this often at 1.5B parameters; the question's own words say it plainly.
Only the kinds that can be recognised reliably are checked (a time, a quantity, names asked for
in as many words, "which judge …" and "which hospital …", that ask to name a person or a place or
body); a question of any other kind ("Who …", "Why …", "What did X say …") gives `None` and is left to the judge.
"""

from __future__ import annotations

import re

from .cite import (
    MONTHS,
    STOPWORDS,
    TITLES,
    WEEKDAYS,
    count_the_same,
    known_stems,
    name_runs,
    names,
    numbers,
    quantities,
    spelled_dates,
    stem,
)

_TIME_QUESTION = re.compile(
    r"^\s*(?:(?:and|so|but)\s+)?(?:when\b|(?:on|by|in|at|until|since|from)?\s*(?:what|which)\s+"
    r"(?:date|day|days|weekday|year|month|time|hour|week)\b|what\s+day\s+of\s+the\s+week\b)",
    re.IGNORECASE,
)
_QUANTITY_QUESTION = re.compile(
    r"\bhow\s+(?:many|much)\b(?:\s+(?P<what>[a-z][\w'-]*(?:\s+[a-z][\w'-]*)?))?"
    r"|\b(?:what|which)\s+(?:[a-z]+\s+)?(?:number|percentage|share|amount|sum|figure|price|cost|toll|total|count)\b"
    r"|\bhow\s+(?:large|big|high|long|far|old|heavy|expensive)\b",
    re.IGNORECASE,
)
_WEEKDAYS = " ".join([*(d.lower() for d in WEEKDAYS), "weekend"])
_TIME_WORDS = frozenset(
    f"""{_WEEKDAYS} {" ".join(MONTHS).lower()} today yesterday tomorrow tonight morning afternoon evening night noon
    midnight week weeks month months year years day days hour hours minute minutes ago date dates
    deadline soon later earlier immediately now then season spring summer autumn winter weekly monthly
    daily annually o'clock""".split()
)
_CLOCK = re.compile(r"\b\d{1,2}[:.]\d{2}\b|\b\d{1,2}\s*(?:a\.m\.|p\.m\.|am|pm)\b|\b(?:1[89]|20)\d\d\b", re.IGNORECASE)


_NAME_QUESTION = re.compile(r"\bnames?\s+of\b|\bwhat\s+(?:is|was|are|were)\s+(?:the|his|her|their)\s+names?\b",
                            re.IGNORECASE)


# "Which judge …", "At which hospital …": the question asks to identify one, and only a name does
# ("the Administrative Court will rule" names no judge; "died at the hospital" names none)
_WHICH_QUESTION = re.compile(
    r"^\s*(?:(?:and|so|but)\s+)?(?:(?:at|in|on|from|to|for|by|with|into|near)\s+)?(?:which|what)\s+"
    r"(?!of\b)(?P<words>(?:[\w'’-]+\s*){1,4})",
    re.IGNORECASE,
)
_PERSON_NOUNS = frozenset("""judge spokesperson spokesman spokeswoman politician minister
    official leader artist person man woman lawyer officer mayor governor president candidate author reporter
    journalist doctor nurse captain skipper driver pilot engineer chief director manager executive chairman
    chairwoman commissioner councillor senator lawmaker activist witness pharmacist chef player coach
    prosecutor diplomat ambassador envoy negotiator mediator commander bishop priest teacher owner founder
    painter singer writer scientist researcher economist analyst expert surgeon inspector""".split())
_NAMED_NOUNS = frozenset("""hospital court river lake city town village district province
    region county country company firm team club council station newspaper outlet channel broadcaster ship
    vessel ferry trawler party ministry agency school university bridge port airport street mine colliery
    factory plant museum bank hotel stadium church island airline union government""".split())
# what names a body, not a person: "the Administrative Court", "Estuary Lines", "the Broadcasting Council"
_BODY_WORDS = frozenset(stem(w) for w in """court council ministry department agency office authority
    authorities commission committee board party union government parliament assembly police service
    services inspectorate tribunal company corporation lines railways railway bank group institute association
    federation university hospital school museum newspaper herald post courier press times news radio
    television chamber senate congress administration army navy forces guard foundation fund organization
    organisation watchdog station airline ports port""".split())


def asks_for(question: str) -> str | None:
    """"time", "quantity", "name" (asked for names in as many words), "person" ("Which judge …?"),
    "proper name" ("Which hospital …?") or None (anything else, or unsure)."""
    if _TIME_QUESTION.search(question):
        return "time"
    if _QUANTITY_QUESTION.search(question):
        return "quantity"
    if _NAME_QUESTION.search(question):
        return "name"
    if m := _WHICH_QUESTION.match(question):
        for word in m.group("words").split():  # the noun asked about comes before the verb
            if re.fullmatch(_AUX, word, re.IGNORECASE) or word.lower() == "of":
                break
            nouns = {word.lower(), word.lower().removesuffix("s"), word.lower().removesuffix("es")}  # "stations", not stem(): "governor" is not "government"
            if nouns & _PERSON_NOUNS:
                return "person"
            if nouns & _NAMED_NOUNS:
                return "proper name"
    return None


def kind_noun(kind: str | None) -> str:
    """How a note names what was asked for: "the supported sentences give no person's name"."""
    return {"person": "person's name"}.get(kind or "", kind or "answer")


def _new_names(answer: str, question: str) -> list[list[str]]:
    """The names `answer` gives that `question` does not, each as the stems of its words: a run of
    capitalized words, without titles, months and weekdays; a run that shares a word with a name in
    the question is that name ("Prime Minister Nikol Pashinyan" for "Pashinyan")."""
    asked = set(names(question))
    out = []
    for m in re.finditer(r"[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*", answer):
        run = [s for w in m.group().split() for part in w.rstrip("'’").split("-")
               if len(part) > 1 and (s := stem(part)) in names(part) and s not in _NOT_NAMES]
        if run and not set(run) & asked:
            out.append(run)
    return out


def counted_in_question(question: str) -> set[str]:
    """The word a "how many" question counts, as a counted-word stem: "How many boats ..." -> {"boat"}.
    Not for "how much": "How much rain fell?" is answered in millimetres, not in rains."""
    m = _QUANTITY_QUESTION.search(question)
    what = (m.group("what") or "") if m and re.search(r"\bmany\b", m.group(0), re.IGNORECASE) else ""
    words = [w for w in what.split() if w.lower() not in STOPWORDS | _MODIFIERS]
    return {stem(w).rstrip("s") for w in words[:1]}


# words before the noun a question counts: "How many additional passengers" counts passengers
_MODIFIERS = frozenset("additional extra more new other further separate different".split())


_ASKED_UNIT = re.compile(r"\b(?:what|which)\s+(year|month|day|date|weekday)\b", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b|\b(?:last|this|next|that|the\s+same|the\s+previous|the\s+following)\s+year\b",
                   re.IGNORECASE)
_NUMERIC_DAY = re.compile(r"\b\d{1,2}[./-]\d{1,2}(?:[./-]\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b")
_DAY_WORDS = frozenset(f"{_WEEKDAYS} today yesterday tomorrow tonight".split())
_MONTH_WORDS = frozenset(m.lower() for m in MONTHS)
_NOT_NAMES = frozenset(stem(w) for w in [*MONTHS, *WEEKDAYS]) | TITLES


def quantities_asked(question: str) -> int:
    """How many quantities a question asks for: "How many A and how many B?" -> 2."""
    return len(re.findall(r"\bhow\s+(?:many|much)\b", question, re.IGNORECASE))


_ANOTHER_ASK = re.compile(r",?\s+and\s+(?P<ask>(?:on\s+|at\s+|in\s+|by\s+)?(?:how|what|which|when|where|who)\b)",
                          re.IGNORECASE)


_ASKED = re.compile(r"(?i)(?:on\s+|at\s+|in\s+|by\s+)?(?:how\s+(?:many|much)\s+\S+|(?:what|which)\s+\S+,?|when,?)\s+(.+)")


def parts(question: str) -> list[str]:
    """The questions a question asks at once, each on its own: "How many passengers and how many
    crew were aboard?" -> "How many passengers were aboard?", "How many crew were aboard?";
    "What time did it happen, and on which day?" -> "What time did it happen?", "On which day did
    it happen?" (a part that is only a question word borrows the other's verb). A question that
    asks one thing is its only part."""
    m = _ANOTHER_ASK.search(question)
    if not m:
        return [question]
    first = question[: m.start()].strip().rstrip(",")
    second = question[m.end() - len(m.group("ask")) :].strip()
    if len(first.split()) <= 3 and (tail := _ASKED.match(second)):
        first = f"{first} {tail.group(1)}"  # "How many passengers" borrows "were aboard the ferry?"
    second = re.sub(r"^([^,]{3,30}),\s+", r"\1 ", second).rstrip("?")  # "at what time, did it happen?"
    if not _ASKED.match(second):  # "On which day?" alone would be answered by any day: it borrows the first's verb
        if re.match(rf"(?i){_AUX}", first):
            second = f"{second} {first[:1].lower()}{first[1:]}"  # "Did X meet Y …, and when?"
        elif tail := _ASKED.match(first):
            second = f"{second} {tail.group(1)}"  # "What time did it happen, and on which day?"
    second = second[:1].upper() + second[1:]
    return [first.rstrip("?") + "?", second.rstrip("?") + "?"]


def gives(kind: str | None, answer: str, question: str = "") -> bool:
    """Whether `answer` gives the kind of thing asked for; True when the kind is not checked.

    A time: a weekday, month, year, clock time or a word of time ("within two years", "no date");
    and the unit asked for when the question names one: "What year …?" is not answered by
    "on Tuesday", nor "Which day …?" by "in 2023".
    A quantity: a number; for "how many boats" a number that counts boats (or people, or does not
    say what it counts: "Nine were sent"), not one that counts tonnes of food. "How many A and
    how many B?" is answered in part by one number (`quantities_asked` says how many it asks)."""
    if kind is None:
        return True
    if kind == "name":  # a full name the question does not already give: "the miners killed" has none
        asked = set(names(question))
        return any(not set(run) & asked for run in name_runs(answer))
    if kind in ("person", "proper name"):
        if re.search(r"\b[A-Z][\w'’-]*\s+or\s+[A-Z]", question):
            return True  # "Which leader did he phone first, Pashinyan or Aliyev?": the answer is in the question
        new = _new_names(answer, question)
        # a person is not named by the body they sit on: "the Administrative Court will rule"
        return any(not set(run) & _BODY_WORDS for run in new) if kind == "person" else bool(new)
    words = {w.lower().strip(".,;:!?\"'’”“()") for w in answer.split()}
    if kind == "time":
        unit = _ASKED_UNIT.search(question)
        if unit and unit.group(1).lower() == "year":
            return bool(_YEAR.search(answer))
        if unit and unit.group(1).lower() == "month":
            return bool(words & _MONTH_WORDS or _NUMERIC_DAY.search(answer) or re.search(r"\bmonth\b", answer, re.I))
        if unit:  # a day or a date
            return bool(words & (_DAY_WORDS | _MONTH_WORDS) or _NUMERIC_DAY.search(answer))
        return bool(words & _TIME_WORDS or _CLOCK.search(answer))
    found = numbers(answer)
    if not found:
        return False
    asked = counted_in_question(question)
    if not asked:
        return True
    counts = quantities(answer)
    return any(count_the_same(asked, counts.get(n, set())) for n in found)


_SAYING = (r"say|says|said|call|calls|called|claim|claimed|tell|told|announce|announced|describe|described|"
           r"warn|warned|promise|promised|pledge|pledged|insist|insisted|argue|argued|demand|demanded|state|"
           r"stated|blame|blamed|accuse|accused|express|expressed|deny|denied|reject|rejected|welcome|welcomed|"
           r"praise|praised|criticize|criticized|criticise|criticised|condemn|condemned|predict|predicted|"
           r"urge|urged|suggest|suggested|admit|admitted|confirm|confirmed|propose|proposed|dismiss|dismissed|"
           r"vow|vowed|complain|complained|concede|conceded|estimate|estimated|put|give|gave|report|reported|"
           r"refer|referred|label|labelled|labeled|characterize|characterized|question|questioned|threaten|threatened|"
           r"defend|defended|explain|explained|justify|justified|attribute|attributed")
_AUX = r"(?:did|does|do|has|have|had|was|is|were|are|will|would|can|could)\b"
# the verb is lower case: "Did the State Department ..." has no verb "state"
_WHO_QUESTIONS = [re.compile(p, re.IGNORECASE) for p in (
    r"^\s*(?:was|is|wasn't|isn't)\s+it\s+(?P<who>.+?)\s+(?:who|that)\s+(?P<what>.+?)[?.\s]*$",
    rf"^\s*(?:did|does|has|had|didn't|doesn't)\s+(?P<who>.+?)\s+(?P<what>(?-i:{_SAYING})\b.+?)[?.\s]*$",
    rf"^\s*who\s+(?:was\s+it\s+that\s+|(?:had|has)\s+)?(?P<what>(?-i:{_SAYING})\b.+?)[?.\s]*$",
    rf"^\s*(?:which|what)\s+(?:(?!{_AUX})[\w'’-]+\s+){{1,3}}?(?P<what>(?-i:{_SAYING})\b.+?)[?.\s]*$",
)]


def _who_question(question: str) -> re.Match[str] | None:
    """The match of a who-said-it question, with its statement (`what`) and any guess (`who`)."""
    for pattern in _WHO_QUESTIONS:
        m = pattern.match(question)
        if m and len(m.group("what").split()) >= 3:
            return m
    return None


def statement(question: str) -> str | None:
    """What a who-said-it question says was said: "Was it Castell who said the army would fix the
    roads?" -> "said the army would fix the roads". The sentence of a passage that says it names
    who did; None for any other question."""
    m = _who_question(question)
    return m.group("what") if m else None


def guessed_speaker(question: str) -> set[str]:
    """The name stems of whoever a who-said-it question guesses made the statement ("Was it
    Castell who …?" -> {"castel"}): an answer that repeats the guess needs the evidence to say so
    in as many words, not a judge's nod, because a small model repeats the question's guess."""
    m = _who_question(question)
    return set(names(m.group("who"))) if m and "who" in m.re.groupindex else set()


_REACTION = (r"say|said|tell|told|think|thought|react|reacted|respond|responded|reply|replied|answer|answered|make|made|"
             r"warn|warned|describe|described|call|called|write|wrote|"
             r"feel|felt|claim|claimed|argue|argued|want|wanted|propose|proposed|promise|promised|demand|demanded|"
             r"decide|decided|do|did|announce|announced")
_WHOSE_WORDS = re.compile(
    rf"^\s*(?:what|how|why)\s+(?:did|does|do|has|have|had|will|would)\s+(?P<who>.+?)\s+(?-i:{_REACTION})\b"
    r"|^\s*what\s+(?:is|was|were|are)\s+(?P<owner>.+?)['’]s?\s+(?:reaction|response|position|view|stance|answer|plan|demand)\b",
    re.IGNORECASE,
)


def whose_words(question: str) -> set[str]:
    """The name stems of whoever a question asks the words or deeds of ("How did Kovia's steel
    producers react?" -> {"kovia"}): an answer about what someone else said does not answer it.
    Empty when the question names no one ("What did the union say?" may be any of its officials)."""
    m = _WHOSE_WORDS.match(question)
    if not m:
        return set()
    return set(names(m.group("who") or m.group("owner")))


_COMPASS = frozenset("western eastern northern southern".split())  # "Western mediation": a side, not a name


def unmet_names(question: str, text: str) -> list[str]:
    """The names in `question` that `text` never mentions, in any of their spellings.

    An answer drawn from passages that never name whom or what the question names is about
    something else: asked about "Blinken's call with Pashinyan", a readout of his call with Aliyev
    is a near miss, however well it is worded. `text` is where the answer comes from (the cited
    passages with their headers), not the answer's sentences, which may say "he"."""
    have = known_stems(f"{text} {spelled_dates(text)}")  # "2026-03-04" in a header is March
    asked = names(question)
    first = question.split()[0].strip("\"'“‘") if question.split() else ""
    return [w for s, w in asked.items()
            if s not in have and not (w == first and w.lower().endswith("ly"))  # "Roughly how many …"
            and w.lower() not in _COMPASS]
