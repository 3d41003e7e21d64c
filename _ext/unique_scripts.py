"""Sphinx extension: each page lists a script only once.

sphinx-thebe registers its configuration script on an event that fires twice in a jupyter-book 1.x
build, so every page declared `const THEBE_JS_URL` twice and the browser logged an error. Exact
duplicates (same file, same inline body, same attributes; an inline script's file given as None or as
'') are dropped from the page context.
"""


def _unique(app, pagename, templatename, context, doctree):
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        name = getattr(script, "filename", script) or ""  # an inline script is registered as None or as ''
        key = (str(name), tuple(sorted((getattr(script, "attributes", {}) or {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", _unique, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
