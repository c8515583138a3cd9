"""`rag summarize --format html`: the page, opened in a real browser (Debian's headless Chromium,
driven by Playwright), must highlight exactly each citation's span of the article it cites."""

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rag.cli import app
from rag.page import marked
from rag.records import Citation

FIXTURES = Path(__file__).parent / "fixtures" / "summaries"


def cite(n: int, start: int, end: int, text: str) -> Citation:
    return Citation(n, "a.txt", start, end, text[start:end], None, None, None, 1.0)


def test_marked_escapes_the_article_and_shares_a_mark_between_overlapping_spans():
    text = "A <script>alert(1)</script> said & done. Second sentence here. Third."
    a, b, c = cite(1, 0, 40, text), cite(2, 30, 62, text), cite(3, 63, 69, text)
    html = marked(text, [c, a, b])
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert html.count("<mark") == 2
    assert '<mark data-start="0" data-end="62" data-cites="1 2"><a id="c1"></a><a id="c2"></a>' in html
    assert '<mark data-start="63" data-end="69" data-cites="3"><a id="c3"></a>Third.</mark>' in html


def _chromium() -> str:
    """Debian's chromium package installs the browser here; `make test` installs it."""
    for path in ("/usr/lib/chromium/chromium", shutil.which("chromium") or ""):
        if path and Path(path).is_file():
            return path
    pytest.fail("Chromium is not installed: `apt-get install chromium` (make test does it as root)")


# each <mark>: its offsets, its text, and where it starts in its article's text as the browser
# lays it out (code points, not UTF-16 units, to match Python's offsets)
MARKS_JS = """() => [...document.querySelectorAll('mark')].map(m => {
  const box = m.closest('.text');
  const before = document.createRange();
  before.setStart(box, 0);
  before.setEnd(m, 0);
  return {article: m.closest('section').querySelector('code').textContent,
          start: +m.dataset.start, end: +m.dataset.end, cites: m.dataset.cites.split(' ').map(Number),
          text: m.textContent, offset: Array.from(before.toString()).length,
          background: getComputedStyle(m).backgroundColor};
})"""


def test_the_html_page_highlights_each_cited_span_in_a_real_browser(shared_embedder, tmp_path):
    from playwright.sync_api import sync_playwright

    folder = FIXTURES / "dispute"
    outlets = tmp_path / "outlets.toml"
    outlets.write_text('[outlets."Riverland Herald"]\ngroup = "Riverland media"\n'
                       '[outlets."Upland News"]\ngroup = "Upland media"\n', encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(folder)]).exit_code == 0
    page_file = tmp_path / "summary.html"
    result = runner.invoke(app, ["summarize", "--model", "test", "--format", "html", "-o", str(page_file),
                                 "--outlets", str(outlets)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == "" and f"Wrote {page_file}" in result.stderr

    requests: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium())
        page = browser.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_file.as_uri())
        marks = page.evaluate(MARKS_JS)
        cited = {int(a.strip("[]")) for a in page.locator("a.cite").all_inner_texts()}
        assert marks and {n for m in marks for n in m["cites"]} == cited  # every mark cited, every citation marked
        for m in marks:
            text = (folder.parent / m["article"]).read_text(encoding="utf-8")  # stored as dispute/NAME
            assert m["offset"] == m["start"], m  # the highlight sits at the citation's offsets
            assert m["text"] == text[m["start"] : m["end"]]
            for n in m["cites"]:  # the link's tooltip quotes the span it leads to
                title = page.locator(f'a.cite[href="#c{n}"]').first.get_attribute("title") or ""
                assert title.startswith(f"{m['article']}, chars ") and " ".join(m["text"].split()) in title
        # following a citation mark lands on its highlight, shown stronger than the others
        link = page.locator("a.cite").first
        n = int(link.inner_text().strip("[]"))
        link.click()
        assert page.evaluate("location.hash") == f"#c{n}"
        target = page.evaluate("document.querySelector('mark:has(a:target)').dataset.cites")
        assert str(n) in target.split()
        plain = {m["background"] for m in marks if n not in m["cites"]}
        shown = page.evaluate("getComputedStyle(document.querySelector('mark:has(a:target)')).backgroundColor")
        assert shown not in plain
        # the coverage bar names each group once, and the outlet without a group by its own name
        rows = page.locator(".coverage td:first-child").all_inner_texts()
        assert sorted(rows) == ["Alpine Wire", "Riverland media", "Upland media"]
        browser.close()
    assert requests == [page_file.as_uri()]  # self-contained: nothing else is fetched


def test_output_needs_a_page_format(shared_embedder, tmp_path):
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(FIXTURES / "agree")]).exit_code == 0
    bad = runner.invoke(app, ["summarize", "--model", "test", "-o", str(tmp_path / "x.txt")])
    assert bad.exit_code == 2 and bad.stderr.startswith("Error: --output writes a page or a document")
    nowhere = runner.invoke(app, ["summarize", "--model", "test", "--format", "md", "-o", str(tmp_path / "no" / "x.md")])
    assert nowhere.exit_code == 2 and nowhere.stderr.startswith(f"Error: cannot write {tmp_path / 'no' / 'x.md'}")
