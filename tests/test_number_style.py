"""One number style on every page (issue 29): every table of the shared build is read back from its HTML and
scanned for the mixed styles a reader met before helpers.report.formatting wrote them all — a hyphen as
a minus sign, ranges written '[a;b]', a range written 'a to b' though neither bound is negative, an en dash
beside a minus sign ('−0.63–0.15', which NEJM and JAMA write '−0.63 to 0.15'), thousands without a comma, and a column of numbers whose
decimals change from row to row ('12' beside '12.7', '1' beside '0.95')."""

import re

import pytest

bs4 = pytest.importorskip("bs4", reason="beautifulsoup4 reads the built pages")

from helpers.pipeline import runs  # noqa: E402

pytestmark = pytest.mark.book

HYPHEN_MINUS = re.compile(r"(?:^|[\s(\[;,])-\d")
SEMICOLON_RANGE = re.compile(r"\[\s*[−\d.,]+\s*;\s*[−\d.,]+\s*\]")
# An interval (decimals, in brackets; not '(1 to 7)') joined by 'to', and the sign of each bound.
TO_RANGE = re.compile(r"[(\[]\s*(−?)[\d,]*\.\d+ to (−?)[\d,]*\.\d+\s*[)\]]")
DASH_BESIDE_MINUS = re.compile(r"\d–−\d|(?<![\d.,])−[\d,]*\.?\d+–\d")  # '0.1–−0.6' or '−0.63–0.15'
NUMBER = re.compile(r"−?\d{1,3}(,\d{3})*(\.\d+)?|−?\d+(\.\d+)?")
# Columns whose rows hold different quantities (a parameter's value, a dictionary's range, a calibration
# target): their decimals follow the quantity of each row, not the column.
ROW_WISE = {"Value", "Default", "Minimum", "Maximum", "Min", "Max", "Target", "Published", "This cohort",
            "Thesis", "This run", "Tolerance", "Allowed values", "Difference", "Estimate", "R", "Python",
            "Largest difference", "Statistic", "Bound", "Setting"}


def _tables(page: str):
    soup = bs4.BeautifulSoup(page, "html.parser")
    article = soup.find("article") or soup
    for table in article.find_all("table"):
        heads = [th.get_text(" ", strip=True) for th in (table.find("thead") or table).find_all("tr")[-1:]
                 for th in th.find_all("th")] if table.find("thead") else []
        rows = [[c.get_text(" ", strip=True) for c in tr.find_all(["td", "th"])]
                for tr in (table.find("tbody") or table).find_all("tr")]
        caption = table.find("caption")
        yield (caption.get_text(strip=True)[:60] if caption else (heads[:3] or rows[:1])), heads, rows


def _decimals(text: str) -> int:
    return len(text.split(".", 1)[1]) if "." in text else 0


def problems(page: str) -> list[str]:
    """Every mixed style in a page's tables, as 'table: what'."""
    found = []
    for name, heads, rows in _tables(page):
        for row in rows:
            if any("seed" in c.lower() for c in row[:2]):
                continue  # a seed is a name, not a quantity: 20260101, not 20,260,101
            for cell in row:
                if HYPHEN_MINUS.search(cell):
                    found.append(f"{name}: hyphen as a minus sign in {cell!r}")
                if SEMICOLON_RANGE.search(cell) or any(m.groups() == ("", "") for m in TO_RANGE.finditer(cell)):
                    found.append(f"{name}: a range not written with an en dash in {cell!r}")
                if DASH_BESIDE_MINUS.search(cell):
                    found.append(f"{name}: an en dash beside a minus sign (write 'to') in {cell!r}")
                if re.fullmatch(r"\d{4,}(\.\d+)?", cell) and not (re.fullmatch(r"\d{4}", cell) and 1900 <= int(cell) <= 2100):
                    found.append(f"{name}: thousands without a comma in {cell!r}")
        for j, head in enumerate(heads):
            if head in ROW_WISE:
                continue
            numbers = [r[j] for r in rows if len(r) == len(heads) and NUMBER.fullmatch(r[j])]
            decimals = {_decimals(v) for v in numbers}
            if len(decimals) > 1:
                found.append(f"{name}: column {head!r} mixes {sorted(decimals)} decimals: {numbers[:6]}")
    return found


def test_the_scanner_finds_each_mixed_style():
    """The scanner itself, on a table written with every defect the issue lists, and on a clean one."""
    bad = ("<article><table><thead><tr><th>Group</th><th>Rate</th><th>CI</th></tr></thead><tbody>"
           "<tr><td>a</td><td>12</td><td>-2.8 to 14.3</td></tr><tr><td>b</td><td>12.7</td><td>(0.5 to 3.4)</td></tr>"
           "<tr><td>c</td><td>2238</td><td>2.1 [2.1;2.3]</td></tr></tbody></table></article>")
    good = ("<article><table><thead><tr><th>Group</th><th>Rate</th><th>CI</th></tr></thead><tbody>"
            "<tr><td>a</td><td>12.0</td><td>5.7 (−2.8 to 14.3)</td></tr><tr><td>b</td><td>2,238.0</td><td>2.1 [2.1–2.3]</td></tr>"
            "<tr><td>c</td><td>−3.0</td><td>−1.50 (−2.25 to −0.75); Mg 1.8–2.2</td></tr>"
            "</tbody></table></article>")
    found = " | ".join(problems(bad))
    for what in ("hyphen as a minus", "range not written", "thousands without a comma", "mixes [0, 1] decimals"):
        assert what in found, what
    assert problems(good) == []


@pytest.mark.parametrize("cell", ["−0.24 (−0.63–0.15)", "0.10 (−0.63–−0.15)", "−0.24 [−0.63–0.15]", "0.2 (0.1–−0.6)"])
def test_the_scanner_wants_to_beside_a_negative_bound(cell):
    """The rule of formatting.interval: an en dash only between bounds that are both non-negative."""
    page = f"<article><table><tbody><tr><td>{cell}</td></tr></tbody></table></article>"
    assert any("en dash beside a minus sign" in p for p in problems(page)), cell


@pytest.mark.parametrize("doc", runs.toc_documents())
def test_every_pages_tables_have_one_number_style(built, doc):
    out, _, _ = built
    page = (out / "html" / f"{doc}.html").read_text(encoding="utf-8")
    assert problems(page) == []
