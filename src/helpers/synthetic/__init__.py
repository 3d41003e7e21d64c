"""The synthetic data (layer 3): seeded generators of the cohort (:mod:`helpers.synthetic.cohort`) and of
the cell-culture replicates (:mod:`helpers.synthetic.vsmc`), reading their targets from ``data/published``."""
