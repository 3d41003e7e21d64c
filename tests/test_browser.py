"""A real browser opens every page of the built book: no broken image, no console error, and each
chapter's main table and figure are there. With MG_SCREENSHOTS=1, full-page screenshots of every page at
desktop and phone width are kept in _build/test-artifacts/screenshots.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright; never downloads a browser. Skipped, with
the reason, where Chromium is not installed (.ci/run installs it).
"""

import functools
import http.server
import os
import re
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
# Full-page screenshots of every page visited, at 1,400 and 400 px, for a person to look at: they cost about
# as much as the visits themselves, so they are taken only when asked for (MG_SCREENSHOTS=1 make test).
TAKE_SCREENSHOTS = os.environ.get("MG_SCREENSHOTS", "") not in ("", "0")


def _screenshot(page, name: str) -> None:
    if TAKE_SCREENSHOTS:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

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
    page = browser.new_page(viewport=DESKTOP)
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url, wait_until="load")
    return page, errors


DESKTOP = {"width": 1400, "height": 1000}
# Everything the page-by-page tests below look at, measured in one visit per page at 1,400 px.
MEASURE = r"""() => {
  const article = document.querySelector('article');
  const width = article.getBoundingClientRect().width;
  const images = Array.from(document.images);
  const articleImages = Array.from(article.querySelectorAll('img'));
  const tables = Array.from(article.querySelectorAll('table'));
  // The width of a table hidden by its frame (px), or null when the whole table shows.
  const clippedBy = t => {
    const frame = t.closest('.output, .reference-body, .pst-scrollable-table-container') || t.parentElement;
    const hidden = Math.max(frame.scrollWidth - frame.clientWidth, t.getBoundingClientRect().right - article.getBoundingClientRect().right);
    return hidden > 1 ? Math.round(hidden) : null;
  };
  const answerBox = () => {
    const box = document.querySelector('.admonition.answer');
    if (!box) return null;
    const r = box.getBoundingClientRect();
    const status = Array.from(box.querySelectorAll('strong')).find(s => /Design status|Computed from/.test(s.innerText));
    return {top: r.top + window.scrollY, bottom: r.bottom + window.scrollY, text: box.innerText,
            status_bottom: status ? status.getBoundingClientRect().bottom + window.scrollY : null};
  };
  const inScrollingFrame = t => {
    for (let e = t.parentElement; e && e !== article; e = e.parentElement) {
      const style = getComputedStyle(e);
      if (['auto', 'scroll'].includes(style.overflowX) && e.getBoundingClientRect().width <= width + 1) return true;
    }
    return false;
  };
  return {
    height: document.documentElement.scrollHeight,
    broken: images.filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src),
    tables: tables.length,
    figures: articleImages.filter(i => i.naturalWidth > 100).length,
    missing_alt: articleImages.filter(i => i.naturalWidth > 100 && !(i.alt || '').trim()).length,
    folded: Array.from(document.querySelectorAll('details.hide')).map(d => d.open),
    visible_code: Array.from(document.querySelectorAll('div.cell_input')).filter(e => !e.closest('details:not([open])')).length,
    glossary_links: Array.from(article.querySelectorAll('a[href*="glossary.html#term-"]')).map(a => a.href),
    loose: tables.filter(t => t.getBoundingClientRect().width > width + 1 && !inScrollingFrame(t))
      .map(t => (t.querySelector('caption') || t).innerText.slice(0, 80)),
    page_scrolls: document.documentElement.scrollWidth > window.innerWidth + 1,
    clipped: tables.filter(t => clippedBy(t) !== null).map(t => [(t.querySelector('caption') || t).innerText.slice(0, 60), clippedBy(t)]),
    answer: answerBox(),
    model4_in_view: tables.filter(t => /Model 4/.test(t.innerText))
      .map(t => t.getBoundingClientRect().right <= article.getBoundingClientRect().right + 1),
    stderr: article.querySelectorAll('.output.stderr').length,
    searches: Array.from(document.querySelectorAll('.search-button-field, .search-button, form.bd-search'))
      .filter(e => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0; }).length,
    // What each fold (reference material, run settings, a solution; not a code toggle) holds, opened or not:
    // its first five words after any table header, which the PDF must print.
    folds: Array.from(article.querySelectorAll('details:not(.hide), .admonition.dropdown')).map(d => {
      const body = d.querySelector('.reference-body, .sd-summary-content, section, .admonition-title ~ *');
      const copy = body ? body.cloneNode(true) : document.createElement('div');
      copy.querySelectorAll('style, script, thead').forEach(e => e.remove());  // a header may wrap in print
      return copy.textContent.replace(/\s+/g, ' ').trim().split(' ').slice(0, 5).join(' ');
    }),
    // Each table and figure a code cell made, and the link under the cell to that cell's code (_ext/cell_sources.py).
    untraced: [...tables, ...articleImages.filter(i => i.naturalWidth > 100)].filter(e => e.closest('.cell_output'))
      .filter(e => !e.closest('.cell').querySelector(':scope > p.cell-source a'))
      .map(e => ((e.querySelector && e.querySelector('caption')) || e).innerText || e.alt || '').map(t => t.slice(0, 60)),
    traced: Array.from(article.querySelectorAll('.cell > p.cell-source a')).map(a => ({
      href: a.getAttribute('href'), text: a.innerText,
      captions: Array.from(a.closest('.cell').querySelectorAll('table > caption, figcaption'))
        .map(c => c.innerText.replace(/^Figure \d+\.\s*/, '').replace(/\s+/g, ' ').trim())})),
    text: article.innerText,
    cells: tables.flatMap(t => [
      ...Array.from(t.querySelectorAll('thead th')).map(c => c.innerText.trim()),
      ...Array.from(t.querySelectorAll('tbody tr')).map(r => r.cells.length ? r.cells[0].innerText.trim() : ''),
    ]),
  };
}"""


# The figures of a page (larger than an icon): alt text, source and caption number.
FIGURES = """() => Array.from(document.querySelectorAll('article img')).filter(i => i.naturalWidth > 100).map(i => {
  const figure = i.closest('figure');
  const number = figure && figure.querySelector('figcaption .caption-number');
  return {alt: (i.alt || '').slice(0, 50), src: i.src, caption: number ? number.innerText.trim() : null};
})"""


@pytest.fixture(scope="module")
def desktop(server, browser):
    """``desktop(doc)``: what :data:`MEASURE` finds on a page at 1,400 px, plus the console errors it raised
    while loading. Each page is opened once (and screenshot with MG_SCREENSHOTS=1), however many tests read it,
    in one tab that goes from page to page as a reader would (a new tab per page costs more than the page)."""
    seen, errors = {}, []
    page = browser.new_page(viewport=DESKTOP)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))

    def visit(doc):
        if doc not in seen:
            errors.clear()
            page.goto(f"{server}/{doc}.html", wait_until="load")
            seen[doc] = page.evaluate(MEASURE) | {"captioned": page.evaluate(FIGURES)}
            _screenshot(page, doc.replace("/", "__"))
            seen[doc]["errors"] = list(errors)
        return seen[doc]

    yield visit
    page.close()


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_every_page_loads_cleanly(desktop, doc):
    visit = desktop(doc)
    assert visit["broken"] == [], visit["broken"]
    assert visit["errors"] == [], visit["errors"]
    assert visit["searches"] == 1, f"{doc}: {visit['searches']} search boxes at 1,400 px (one in the sidebar)"


# Each chapter's main tables and figures: at least this many rendered (the baseline chapter is a table).
EXPECTED = {
    "notebooks/01_cohort": (3, 3), "notebooks/02_baseline": (2, 0), "notebooks/03_hazards": (3, 2),
    "notebooks/04_sensitivity": (4, 1), "notebooks/05_progression": (2, 4), "notebooks/06_subgroups": (1, 1),
    "notebooks/07_vsmc": (1, 5), "notebooks/08_beyond": (5, 1),
}


def test_every_chapter_is_expected():
    assert set(EXPECTED) == {d for d in runs.toc_documents() if d.startswith("notebooks/")}


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_each_chapter_has_its_main_tables_and_figures(desktop, doc):
    visit = desktop(doc)
    want_tables, want_figures = EXPECTED[doc]
    assert visit["tables"] >= want_tables, f"{doc}: {visit['tables']} tables"
    assert visit["figures"] >= want_figures, f"{doc}: {visit['figures']} figures"


def test_make_pdf_prints_the_whole_book(copy_of_the_shared_book, desktop, tmp_path):
    """make pdf reads like a paper: the pages are rendered back (poppler's pdftotext and pdftoppm) and read for
    a title page, the contents once, numbered pages, figures and every table numbered, no navigation chrome,
    buttons or code toggles, and nothing printed into the right margin (a table cut at the sheet's edge would be).

    A sheet cannot be clicked open, so every fold prints open: the reference material, the run settings and the
    exercises' solutions, whose first words (read from the HTML pages in the browser) must be in the PDF. The
    solutions stay because the PDF is the book as built, and this book ships them; a class that must not see
    them prints the student edition (``mg-book --student --pdf``), which leaves them out of the HTML and the PDF
    alike. Only the code toggles stay out: the PDF is read, not run."""
    import subprocess
    import sys

    from PIL import Image

    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils is not installed (apt-get install poppler-utils; .ci/run installs it)")
    out = copy_of_the_shared_book
    result = subprocess.run([sys.executable, "-m", "helpers.pipeline.build", "--out", str(out), "--pdf"],
                            capture_output=True, text=True, cwd=paths.ROOT)
    assert result.returncode == 0, result.stderr
    assert "executed" not in result.stdout and "built the HTML" not in result.stdout  # the shared build's HTML is current
    pdf = out / "book.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    pages = text.split("\f")[:-1]
    assert len(pages) >= 20, len(pages)  # every chapter, not a blank sheet
    assert "Magnesium and cardiovascular" in pages[0] and "Contents" not in pages[0], pages[0][:300]
    assert [p for p in pages if re.search(r"^\s*Contents\s*$", p, flags=re.M)] == [pages[1]], "the contents, once, after the title"
    for chrome in ("Skip to main content", "Back to top", "Ctrl+K", "Show code cell", "Hide code cell", "Click to show"):
        assert chrome not in text, f"the PDF prints {chrome!r}"
    assert not re.search(r"^\s*None\s*$", text, flags=re.M), "a bare 'None' is printed"
    numbered = [i + 1 for i, p in enumerate(pages) if re.search(rf"^\s*{i + 1}\s*$", p.rstrip().splitlines()[-1] if p.strip() else "")]
    assert len(numbered) >= 0.9 * (len(pages) - 1), f"pages without their number at the foot: {len(pages) - len(numbered)}"
    assert re.search(r"Figure 1\.", text) and re.search(r"Figure 1\d\.", text), "figures are not numbered"
    # Every table of every page, captioned or not, numbered once and in order ("Table 2.2.1" is the thesis's name).
    tables = sum(desktop(doc)["tables"] for doc in runs.toc_documents())
    labels = [int(n) for n in re.findall(r"^\s*Table (\d+)\.(?!\d)", text, flags=re.M)]
    assert tables > 20 and labels == list(range(1, tables + 1)), f"{tables} tables on the pages; printed labels {labels}"
    assert "Table 2.2.1" in text
    flat = re.sub(r"\s+", " ", text)
    folded = [(doc, words) for doc in runs.toc_documents() for words in desktop(doc)["folds"] if words not in flat]
    assert folded == [], f"folds printed shut (page, first words): {folded}"
    assert "Solution to Exercise hazards-1" in flat
    subprocess.run(["pdftoppm", "-r", "24", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    cut = []
    for image in sorted(tmp_path.glob("page-*.pgm")):
        sheet = Image.open(image)
        margin = sheet.crop((sheet.width - round(sheet.width * 8 / 210), 0, sheet.width, sheet.height))  # 8 of 210 mm
        if margin.getextrema()[0] < 200:
            cut.append(image.stem)
    assert cut == [], f"pages with ink in the right margin (a table or figure cut at the edge): {cut}"


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_code_is_folded_and_figures_have_alt_text(desktop, doc):
    visit = desktop(doc)
    assert visit["folded"] and not any(visit["folded"]), f"{doc}: code cells are not folded behind a toggle"
    assert visit["visible_code"] == 0, f"{doc}: {visit['visible_code']} code cells show without a click"
    assert visit["missing_alt"] == 0, f"{doc}: {visit['missing_alt']} figures without alt text"


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
    assert exercise.is_visible() and "Exercise hazards-1" in exercise.inner_text()
    page.close()
    assert errors == [], errors


@pytest.fixture(scope="module")
def glossary_terms(server, browser):
    page, _ = _visit(browser, f"{server}/book/glossary.html")
    terms = page.evaluate("Array.from(document.querySelectorAll('dt[id]')).map(d => d.id)")
    page.close()
    return terms


@pytest.mark.parametrize("doc", [*sorted(EXPECTED), "book/teachers"])
def test_glossary_links_resolve(desktop, glossary_terms, doc):
    links = desktop(doc)["glossary_links"]
    if doc.startswith("notebooks/"):
        assert links, f"{doc} links no glossary term"
    unresolved = sorted({href for href in links if glossary_terms.count(href.split("#", 1)[1]) != 1})
    assert glossary_terms and unresolved == [], f"{doc}: links resolve to no term: {unresolved}"


# --- The headline in view: every page clean at desktop and phone width (issue 18) -------------------------

PHONE = {"width": 400, "height": 800}
# Keys a reader should never meet in a table's header or first column (snake_case names, test statistics'
# code names). The data pages list the data contract's column names, and the colophon the parameters' names,
# on purpose: they are what a user types.
INTERNAL = ("mg_missing", "cac_not_both", "nfkb_time", "rho", "chisq", "GLOBAL")
CONTRACT_PAGES = {"book/data", "book/own_data", "book/colophon"}

@pytest.mark.parametrize("doc", runs.toc_documents())
def test_tables_fit_the_column_or_scroll_in_their_own_frame(desktop, doc):
    visit = desktop(doc)
    assert visit["loose"] == [], f"{doc}: tables wider than the article outside a scrolling frame: {visit['loose']}"
    assert not visit["page_scrolls"], f"{doc}: the page scrolls sideways at 1,400 px"


@pytest.mark.parametrize("doc", ["notebooks/03_hazards", "notebooks/04_sensitivity", "notebooks/05_progression"])
def test_the_adjusted_estimate_is_in_view_without_scrolling(desktop, doc):
    found = desktop(doc)["model4_in_view"]
    assert found and all(found), f"{doc}: a table with Model 4 needs sideways scrolling: {found}"


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_no_page_shows_stderr_warnings_or_internal_keys(desktop, doc):
    visit = desktop(doc)
    text, cells = visit["text"], visit["cells"]
    assert visit["stderr"] == 0, f"{doc}: {visit['stderr']} stderr output blocks"
    assert "Warning:" not in text and "it/s]" not in text, f"{doc}: a warning or a progress bar is shown"
    assert "[Kand" not in text, f"{doc}: the thesis is cited by an alphabetic label"
    keys = [c for c in cells if c in INTERNAL]
    if doc not in CONTRACT_PAGES:
        keys += [c for c in cells if re.fullmatch(r"[a-z0-9]+(_[a-z0-9]+)+", c)]
    assert keys == [], f"{doc}: internal keys in table headers or first columns: {sorted(set(keys))}"


def test_references_link_their_dois(server, browser):
    page, _ = _visit(browser, f"{server}/book/references.html")
    dois = page.evaluate("Array.from(document.querySelectorAll('article a[href^=\"https://doi.org/\"]')).map(a => a.href)")
    text = page.locator("article").inner_text()
    page.close()
    assert len(set(dois)) >= 8, dois
    assert "Harrell" in text and "Jr. Harrell" not in text and "$k$" not in text
    assert "Kang n.d." in text


FONT_SIZES = r"""async (img) => {
  const svg = await (await fetch(img.src)).text();
  const view = svg.match(/viewBox="[\d.\-]+ [\d.\-]+ ([\d.]+) /);
  const sizes = Array.from(svg.matchAll(/font(?:-size)?:\s*(?:[a-z\-]+\s+)*([\d.]+)px/g)).map(m => parseFloat(m[1]));
  return {width: img.getBoundingClientRect().width, view: view ? parseFloat(view[1]) : null, sizes};
}"""


# At 400 px: each table wider than its frame must scroll inside it with a cue (a shadow painted by the
# frame's background) and keep its first column in view (sticky, at least 90 px wide).
PHONE_MEASURE = """() => {
  const article = document.querySelector('article');
  const tables = Array.from(article.querySelectorAll('table'));
  const scrolling = tables.map(t => {
    const frame = t.closest('.output, .reference-body, .pst-scrollable-table-container') || t.parentElement;
    if (frame.scrollWidth <= frame.clientWidth + 1) return null;
    const first = t.querySelector('tbody tr td:first-child, tbody tr th:first-child');
    const style = getComputedStyle(frame);
    return {name: (t.querySelector('caption') || t).innerText.slice(0, 60),
            scrolls: ['auto', 'scroll'].includes(style.overflowX),
            cue: /gradient/.test(style.backgroundImage),
            first_sticky: first ? getComputedStyle(first).position === 'sticky' : true,
            first_width: first ? first.getBoundingClientRect().width : 999};
  }).filter(x => x);
  const box = document.querySelector('.admonition.answer');
  const status = box && Array.from(box.querySelectorAll('strong')).find(s => /Design status|Computed from/.test(s.innerText));
  return {scrolling, answer_status_bottom: status ? status.getBoundingClientRect().bottom + window.scrollY : null};
}"""


@pytest.fixture(scope="module")
def phone(server, browser):
    """``phone(doc)``: at 400 px, the first warning box's position, the text sizes of every SVG figure as
    rendered, the tables that scroll and how; each page is opened once (and screenshot with
    MG_SCREENSHOTS=1), in one tab."""
    seen = {}
    page = browser.new_page(viewport=PHONE)

    def visit(doc):
        if doc not in seen:
            page.goto(f"{server}/{doc}.html", wait_until="load")
            notice = page.locator("article .admonition.warning").first
            forest = page.locator("article img[alt^='Forest plot']").first
            figures = page.locator("article img[src$='.svg']")
            seen[doc] = {"notice": notice.bounding_box() if notice.count() else None,
                         "forest": forest.evaluate(FONT_SIZES) if forest.count() else None,
                         "figures": [figures.nth(i).evaluate(FONT_SIZES) | {"alt": figures.nth(i).get_attribute("alt")}
                                     for i in range(figures.count())],
                         **page.evaluate(PHONE_MEASURE)}
            _screenshot(page, f"{doc.replace('/', '__')}__400px")
        return seen[doc]

    yield visit
    page.close()


def test_the_forest_plot_is_legible_on_a_phone(phone):
    measured = phone("notebooks/06_subgroups")["forest"]
    assert measured and measured["view"] and measured["sizes"], "the forest plot is not an SVG with text"
    smallest = min(measured["sizes"]) * measured["width"] / measured["view"]
    assert smallest >= 9, f"the forest plot's smallest text renders {smallest:.1f} px high at 400 px"


@pytest.mark.parametrize("doc", sorted(EXPECTED))
def test_the_synthetic_notice_is_on_a_phones_first_screen(phone, doc):
    box = phone(doc)["notice"]
    assert box is not None, f"{doc}: no synthetic-data notice"
    assert box["y"] + 40 <= PHONE["height"], f"{doc}: the notice starts at {box['y']:.0f} px, below the first screen"


# --- Reads like a paper (issue 29): the answer first, every table whole, every figure legible ----------------

def test_the_answer_is_on_the_first_screen_at_desktop_and_within_two_on_a_phone(desktop, phone):
    """Model 4's HR of low Mg with its CI, the low group's events and patients, what it means and its design
    status, all within the first 1,000 px at 1,400 px and within the first two screens at 400 px."""
    answer = desktop("book/intro")["answer"]
    assert answer, "the landing page has no answer box"
    assert re.search(r"Hazard ratio \d\.\d\d \(\d\.\d\d–\d\.\d\d\)", answer["text"]), answer["text"]
    assert re.search(r"\d+ events among \d+ patients", answer["text"]) and "times the hazard" in answer["text"]
    assert answer["status_bottom"] and answer["bottom"] <= DESKTOP["height"], answer
    status = phone("book/intro")["answer_status_bottom"]
    assert status and status <= 2 * PHONE["height"], f"the design status ends at {status} px on a phone"


def test_how_to_read_it_links_every_results_chapter(built):
    out, _, _ = built
    page = (out / "html" / "book" / "intro.html").read_text(encoding="utf-8")
    section = page[page.index('id="how-to-read-it"'):]
    section = section[:section.index("<section")]
    for doc in [d for d in runs.toc_documents() if d.startswith("notebooks/")] + ["book/sweep"]:
        assert f'href="../{doc}.html' in section or f'href="{doc.split("/")[1]}.html' in section, \
            f"How to read it does not link {doc}"


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_no_table_is_clipped_at_desktop_width(desktop, doc):
    clipped = desktop(doc)["clipped"]
    assert clipped == [], f"{doc}: tables with a part hidden at 1,400 px (name, hidden px): {clipped}"


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_on_a_phone_wide_tables_scroll_in_a_frame_with_a_cue_and_their_first_column(phone, doc):
    bad = [t for t in phone(doc)["scrolling"]
           if not (t["scrolls"] and t["cue"] and t["first_sticky"] and t["first_width"] >= 90)]
    assert bad == [], f"{doc}: tables that scroll at 400 px without a frame, a cue or a readable first column: {bad}"


def test_the_data_page_is_under_five_screens(desktop):
    assert desktop("book/data")["height"] < 5 * DESKTOP["height"], desktop("book/data")["height"]


@pytest.mark.parametrize("doc", [d for d in runs.toc_documents() if d.startswith("notebooks/")] + ["book/sweep"])
def test_every_figure_is_legible_on_a_phone(phone, doc):
    """The smallest text of each SVG figure, as a 400 px phone renders it (its font size in the SVG's units
    times the image's rendered width over the SVG's viewBox width), is at least 9 CSS px."""
    small = [(f["alt"][:50], round(min(f["sizes"]) * f["width"] / f["view"], 1)) for f in phone(doc)["figures"]
             if f["view"] and f["sizes"] and min(f["sizes"]) * f["width"] / f["view"] < 9]
    assert small == [], f"{doc}: figures with text under 9 px at 400 px: {small}"


@pytest.mark.parametrize("doc", [d for d in runs.toc_documents() if d.startswith("notebooks/")] + ["book/sweep"])
def test_every_figure_has_a_numbered_caption_and_is_shown_once(desktop, doc):
    found = desktop(doc)["captioned"]
    uncaptioned = [f["alt"] for f in found if not (f["caption"] or "").startswith("Figure ")]
    assert uncaptioned == [], f"{doc}: figures without a numbered caption: {uncaptioned}"
    sources = [f["src"] for f in found]
    assert len(sources) == len(set(sources)), f"{doc}: a figure is shown twice"
    if doc == "book/sweep":
        assert len(found) == 1, f"the sweep page shows {len(found)} images, one heatmap expected"


CODE_PAGES = [d for d in runs.toc_documents() if "{code-cell}" in (paths.ROOT / f"{d}.md").read_text(encoding="utf-8")]


def _listing_cell(listing: str, number: int) -> str:
    """The text of cell ``number`` of a code listing (_code/<page>.html), line numbers left out."""
    import html as html_mod

    block = listing[listing.index(f'id="cell-{number}"'):]
    block = block[:block.index("</pre></div>")]
    block = re.sub(r'<a class="no"[^>]*>\d+</a>', "", block)
    return html_mod.unescape(re.sub(r"<[^>]+>", " ", block))


@pytest.mark.parametrize("doc", CODE_PAGES)
def test_every_table_and_figure_links_to_the_cell_that_made_it(built, desktop, doc):
    """Under each cell that shows a table or a figure, a link opens that very cell in a listing of the page's
    notebook (``_code/<page>.html#cell-N``, _ext/cell_sources.py): the N-th code cell as jupytext reads the
    notebook, whose source, or for a figure the caption in its metadata, holds four words in a row of every
    caption the cell shows."""
    import jupytext

    out, _, _ = built
    visit = desktop(doc)
    assert visit["untraced"] == [], f"{doc}: tables or figures with no link to the cell that made them: {visit['untraced']}"
    cells = [c for c in jupytext.read(paths.ROOT / f"{doc}.md").cells if c.cell_type == "code"]
    flat = lambda text: re.sub(r"\s+", " ", text).strip()  # noqa: E731
    for link in visit["traced"]:
        href, _, anchor = link["href"].partition("#")
        number = int(anchor.removeprefix("cell-"))
        assert link["text"] == f"Code: {doc}.md, cell {number}", link
        listing = ((out / "html" / doc).parent / href).resolve()
        assert listing == (out / "html" / "_code" / f"{doc}.html").resolve() and listing.is_file(), link
        cell = cells[number - 1]
        assert flat(cell.source) in flat(_listing_cell(listing.read_text(encoding="utf-8"), number)), \
            f"{doc}: the listing's cell {number} is not the notebook's"
        said = flat(cell.source + " " + str(cell.metadata.get("mystnb", {}).get("figure", {}).get("caption", "")))
        for caption in link["captions"]:  # typed in the cell, or made in it from its pieces (an f-string)
            words = caption.split()
            runs_ = [" ".join(words[i:i + 4]) for i in range(max(1, len(words) - 3))]
            assert any(run in said for run in runs_), f"{doc}: cell {number} does not make the output captioned {caption!r}"
