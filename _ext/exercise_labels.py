"""Sphinx extension: an exercise is named by its label, "Exercise hazards-1", in its heading and its solution's.

Teachers name exercises by label (the teachers page, the parameters files in params/exercises/); with
sphinx-exercise's running numbers students would see "Exercise 5" and the two could not talk about the same
exercise. Every exercise that has a label becomes an unnumbered one whose title is "Exercise <label>": the
solution's heading ("Solution to Exercise hazards-1") and a reference without its own text say the same. An
exercise without a label keeps sphinx-exercise's number.
"""


def _label_titles(app, doctree):
    from docutils import nodes
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_node, exercise_title

    registry = getattr(app.env, "sphinx_exercise_registry", {})
    for node in list(doctree.findall(exercise_enumerable_node)):
        label = node.get("label", "")
        title = node.children[0] if node.children else None
        if not label or "-exercise-" in label or not isinstance(title, exercise_title):
            continue
        name = f"{title.children[0].astext()} {label}"
        unnumbered = exercise_node("", *node.children, **node.attributes)
        unnumbered["title"] = name
        unnumbered.document = node.document
        new_title = exercise_title()
        new_title += nodes.Text(name)
        new_title += [child.deepcopy() for child in title.children[1:]]  # a title of its own stays, in brackets
        unnumbered.children[0] = new_title
        new_title.parent = unnumbered
        node.replace_self(unnumbered)
        if label in registry:
            registry[label]["node"] = unnumbered.deepcopy()


def setup(app):
    # Before sphinx-exercise's own doctree-read (priority 500), which registers each exercise's title as the
    # text of references to it.
    app.connect("doctree-read", _label_titles, priority=400)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
