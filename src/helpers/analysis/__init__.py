"""The thesis's analyses, built on :mod:`helpers.stats` (layer 1).

The data dictionary, derived variables, the participant flow, the adjustment sets of Models 1–4, the
baseline table, subgroups, progression and the cell-culture comparisons.
"""
