"""`rag summarize --format html`: the summary as one self-contained page.

No scripts and no external files (the page opens from disk, offline, and can be mailed): each
citation mark links to the article it cites, shown in full below the summary with the cited
span highlighted at the file's own character offsets; a bar shows how much of the summary each
outlet (or outlet group) carries beside its share of the articles."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from .neutrality import CHECKS
from .records import Citation, Summary
from .render import source_about

CSS = """
body { font: 16px/1.5 Georgia, serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.2rem; margin-top: 2rem; border-bottom: 1px solid #ccc; }
.meta, .checks, .coverage { font: 14px/1.4 system-ui, sans-serif; color: #555; }
a.cite { text-decoration: none; font: bold 12px system-ui, sans-serif; vertical-align: super; }
.coverage table { border-collapse: collapse; width: 100%; }
.coverage td { padding: 2px 6px; } .coverage td.bar { width: 60%; }
.bar span { display: block; height: 10px; background: #3b7dd8; }
.bar span.input { background: #bbb; margin-top: 2px; }
.article { border-top: 1px solid #ddd; margin-top: 1.5rem; }
.text { white-space: pre-wrap; font-size: 15px; }
mark { background: #fff1a8; } mark:has(a:target) { background: #ffd54a; outline: 2px solid #e0a800; }
.ok { color: #17803d; } .bad { color: #b3261e; }
"""


def summary_page(
    summary: Summary,
    documents: dict[str, str],
    group_of: Callable[[str | None, str], str] = lambda outlet, label: outlet or label,
) -> str:
    """The page. `documents`: each source's text at its file offsets (`Index.document`);
    `group_of(outlet, fallback label)` names the bar a source counts towards."""
    ids = {s["source"]: f"a{i}" for i, s in enumerate(summary.sources, 1)}
    by_n = {c.n: c for c in summary.citations}
    parts = [f"<h1>What {len(summary.sources)} articles report</h1>", _sources(summary, ids)]
    parts.append(_coverage(summary, by_n, group_of))
    if not summary.sections:
        parts.append(f"<p>{escape(summary.text)}</p>")
    for section in summary.sections:
        items = []
        for s in section.sentences:
            marks = "".join(f'<a class="cite" href="#c{n}" title="{escape(_quote(by_n[n]))}">[{n}]</a>'
                            for n in s.citations if n in by_n)
            items.append(f"<li>{escape(s.text)} {marks}</li>")
        parts.append(f"<h2>{escape(section.heading)}</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    parts.append(_checks(summary.checks))
    parts.append("<h2>The articles</h2>")
    for src in summary.sources:
        cited = [c for c in summary.citations if c.source == src["source"]]
        parts.append(
            f'<section class="article" id="{ids[src["source"]]}">\n<h3>{escape(src["title"] or src["label"])}</h3>\n'
            f'<p class="meta">{escape(source_about(src))} · <code>{escape(src["source"])}</code></p>\n'
            f'<div class="text">{marked(documents.get(src["source"], ""), cited)}</div>\n</section>'
        )
    body = "\n".join(parts)
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f"<title>rag summary: {len(summary.sources)} articles</title>\n<style>{CSS}</style>\n</head>\n"
            f"<body>\n{body}\n<p class=\"meta\">Written by {escape(summary.model)}; every sentence is "
            f"checked against the passage it cites.</p>\n</body>\n</html>\n")


def marked(text: str, citations: list[Citation]) -> str:
    """`text`, escaped, with each citation's span in a <mark> (data-start/data-end: its offsets
    in the file) holding an anchor #cN per citation. Overlapping spans share one mark."""
    spans: list[tuple[int, int, list[int]]] = []
    for c in sorted(citations, key=lambda c: (c.start, c.end)):
        if spans and c.start < spans[-1][1]:
            start, end, ns = spans[-1]
            spans[-1] = (start, max(end, c.end), [*ns, c.n])
        else:
            spans.append((c.start, c.end, [c.n]))
    out, at = [], 0
    for start, end, ns in spans:
        anchors = "".join(f'<a id="c{n}"></a>' for n in ns)
        out.append(escape(text[at:start]))
        out.append(f'<mark data-start="{start}" data-end="{end}" data-cites="{" ".join(map(str, ns))}">'
                   f"{anchors}{escape(text[start:end])}</mark>")
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


def _sources(summary: Summary, ids: dict[str, str]) -> str:
    rows = []
    for s in summary.sources:
        rows.append(f'<li><a href="#{ids[s["source"]]}">{escape(s["label"])}</a> '
                    f'<span class="meta">({escape(source_about(s))})</span></li>')
    return '<ul class="sources">\n' + "\n".join(rows) + "\n</ul>"


def _coverage(summary: Summary, by_n: dict[int, Citation], group_of: Callable[[str | None, str], str]) -> str:
    """Per group: the share of the summary's sentences that cite it, over its share of the articles."""
    group = {s["source"]: group_of(s["outlet"], s["label"]) for s in summary.sources}
    names = list(dict.fromkeys(group.values()))
    sentences = [s for section in summary.sections for s in section.sentences]
    if not sentences or not names:
        return ""
    rows = []
    for g in names:
        cite = sum(1 for s in sentences if any(group[by_n[n].source] == g for n in s.citations if n in by_n))
        share = cite / len(sentences)
        articles = sum(1 for v in group.values() if v == g)
        rows.append(
            f'<tr><td>{escape(g)}</td><td class="bar"><span style="width:{share:.0%}"></span>'
            f'<span class="input" style="width:{articles / len(group):.0%}"></span></td>'
            f"<td>{share:.0%} of sentences · {articles} of {len(group)} articles</td></tr>"
        )
    return ('<div class="coverage"><p>Coverage: blue, the share of summary sentences citing each; '
            "grey, its share of the articles.</p>\n<table>\n" + "\n".join(rows) + "\n</table></div>")


def _checks(checks: dict[str, list[object]]) -> str:
    items = []
    for key, label in CHECKS:
        n = len(checks[key])
        items.append(f'<li class="{"ok" if n == 0 else "bad"}">{"✓" if n == 0 else "✗"} {n} {escape(label)}</li>')
    return '<h2>Neutrality checks</h2>\n<ul class="checks">\n' + "\n".join(items) + "\n</ul>"


def _quote(c: Citation) -> str:
    return f"{c.source}, chars {c.start}–{c.end}: “{' '.join(c.quote.split())}”"
