"""Sphinx extension: the bibliography labelled by author and year, as the citations in the text are.

sphinxcontrib-bibtex's author_year reference style writes "Kang, n.d." in the text, but the entries of the
bibliography keep the labels of their formatting style ('alpha' gives "[Kand.]"). This registers a pybtex
label style ('Kang n.d.', 'Fine and Gray 1999', 'Oh et al. 2014') and a formatting style 'author_year' that
uses it, sorted by author, year and title. DOIs and URLs are printed as links by pybtex's own templates.
"""

from pybtex.plugin import register_plugin
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle


def _surnames(entry) -> list[str]:
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    return [" ".join(p.prelast_names + p.last_names) for p in people]


def label(entry) -> str:
    """'Kang n.d.', 'Fine and Gray 1999' or 'Oh et al. 2014' (braces of BibTeX protection removed)."""
    names = [n.replace("{", "").replace("}", "") for n in _surnames(entry)]
    year = entry.fields.get("year", "n.d.")
    if not names:
        who = entry.fields.get("title", entry.key)[:20]
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who} {year}"


class AuthorYearLabels(BaseLabelStyle):
    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            yield label(entry)


class AuthorYearStyle(PlainStyle):
    default_label_style = "author_year_labels"


register_plugin("pybtex.style.labels", "author_year_labels", AuthorYearLabels)
register_plugin("pybtex.style.formatting", "author_year", AuthorYearStyle)


def setup(app):
    return {"parallel_read_safe": True, "parallel_write_safe": True}
