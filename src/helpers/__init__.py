"""Helpers of the magnesium-in-CKD compendium.

Every statistic, derivation and figure style the book uses lives in one named function here; the
notebooks only call them. Modules follow the pipeline:

- :mod:`helpers.paths`      where things are (the only place paths are written down)
- :mod:`helpers.params`     the parameters file, read and checked
- :mod:`helpers.dictionary` the data dictionary (``data/dictionary.csv``)
- :mod:`helpers.validate`   reading and validating the input data
- :mod:`helpers.derive`     derived variables (Mg group, corrected calcium, ...)
- :mod:`helpers.cohort`     the participant flow of each analysis
- :mod:`helpers.synthetic`  the seeded generator of the synthetic cohort
- :mod:`helpers.figures`    figure style and the flow diagram
- :mod:`helpers.colophon`   provenance: commit, parameters, data hashes, package versions
- :mod:`helpers.build`      executing the notebooks and building the book
"""

__version__ = "0.1.0"
