"""Results -> terminal text or JSON. Only this module and cli.py write to the terminal."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .neutrality import CHECKS
from .records import Answer, FileOutcome, Hit, IngestReport, Summary

if TYPE_CHECKING:
    from .stories import Story

STATUS_STYLE = {
    "added": "green",
    "updated": "cyan",
    "skipped": "dim",
    "duplicate": "yellow",
    "pruned": "magenta",
    "failed": "bold red",
}


def print_json(console: Console, data: Any) -> None:
    """Plain JSON on stdout (no color codes, no wrapping), for scripts."""
    console.file.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def file_outcome(console: Console, outcome: FileOutcome) -> None:
    style = STATUS_STYLE.get(outcome.status, "")
    detail = f": {escape(outcome.detail)}" if outcome.detail else ""
    console.print(f"[{style}]{outcome.status:>9}[/] {escape(outcome.source)}{detail}", highlight=False, soft_wrap=True)


def ingest_summary(console: Console, report: IngestReport) -> None:
    rate = report.embedded_chunks / report.seconds if report.seconds else 0.0
    style = "bold red" if report.failed else "bold green"
    console.print(
        f"[{style}]{escape(report.summary())}[/] ({report.seconds:.1f} s; {report.embedded_chunks} chunks embedded, {rate:.0f}/s overall)",
        highlight=False,
    )


def ingest_json(report: IngestReport) -> dict[str, Any]:
    return {
        "files": [o.__dict__ for o in report.outcomes],
        "counts": {
            s: report.count(s) for s in ("added", "updated", "skipped", "duplicate", "pruned", "failed")
        },
        "total_chunks": report.total_chunks,
        "embedded_chunks": report.embedded_chunks,
        "seconds": round(report.seconds, 3),
    }


def hits(console: Console, query: str, results: list[Hit]) -> None:
    if not results:
        console.print("[yellow]No passages found.[/]")
        return
    words = {w.lower() for w in re.findall(r"\w{3,}", query)}
    for rank, hit in enumerate(results, 1):
        c = hit.chunk
        about = ", ".join(x for x in (c.outlet, c.date) if x)
        console.print(
            f"[bold]{rank}.[/] [cyan]{escape(c.source)}:{c.start}-{c.end}[/]  "
            f"[dim]score {hit.score:.4f}[/]",
            highlight=False,
        )
        if c.title:
            console.print(f"   [bold]{escape(c.title)}[/]" + (f" [dim]({escape(about)})[/]" if about else ""))
        console.print(_highlight(c.text, words), highlight=False)
        console.print()


def _highlight(text: str, words: set[str]) -> str:
    """Indent the passage and bold the query's words in it."""
    out = []
    for token in re.split(r"(\w+)", " ".join(text.split())):
        out.append(f"[bold yellow]{escape(token)}[/]" if token.lower() in words else escape(token))
    return "   " + "".join(out)


def answer(console: Console, result: Answer) -> None:
    """The answer with colored citation marks, then its sources with quoted evidence."""
    if result.abstained:
        console.print(f"[bold yellow]{escape(result.answer)}[/]")
        for note in result.notes[:1]:
            console.print(f"[dim]({escape(note)})[/]")
        return
    text = Text(result.answer)
    text.highlight_regex(r"\[\d+\]", "bold cyan")
    text.highlight_regex(r"\[\?\]", "bold red")
    console.print(text, highlight=False)
    console.print()
    console.print("[bold]Sources[/]")
    for c in result.citations:
        about = ", ".join(x for x in (c.outlet, c.date) if x)
        console.print(
            f"  [bold cyan]\\[{c.n}][/] [cyan]{escape(c.source)}[/] chars {c.start}–{c.end}"
            + (f"  [dim]{escape(about)}[/]" if about else ""),
            highlight=False,
        )
        if c.title:
            console.print(f"      [dim]{escape(c.title)}[/]", highlight=False)
        console.print(f"      “{escape(' '.join(c.quote.split()))}”", highlight=False)
    for note in (n for n in result.notes if n.startswith("partial answer")):
        console.print(f"[yellow]({escape(note)}; the passages shown hold no more)[/]", highlight=False)
    dropped = [n for n in result.notes if n.startswith("unsupported")]
    if dropped:
        console.print(f"[dim]{len(dropped)} unsupported sentence(s) left out; --show-unsupported shows them[/]")


def summary(console: Console, result: Summary) -> None:
    """Sources header, coverage line, the three sections, the cited quotes, then the checks."""
    console.print("[bold]Sources[/]")
    for s in result.sources:
        about = source_about(s)
        console.print(f"  [cyan]{escape(s['source'])}[/]  [dim]{escape(about)}[/]", highlight=False)
        if s["title"]:
            console.print(f"      {escape(s['title'])}", highlight=False)
    cov = result.checks.get("coverage", {})
    if cov:
        console.print("[dim]Coverage: " + " · ".join(
            f"{escape(k)} {v:.0%} of sentences" for k, v in cov.items()) + "[/]", highlight=False)
    console.print()
    if not result.sections:
        console.print(f"[bold yellow]{escape(result.text)}[/]")
        return
    from .summarize import with_marks

    for section in result.sections:
        console.print(f"[bold underline]{escape(section.heading)}[/]")
        for sentence in section.sentences:
            text = Text(with_marks(sentence.text, sentence.citations))
            text.highlight_regex(r"\[\d+\]", "bold cyan")
            console.print(text, highlight=False)
        console.print()
    console.print("[bold]Cited passages[/]")
    for c in result.citations:
        console.print(f"  [bold cyan]\\[{c.n}][/] [cyan]{escape(c.source)}[/] chars {c.start}–{c.end}", highlight=False)
        console.print(f"      “{escape(' '.join(c.quote.split()))}”", highlight=False)
    console.print()
    console.print(checks_line(result.checks), highlight=False)


def source_about(source: dict[str, Any]) -> str:
    """A summary source row's outlet and date: "Turan, 2023-04-30"."""
    return ", ".join(x for x in (source["outlet"] or "outlet not stated", source["date"]) if x)


def checks_line(checks: dict[str, Any]) -> str:
    """One line per check, green when it passes."""
    lines = ["[bold]Neutrality checks[/]"]
    for key, label in CHECKS:
        n = len(checks[key])
        lines.append(f"  [{'green' if n == 0 else 'bold red'}]{'✓' if n == 0 else '✗'} {n}[/] {label}")
    ur = checks["under_representation"]
    if ur["source"]:
        lines.append(f"  [dim]largest under-representation: {escape(ur['source'])} {ur['gap']:+.2f} "
                     "(share of input minus share of summary)[/]")
    return "\n".join(lines)


def summary_markdown(result: Summary) -> str:
    from .summarize import with_marks

    lines = ["## Sources", ""]
    for s in result.sources:
        about = source_about(s)
        lines.append(f"- `{s['source']}` — {about}" + (f" — *{s['title']}*" if s["title"] else ""))
    cov = result.checks.get("coverage", {})
    if cov:
        lines += ["", "Coverage: " + " · ".join(f"`{k}` {v:.0%} of sentences" for k, v in cov.items())]
    for section in result.sections:
        lines += ["", f"## {section.heading}", ""]
        lines += [f"- {with_marks(s.text, s.citations)}" for s in section.sentences]
    if not result.sections:
        lines += ["", result.text]
    lines += ["", "## Cited passages", ""]
    lines += [f"{c.n}. `{c.source}` chars {c.start}–{c.end}: “{' '.join(c.quote.split())}”" for c in result.citations]
    checks = result.checks
    lines += ["", "## Neutrality checks", ""] + [f"- {label}: {len(checks[key])}" for key, label in CHECKS]
    ur = checks["under_representation"]
    if ur["source"]:
        lines.append(f"- largest under-representation: `{ur['source']}` {ur['gap']:+.2f}")
    return "\n".join(lines) + "\n"


def eval_table(console: Console, rows: list[tuple[str, str, str]], model: str, out_dir: object) -> None:
    from rich.table import Table

    table = Table(title=f"rag eval: {model}", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    if any(change for _, _, change in rows):
        table.add_column("change")
    for label, value, change in rows:
        style = "green" if "better" in change else "red" if "worse" in change else ""
        table.add_row(label, value, *([f"[{style}]{change}[/]" if style else change] if len(table.columns) == 3 else []))
    console.print(table)
    console.print(f"[dim]Wrote {out_dir}/eval.json, report.md and metrics.png[/]", highlight=False)


def stories(console: Console, found: list[Story], grouped: bool) -> None:
    """One block per story: id, label, dates, then coverage per outlet group (or outlet)."""
    if not found:
        console.print("[yellow]No stories.[/]")
        return
    for story in found:
        dates = story.first if story.first == story.last else f"{story.first} – {story.last}"
        flag = "  [bold yellow]one-sided[/]" if story.one_sided else ""
        console.print(
            f"[bold cyan]{story.id}[/]  [bold]{escape(story.label)}[/]  [dim]{dates or 'undated'}, "
            f"{len(story.sources)} article{'s' * (len(story.sources) != 1)}[/]{flag}",
            highlight=False, soft_wrap=True,
        )
        total = len(story.sources)
        for who, n in story.coverage.items():
            bar = "█" * max(1, round(20 * n / total))
            console.print(f"    {escape(who):<28} [green]{bar}[/] {n}", highlight=False, soft_wrap=True)
    what = "outlet groups" if grouped else "outlets (give --outlets FILE to count groups)"
    console.print(f"[dim]{len(found)} {'story' if len(found) == 1 else 'stories'}; coverage by {what}[/]", highlight=False)
