"""Give the single-page HTML builder (used for the PDF) every HTML node handler.

Sphinx looks up a builder's node handlers by its name first and falls back to its format only when no
extension registered any handler under that name. sphinx-exercise registers its nodes for 'singlehtml',
so the fallback stops and nodes registered for 'html' alone (myst-nb's hidden-code toggle) become unknown
there. Copying the missing 'html' handlers to 'singlehtml' restores the fallback.
"""


def _copy_handlers(app):
    handlers = app.registry.translation_handlers
    single = handlers.setdefault("singlehtml", {})
    for name, pair in handlers.get("html", {}).items():
        single.setdefault(name, pair)


def setup(app):
    app.connect("builder-inited", _copy_handlers)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
