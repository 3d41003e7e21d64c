"""A real browser opens every page of the built book: no broken image, no console error, and each
chapter's main table and figure are there. Screenshots are kept in _build/test-artifacts/screenshots.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright; never downloads a browser. Skipped, with
the reason, where Chromium is not installed (.ci/run installs it).
"""

import functools
import http.server
import shutil
import threading
from pathlib import Path

import pytest

from helpers.pipeline import build, runs
from helpers import paths

pytestmark = pytest.mark.book
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"]
SCREENSHOTS = paths.BUILD / "test-artifacts" / "screenshots"

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (apt-get install chromium): the browser check is skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed: the browser check is skipped")


@pytest.fixture(scope="module")
def server(built):
    out, _, _ = built
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(out / "html"))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _visit(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return page, errors


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_every_page_loads_cleanly(server, browser, doc):
    page, errors = _visit(browser, f"{server}/{doc}.html")
    broken = page.evaluate("Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{doc.replace('/', '__')}.png"), full_page=True)
    page.close()
    assert broken == [], broken
    assert errors == [], errors


# Each chapter's main tables and figures: at least this many rendered (the baseline chapter is a table).
EXPECTED = {
    "notebooks/01_cohort": (3, 3), "notebooks/02_baseline": (2, 0), "notebooks/03_hazards": (3, 2),
    "notebooks/04_sensitivity": (4, 1), "notebooks/05_progression": (2, 4), "notebooks/06_subgroups": (1, 1),
    "notebooks/07_vsmc": (1, 5),
}


def test_every_chapter_is_expected():
    assert set(EXPECTED) == {d for d in runs.toc_documents() if d.startswith("notebooks/")}


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_each_chapter_has_its_main_tables_and_figures(server, browser, doc):
    page, _ = _visit(browser, f"{server}/{doc}.html")
    tables = page.locator("article table").count()
    figures = page.evaluate("Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 100).length")
    page.close()
    want_tables, want_figures = EXPECTED[doc]
    assert tables >= want_tables, f"{doc}: {tables} tables"
    assert figures >= want_figures, f"{doc}: {figures} figures"


def test_make_pdf_prints_the_whole_book(built):
    import re
    import subprocess
    import sys

    out, _, _ = built
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(out), "--pdf"],
                            capture_output=True, text=True, cwd=paths.ROOT)
    assert result.returncode == 0, result.stderr
    assert "executed" not in result.stdout and "built the HTML" not in result.stdout  # the shared build's HTML is current
    pdf = (out / "book.pdf").read_bytes()
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert pages >= 20, pages  # every chapter, not a blank sheet


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_code_is_folded_and_figures_have_alt_text(server, browser, doc):
    page, _ = _visit(browser, f"{server}/{doc}.html")
    folded = page.evaluate("Array.from(document.querySelectorAll('details.hide')).map(d => d.open)")
    visible_code = page.evaluate("Array.from(document.querySelectorAll('div.cell_input')).filter(e => !e.closest('details:not([open])')).length")
    missing_alt = page.evaluate(
        "Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 100 && !(i.alt || '').trim()).length"
    )
    page.close()
    assert folded and not any(folded), f"{doc}: code cells are not folded behind a toggle"
    assert visible_code == 0, f"{doc}: {visible_code} code cells show without a click"
    assert missing_alt == 0, f"{doc}: {missing_alt} figures without alt text"


def test_a_citation_resolves_to_the_bibliography(server, browser):
    page, _ = _visit(browser, f"{server}/notebooks/04_sensitivity.html")
    link = page.locator("a[href*='references.html#']").first
    href = link.get_attribute("href")
    page.goto(f"{server}/notebooks/{href}")
    text = page.locator("article").inner_text()
    page.close()
    assert "Fine" in text and "subdistribution of a competing risk" in text


def test_solutions_are_hidden_until_clicked(server, browser):
    page, errors = _visit(browser, f"{server}/notebooks/03_hazards.html")
    solution = page.locator("#hazards-1-solution")
    assert solution.count() == 1, "the solution of hazards-1 is not on the page"
    body = solution.locator("p").last
    assert not body.is_visible(), "the solution shows without a click"
    solution.locator("button.toggle-button").first.click()  # the title also holds a link to the exercise
    body.wait_for(state="visible", timeout=5000)
    assert body.is_visible() and "your run should show" in (solution.inner_text())
    exercise = page.locator("#hazards-1")
    assert exercise.is_visible() and "Exercise" in exercise.inner_text()
    page.close()
    assert errors == [], errors


@pytest.mark.parametrize("doc", [*sorted(EXPECTED), "book/teachers"])
def test_glossary_links_resolve(server, browser, doc):
    page, _ = _visit(browser, f"{server}/{doc}.html")
    links = page.evaluate("Array.from(document.querySelectorAll('article a[href*=\"glossary.html#term-\"]')).map(a => a.href)")
    page.close()
    if doc.startswith("notebooks/"):
        assert links, f"{doc} links no glossary term"
    glossary, _ = _visit(browser, f"{server}/book/glossary.html")
    for href in sorted(set(links)):
        anchor = href.split("#", 1)[1]
        assert glossary.locator(f"dt[id='{anchor}']").count() == 1, f"{doc}: {href} resolves to no term"
    glossary.close()
