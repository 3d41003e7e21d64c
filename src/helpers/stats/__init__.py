"""General statistics that know nothing of the thesis (layer 0).

Survival (cause-specific Cox, Aalen–Johansen, Gray's test, PH test, Kaplan–Meier), Fine–Gray, logistic
regression and splines, trend tests, standardized risks (g-formula), multiple imputation with Rubin's
rules, and the E-value. Each function states the R function it matches; ``tests/golden``
holds the R values. Nothing here imports another layer of ``helpers``.
"""
