"""Sphinx extension: every table and figure links to the exact cell of the notebook that made it.

Under each cell whose output holds a table or a figure, a small link, "Code: notebooks/04_sensitivity.md,
cell 12", opens that cell in a listing of the page's source (``_code/<page>.html#cell-12``, beside the HTML
book), where every code cell is numbered as the build's error messages number them (code cells only, from
1; papermill's injected parameters cell left out) and every line of the file has its own anchor
(``#L118``). A code path of a notebook written in the text ("`notebooks/04_sensitivity.md`") links to the
top of its listing. The HTML builder only: the single page printed to PDF carries no such links.
"""

import html
import re
from pathlib import Path

from docutils import nodes
from sphinx.transforms.post_transforms import SphinxPostTransform

CODE_FOLDER = "_code"
FENCE = re.compile(r"^(`{3,}|~{3,})\{code-cell\}")


def code_cells(text: str) -> list[tuple[int, int]]:
    """The first and last line (1-based, fences included) of each code cell of a MyST text notebook."""
    cells, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening:
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == opening.group(1)), len(lines) - 1)
            cells.append((i + 1, end + 1))
            i = end
        i += 1
    return cells


def _source(app, docname: str) -> Path | None:
    """The page's text notebook in the repository (the staged copy is the executed .ipynb)."""
    from helpers import paths

    path = paths.ROOT / f"{docname}.md"
    return path if path.is_file() and code_cells(path.read_text(encoding="utf-8")) else None


def _code_numbers(app, docname: str) -> dict[int, int]:
    """Each code cell's index in the executed notebook -> its number among the text notebook's code cells."""
    import nbformat

    executed = Path(app.env.doc2path(docname))
    if executed.suffix != ".ipynb" or not executed.is_file():
        return {}
    notebook = nbformat.read(executed, as_version=4)
    numbers, count = {}, 0
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type == "code" and "injected-parameters" not in cell.metadata.get("tags", []):
            count += 1
            numbers[index] = count
    return numbers


def _shows_a_result(cell: nodes.Element) -> bool:
    for node in cell.findall():
        if isinstance(node, (nodes.image, nodes.figure, nodes.table)):
            return True
        if isinstance(node, nodes.raw) and "<table" in node.astext():
            return True
    return False


def listing_uri(docname: str, fragment: str = "") -> str:
    """The listing's address relative to the page ``docname``."""
    up = "../" * docname.count("/")
    return f"{up}{CODE_FOLDER}/{docname}.html" + (f"#{fragment}" if fragment else "")


class LinkCellsToTheirCode(SphinxPostTransform):
    default_priority = 250  # after myst-nb has chosen each output's mime type and folded hidden inputs
    builders = ("html",)

    def run(self, **kwargs):
        docname = self.env.docname
        source = _source(self.app, docname)
        if source is None:
            return
        shown = f"{docname}.md"
        numbers = _code_numbers(self.app, docname)
        for cell in list(self.document.findall(lambda n: isinstance(n, nodes.container) and n.get("nb_element") == "cell_code")):
            number = numbers.get(cell.get("cell_index"))
            if number is None or not _shows_a_result(cell):
                continue
            link = nodes.reference("", f"Code: {shown}, cell {number}", refuri=listing_uri(docname, f"cell-{number}"),
                                   classes=["cell-source-link"])
            cell += nodes.paragraph("", "", link, classes=["cell-source"])
        for literal in list(self.document.findall(nodes.literal)):
            if literal.astext() == shown and not isinstance(literal.parent, nodes.reference):
                literal.replace_self(nodes.reference("", "", literal.deepcopy(), refuri=listing_uri(docname)))


PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name}: the code of “{title}”</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem auto; max-width: 60rem; padding: 0 1rem; color: #222; }}
h1 {{ font-size: 1.3rem; }} p {{ line-height: 1.45; }}
pre {{ font-size: 0.8rem; line-height: 1.35; margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }}
.line {{ display: block; padding-left: 3.6em; text-indent: -3.6em; }}
.line .no {{ display: inline-block; width: 3em; margin-right: 0.6em; text-align: right; color: #999; text-indent: 0;
  user-select: none; text-decoration: none; }}
.cell {{ background: #f4f6f8; border-left: 3px solid #9ab; margin: 0.4rem 0; padding: 0.2rem 0; scroll-margin-top: 1rem; }}
.cell:target {{ background: #fff6d6; border-left-color: #d9a400; }}
.cell-label {{ font: 600 0.75rem system-ui, sans-serif; color: #456; padding-left: 3.6em; }}
.line:target {{ background: #fff0b3; }}
</style></head>
<body>
<h1><code>{name}</code></h1>
<p>The source of the page <a href="{page}">{title}</a>, the notebook that made its tables and figures. Code cells are
numbered from 1, as the build numbers them when one fails; each table and figure of the page links to its cell.
Run it with <code>mg-book</code>, or with plain papermill after <code>make notebooks</code>.</p>
{body}
</body></html>
"""


def _listing(text: str) -> str:
    cells = code_cells(text)
    starts = {first: number for number, (first, _) in enumerate(cells, start=1)}
    ends = {last for _, last in cells}
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if number in starts:
            cell = starts[number]
            out.append(f'</pre><div class="cell" id="cell-{cell}"><div class="cell-label">Cell {cell}</div><pre>')
        shown = html.escape(line) or " "  # an empty line keeps its height
        out.append(f'<span class="line" id="L{number}"><a class="no" href="#L{number}">{number}</a>{shown}</span>')
        if number in ends:
            out.append("</pre></div><pre>")
    return "<pre>" + "".join(out) + "</pre>"


def write_listings(app, exception):
    if exception is not None or app.builder.name != "html":
        return
    for docname in sorted(app.env.found_docs):
        source = _source(app, docname)
        if source is None:
            continue
        target = Path(app.outdir) / CODE_FOLDER / f"{docname}.html"
        target.parent.mkdir(parents=True, exist_ok=True)
        title = app.env.titles[docname].astext() if docname in app.env.titles else docname
        page = "../" * (docname.count("/") + 1) + f"{docname}.html"
        target.write_text(PAGE.format(name=html.escape(f"{docname}.md"), title=html.escape(title), page=page,
                                      body=_listing(source.read_text(encoding="utf-8"))), encoding="utf-8")


def setup(app):
    app.add_post_transform(LinkCellsToTheirCode)
    app.connect("build-finished", write_listings)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
