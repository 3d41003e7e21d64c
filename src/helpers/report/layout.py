"""How a page lays out what it shows: reference material folded under a summary a reader can open.

A results page reads like a paper: the result, its denominator, its caveat. Checklists, dictionaries and
the generator's internals stay one click away, in a ``<details>`` block whose summary says what is inside
(styled by ``_static/custom.css``; printed open in the PDF).
"""

import html

from IPython.display import HTML


def folded(content, summary: str) -> HTML:
    """``content`` (a pandas Styler, a DataFrame, or HTML/Markdown text already rendered) inside a closed
    ``<details class="reference">`` block with ``summary`` as its one-line label."""
    if hasattr(content, "to_html"):
        body = content.to_html()
    elif hasattr(content, "_repr_html_"):
        body = content._repr_html_()
    else:
        body = str(content)
    return HTML(f'<details class="reference"><summary>{html.escape(summary)}</summary>'
                f'<div class="reference-body">{body}</div></details>')


# A table wider than the article's column at 1,400 px (about 780 px of 0.82 rem text, some 110 characters
# with cell padding) is marked wide: the page then gives the article the theme's full width
# (_static/custom.css hides the in-page contents column beside it).
WIDE_CHARACTERS = 105
WRAP_AT = 24  # longer text wraps (outputs.show keeps shorter cells on one line)
PADDING_CHARACTERS = 1.5


def estimated_width(table) -> float:
    """A table's width in characters as the browser lays it out: per column, its longest unbreakable cell
    (cells up to :data:`WRAP_AT` characters never break; longer ones wrap at about that) or header word."""
    total = 0.0
    for column in table.columns:
        cells = table[column].astype(str)
        longest = int(cells.str.len().max()) if len(cells) else 0
        header = max((len(w) for w in str(column).split()), default=0)
        total += max(min(longest, WRAP_AT) if longest > WRAP_AT else longest, header) + PADDING_CHARACTERS
    return total


def is_wide(table) -> bool:
    """Whether a displayed table needs more than the article's column at desktop width."""
    return estimated_width(table) > WIDE_CHARACTERS
