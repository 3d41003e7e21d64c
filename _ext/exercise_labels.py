"""Sphinx extension: an exercise shows its label beside its number, "Exercise 5 (hazards-1)".

Teachers name exercises by label (the teachers page, the parameters files in params/exercises/); students
see sphinx-exercise's running number. Giving every exercise without a title its label as the title makes
both see the same name, in the exercise and in its solution's heading.
"""


def _label_titles(app, doctree):
    from docutils import nodes
    from sphinx_exercise.nodes import exercise_enumerable_node, exercise_subtitle, exercise_title

    for node in doctree.findall(exercise_enumerable_node):
        title = node.children[0] if node.children else None
        label = node.get("label", "")
        if isinstance(title, exercise_title) and len(title.children) == 1 and label and "-exercise-" not in label:
            subtitle = exercise_subtitle()
            subtitle += nodes.Text(label)
            title += subtitle


def setup(app):
    app.connect("doctree-read", _label_titles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
