"""The eval set and its harness: the set is valid, the metrics compute what eval/README.md says,
and the default model stays above the floors in eval/thresholds.json (slow)."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag import neutrality
from rag.cli import app
from rag.config import Settings
from rag.errors import BadInput
from rag.evaluate import (
    CATEGORIES,
    Question,
    QuestionResult,
    Span,
    aggregate,
    below_floors,
    has_phrase,
    load_set,
    normalize,
    run_questions,
    score_question,
)
from rag.report import table_rows

ROOT = Path(__file__).resolve().parent.parent
SET = ROOT / "eval" / "questions.jsonl"
T7 = ROOT / "eval" / "questions_t7.jsonl"


def test_the_set_is_valid_and_balanced():
    questions, summaries = load_set(SET, ROOT)  # resolves every gold evidence span, or raises
    assert len(questions) >= 60 and len({q.id for q in questions}) == len(questions)
    assert {q.category for q in questions} == set(CATEGORIES)
    unanswerable = [q for q in questions if not q.answerable]
    assert len(unanswerable) >= 0.25 * len(questions)
    assert all(q.category == "unanswerable" for q in unanswerable)
    for q in questions:
        if q.answerable:
            assert q.gold_spans and q.key_facts and set(q.gold_sources) >= {s.source for s in q.gold_spans}, q.id
    events = ROOT / "eval" / "corpora" / "events"
    assert len(list(events.glob("*.txt"))) >= 12
    assert {q.corpus for q in questions} == {"seeds", "eval/corpora/events", "eval/corpora/conflicts",
                                             "eval/corpora/stories_test", "eval/corpora/answers_test",
                                             "eval/corpora/answers_test2", "eval/corpora/answers_test3"}
    test = [q for q in questions if q.split == "test"]  # held out: reported, never tuned on
    assert len(test) >= 30
    _assert_held_out(test, [q for q in questions if q.split == "dev"])
    _, summaries = load_set(ROOT / "eval" / "summaries.jsonl", ROOT)
    assert len(summaries) == 4 and all(s.required_facts for s in summaries)


def test_the_third_held_out_split_is_valid_and_its_own():
    """t7 is held out like t4 and t6: every gold span is verbatim in its article, a quarter or more
    is unanswerable, and its corpus is one no other question uses."""
    t7, _ = load_set(T7, ROOT)
    others, _ = load_set(SET, ROOT)
    assert len(t7) == 60 and {q.split for q in t7} == {"test"} and all(q.id.startswith("t7-") for q in t7)
    assert {q.corpus for q in t7} == {"eval/corpora/answers_test4"}
    assert not {q.id for q in t7} & {q.id for q in others}
    _assert_held_out(t7, others)


def _assert_held_out(test: list, seen: list) -> None:
    """What every held-out split must be: a quarter or more unanswerable, each answerable item
    with gold spans and key facts, each who-said-what item with its real speakers, and only
    corpora that no question in `seen` uses (every seeds question has been looked at)."""
    assert sum(not q.answerable for q in test) >= 0.25 * len(test)
    assert all(q.gold_spans and q.key_facts and set(q.gold_sources) >= {s.source for s in q.gold_spans}
               for q in test if q.answerable)
    assert all(q.speakers for q in test if q.category == "who_said_what")
    assert not {q.corpus for q in test} & {q.corpus for q in seen}


@pytest.mark.parametrize("split", ["dev", "test"])
def test_the_roundups_are_an_editors_neutral_copy_of_whole_stories(split):
    """The framing proxy's references (bench/summarize.py): each covers one gold story whole, at
    an editor's length, with no quotation and no loaded word in its own voice."""
    gold = json.loads((ROOT / "eval" / "stories" / f"{split}_stories.json").read_text(encoding="utf-8"))
    stories = {s["id"]: sorted(s["files"]) for s in gold["stories"]}
    terms = neutrality.load_terms()
    lines = (ROOT / "eval" / "stories" / f"roundups_{split}.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line.strip()]
    assert len(rows) == 5
    for row in rows:
        assert row["corpus"] == gold["corpus"]
        assert sorted(row["files"]) == stories[row["story"]]
        assert 80 <= len(row["reference"].split()) <= 120, row["story"]
        assert neutrality.quotes(row["reference"]) == [], row["story"]
        assert neutrality.loaded_terms(row["reference"], terms) == [], row["story"]


def test_bad_items_are_one_line_errors(tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"id": "x", "question": "q", "corpus": "seeds", "category": "single_source",
                               "answerable": True, "gold_sources": ["000_5b9d689dbf11e4c1.txt"],
                               "gold_evidence": [{"source": "000_5b9d689dbf11e4c1.txt", "text": "not in the file"}],
                               "key_facts": [["x"]]}) + "\n")
    with pytest.raises(BadInput, match=r"bad.jsonl:1: gold evidence not found verbatim"):
        load_set(bad, ROOT)
    bad.write_text('{"id": "x"}\n')
    with pytest.raises(BadInput, match=r"bad.jsonl:1: not a valid item"):
        load_set(bad, ROOT)


def test_key_fact_matching_normalizes_case_and_numbers():
    assert normalize("Eleven ships, 4,000 strikers") == "11 ships 4000 strikers"
    assert has_phrase("Eleven container ships were waiting.", ["11"])
    assert has_phrase("The union said 4,000 joined.", ["4000"])
    assert has_phrase("the talks were at the City Hall.", ["city hall"])
    assert not has_phrase("It happened 140 times.", ["14"])
    assert not has_phrase("No figure was given.", ["14"])


def _result(answerable, abstained, cites, gold, sources, key_facts=(), answer="", verification=None):
    item = Question("q", "?", "c", "contested" if answerable else "unanswerable", answerable, sources,
                    [Span(*g) for g in gold], [list(k) for k in key_facts], ["Okoro"])
    citations = [{"n": i + 1, "source": s, "start": a, "end": b} for i, (s, a, b) in enumerate(cites)]
    ans = {"answer": answer, "abstained": abstained, "citations": citations,
           "sentences": [{"text": answer, "citations": [c["n"] for c in citations], "supported": True}] if cites else [],
           "timings": {"total_ms": 100.0, "prompt_tokens": 10}, "verification": verification or {}}
    r = QuestionResult(item, ans, [Span("a.txt", 0, 50)])
    r.scores = score_question(r)
    return r


def test_metrics_follow_their_formulas():
    good = _result(True, False, [("a.txt", 10, 20)], [("a.txt", 15, 30)], ["a.txt"], [["23"]],
                   "Okoro said 23 died [1].", {"sentences": 2, "sentences_supported_as_cited": 1, "citations": 2,
                                             "citations_supporting": 1, "corrected": 0, "dropped": 1})
    wrong_cite = _result(True, False, [("a.txt", 0, 9), ("b.txt", 0, 9)], [("a.txt", 15, 30)], ["a.txt"], [["14"]],
                         "The toll was 23 [1][2].")
    missed = _result(True, True, [], [("a.txt", 15, 30)], ["a.txt"], [["14"]])
    abstained = _result(False, True, [], [], [])
    answered = _result(False, False, [("a.txt", 0, 5)], [], [], answer="Something [1].")
    m = aggregate([good, wrong_cite, missed, abstained, answered])
    assert m["citation_precision_gold"] == round(1 / 3, 3)  # 1 of 3 citations overlaps gold
    assert m["citation_recall_gold"] == 0.5  # 1 of 2 answered sentences
    assert m["citation_precision_verifier_as_written"] == 0.5 and m["sentences_dropped_by_verifier"] == 0.5
    assert m["source_precision"] == 0.75 and m["source_recall"] == 1.0
    assert m["key_fact_recall"] == round(1 / 3, 3)
    assert m["abstention_precision"] == 0.5 and m["abstention_recall"] == 0.5
    assert m["false_abstention_rate"] == round(1 / 3, 3)
    assert m["contested_attributed"] == 0.5
    assert below_floors(m, {"abstention_recall": 0.9, "key_fact_recall": 0.3}) == [
        "abstention_recall = 0.5 (floor 0.9)"]
    assert below_floors(m, {"false_abstention_rate_max": 0.2}) == ["false_abstention_rate = 0.333 (ceiling 0.2)"]


def test_misattributed_sentences_are_judged_against_the_gold_speakers():
    item = Question("q", "?", "seeds", "who_said_what", True, ["a.txt"], [Span("a.txt", 0, 9)], [["x"]], [],
                    "dev", ["Blinken", "State Department"])

    def scored(*texts):
        ans = {"answer": " ".join(texts), "abstained": False,
               "citations": [{"n": 1, "source": "a.txt", "start": 0, "end": 9, "outlet": "Turan"}],
               "sentences": [{"text": t, "citations": [1], "supported": True} for t in texts],
               "timings": {"total_ms": 1.0, "prompt_tokens": 1}}
        r = QuestionResult(item, ans, [])
        r.scores = score_question(r)
        return r

    m = aggregate([scored("Ilham Aliyev expressed deep concern about the checkpoint.",
                          "The State Department said peace was possible."),
                   scored("Turan reports: “Aliyev said it is a sovereign right.”", "The checkpoint was discussed.")])
    assert m["misattributed_sentences"] == 1 and m["misattributed_rate"] == 0.25


def test_cli_eval_writes_its_reports(shared_embedder, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    small = tmp_path / "small.jsonl"
    lines = [line for line in SET.read_text().splitlines() if '"seeds-01"' in line or '"seeds-u06"' in line]
    small.write_text("\n".join(lines) + "\n")
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["eval", "--set", str(small), "--model", "test", "--out", str(out)])
    assert result.exit_code == 0, result.stderr
    assert "abstention recall" in result.stdout
    run = json.loads((out / "eval.json").read_text())
    assert run["metrics"]["items"] == 2 and len(run["questions"]) == 2
    assert "| metric | value |" in (out / "report.md").read_text()
    assert (out / "metrics.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    again = CliRunner().invoke(app, ["eval", "--set", str(small), "--model", "test", "--out", str(tmp_path / "o2"),
                                     "--compare", str(out / "eval.json")])
    assert again.exit_code == 0, again.stderr


@pytest.mark.slow
def test_default_model_stays_above_the_floors(default_embedder, default_llm, tmp_path, capsys):
    """The regression gate: every held-out item (t4, t6 and t7) with the shipped default model and
    the embedding backend a new index gets. Its figures go to the log either way: CI's run is a
    measurement of the held-out split, and a pass says nothing about how far above the floors."""
    floors = json.loads((ROOT / "eval" / "thresholds.json").read_text())
    test = [q for path in (SET, T7) for q in load_set(path, ROOT)[0] if q.split == "test"]
    assert len(test) == 156
    results = run_questions(test, ROOT, tmp_path / "cache", default_embedder, default_llm, Settings())
    metrics = aggregate(results)
    with capsys.disabled():
        print("\nheld-out test split:", "; ".join(f"{label} {value}" for label, value, _ in table_rows(metrics)))
    failed = below_floors(metrics, floors["floors"])
    assert not failed, failed
