"""Helpers of the magnesium-in-CKD compendium: every statistic, derivation and figure the book uses,
each in one named function; the notebooks only call them.

The folders are layers; a lower layer never imports a higher one (``tests/test_layers.py``):

- :mod:`helpers.stats`     general statistics that know nothing of the thesis (survival, Fine–Gray,
  regression and splines, trend tests)
- :mod:`helpers.analysis`  the thesis's analyses: data dictionary, derived variables, participant flow,
  Models 1–4, baseline table, subgroups, progression, cell-culture comparisons
- :mod:`helpers.report`    presentation: figures, display tables, formatting, disclosure, and
  :mod:`helpers.report.published`, the one reader of ``data/published`` (the thesis's numbers and the
  declaration of what the synthetic cohort fixes, ``synthetic_design.yml``)
- :mod:`helpers.synthetic` the seeded generators of the synthetic cohort and cell-culture replicates,
  reading their targets and planted values through :mod:`helpers.report.published`
- :mod:`helpers.pipeline`  parameters, validation, notebook execution, cache, provenance

:mod:`helpers.paths` (where things are) and :mod:`helpers.errors` (the one input error) sit beside the
layers and import nothing. :mod:`helpers.survival`, :mod:`helpers.tables` and :mod:`helpers.regression`
are the public statistics API, kept stable whatever moves behind them.
"""

__version__ = "0.1.0"
