"""Results -> terminal text or JSON. Only this module and cli.py write to the terminal."""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from .records import Answer, FileOutcome, Hit, IngestReport

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
    console.print(f"[{style}]{outcome.status:>9}[/] {escape(outcome.source)}{detail}", highlight=False)


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
    dropped = [n for n in result.notes if n.startswith("unsupported")]
    if dropped:
        console.print(f"[dim]{len(dropped)} unsupported sentence(s) left out; --show-unsupported shows them[/]")
