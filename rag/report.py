"""Evaluation reports: the metrics table (terminal and Markdown), the JSON file, the bar chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# (key, label, higher_is_better) in the order the table shows them
ROWS = [
    ("false_abstention_rate", "false abstention rate (answerable refused)", False),
    ("abstention_recall", "abstention recall (unanswerable refused)", True),
    ("misattributed_sentences", "misattributed sentences (wrong speaker, vs gold)", False),
    ("citation_precision_gold", "citation precision (gold spans)", True),
    ("citation_recall_gold", "citation recall (gold spans)", True),
    ("citation_precision_verifier_as_written", "citation precision, model as written (verifier)", True),
    ("citation_recall_verifier_as_written", "citation recall, model as written (verifier)", True),
    ("sentences_dropped_by_verifier", "sentences dropped by the verifier", False),
    ("source_precision", "source precision", True),
    ("source_recall", "source recall", True),
    ("key_fact_recall", "answer correctness (key-fact recall)", True),
    ("abstention_precision", "abstention precision", True),
    ("contested_attributed", "contested answers attributed", True),
    ("misattributed_rate", "misattributed sentences (share of attributed items' sentences)", False),
    ("retrieval_recall_at_k", "retrieval recall@k", True),
    ("latency_ms_p50", "latency p50 (ms)", False),
    ("latency_ms_p95", "latency p95 (ms)", False),
    ("prompt_tokens_mean", "prompt tokens (mean)", False),
    ("summary_fact_coverage", "summaries: required facts covered", True),
    ("summary_checks_pass_rate", "summaries: neutrality checks passed", True),
    ("summary_forbidden_terms", "summaries: forbidden terms in own voice", False),
    ("summary_max_under_representation", "summaries: worst under-representation", False),
    ("summary_model_sentence_share", "summaries: sentences written by the model", True),
    ("summary_nested_quotes", "summaries: sentences with quotes in quotes", False),
    ("summary_max_extracts_per_section", "summaries: most extracts in one section", False),
    ("summary_third_party_as_a_side", "summaries: a mediator under 'differ'", False),
    ("summary_ms_p50", "summaries: time p50 (ms)", False),
]
CHART = ["citation_precision_gold", "citation_recall_gold", "source_precision", "key_fact_recall",
         "abstention_precision", "abstention_recall", "retrieval_recall_at_k", "summary_fact_coverage",
         "summary_checks_pass_rate"]


def table_rows(metrics: dict[str, Any], previous: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """(label, value, change since `previous`) for every metric present."""
    out = []
    for key, label, higher in ROWS:
        if key not in metrics:
            continue
        value = metrics[key]
        change = ""
        old = (previous or {}).get(key)
        if isinstance(value, int | float) and isinstance(old, int | float) and value != old:
            better = (value > old) == higher
            change = f"{'+' if value > old else ''}{value - old:.3g} ({'better' if better else 'worse'})"
        out.append((label, "—" if value is None else f"{value}", change))
    return out


def markdown(run: dict[str, Any], previous: dict[str, Any] | None = None) -> str:
    m = run["metrics"]
    lines = [f"# rag eval: {run['model']}", "",
             f"Set: {', '.join(run['sets'])}; {m.get('items', 0)} questions "
             f"({m.get('answerable', 0)} answerable, {m.get('unanswerable', 0)} unanswerable), "
             f"{m.get('summaries', 0)} summaries; k = {run['k']}.", "",
             "| metric | value |" + (" change |" if previous else ""), "|---|---|" + ("---|" if previous else "")]
    for label, value, change in table_rows(m, previous):
        lines.append(f"| {label} | {value} |" + (f" {change} |" if previous else ""))
    lines += ["", "## By category", "", "| category | items | key-fact recall | citation precision (gold) | "
              "abstention recall | false abstention |", "|---|---|---|---|---|---|"]
    for cat, cm in run["by_category"].items():
        lines.append(f"| {cat} | {cm['items']} | {cm['key_fact_recall']} | {cm['citation_precision_gold']} | "
                     f"{cm['abstention_recall']} | {cm['false_abstention_rate']} |")
    misses = [q for q in run["questions"] if _missed(q)]
    if misses:
        lines += ["", "## Items that missed", ""]
        for q in misses:
            lines.append(f"- `{q['id']}` ({q['category']}): {q['question']} → {q['answer']}")
    if run.get("summaries"):
        lines += ["", "## Summaries", "", "| id | facts | checks | forbidden terms | worst UER | model sentences | ms |",
                  "|---|---|---|---|---|---|---|"]
        for r in run["summaries"]:
            lines.append(f"| {r['id']} | {r['facts_covered']}/{r['facts_total']} | {'pass' if r['checks_passed'] else 'FAIL'} "
                         f"| {', '.join(r['forbidden_in_narrator_voice']) or '—'} | {r['under_representation']['gap']} "
                         f"| {r['sentences_from_model']}/{r['sentences']} | {r['total_ms']:.0f} |")
    return "\n".join(lines) + "\n"


def _missed(q: dict[str, Any]) -> bool:
    s = q["scores"]
    if not q["answerable"]:
        return not s["abstained"]
    return bool(s["abstained"] or s["key_facts"] < s["key_facts_total"] or s["citations_gold"] < s["citations"])


def chart(metrics: dict[str, Any], path: Path, title: str) -> None:
    """A horizontal bar chart of the main 0-1 metrics."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in CHART if isinstance(metrics.get(k), int | float)]
    labels = {k: label for k, label, _ in ROWS}
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(keys) + 1.2))
    values = [float(metrics[k]) for k in keys]
    ax.barh([labels[k] for k in keys][::-1], values[::-1], color="#3b7dd8")
    for y, v in enumerate(values[::-1]):
        ax.text(min(v + 0.01, 0.93), y, f"{v:.2f}", va="center")
    ax.set_xlim(0, 1)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
