"""What every regression fit of :mod:`helpers.stats` shares: the 95% normal quantile and the normal and
chi-square tail areas, the complete-case selection that says what it left out, the fit object's common
fields and summary table, and the plain loop that runs independent replicates when no cluster is given.

The tail areas are ``scipy.special``'s functions that ``scipy.stats.norm`` and ``scipy.stats.chi2`` call,
bit for bit the same numbers: importing ``scipy.stats`` costs about a second in every notebook's kernel,
and most pages need nothing else from it (modules that do import it inside the function that uses it)."""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

# numpy asks the kernel for transparent huge pages for each array of 4 MB or more; where the kernel then
# compacts memory at each such allocation (THP defrag "madvise", the Linux default), that costs more system
# time than the arithmetic on a registry-sized cohort: one imputation of chapter 8 at 10^6 patients took 9.2 s
# (10.8 s of system time) with it and 5.2 s (2.5 s) without. Every process that computes imports this module.
getattr(np._core.multiarray, "_set_madvise_hugepage", lambda enabled: None)(False)

Z95 = float(special.ndtri(0.975))
SUMMARY_COLUMNS = ["coef", "se", "ratio", "lower", "upper", "p"]


def normal_sf(z):
    """P(Z > z) for a standard normal Z (``scipy.stats.norm.sf``)."""
    return special.ndtr(-np.asarray(z, float))[()]


def chi2_sf(x, df):
    """P(X > x) for X chi-square with ``df`` degrees of freedom (``scipy.stats.chi2.sf``: 1 at x <= 0,
    missing when ``df`` is not positive)."""
    x = np.asarray(x, float)
    return np.where(np.asarray(df) > 0, np.where(x <= 0, 1.0, special.chdtrc(df, x)), np.nan)[()]


def local_map(function, items) -> list:
    """``function`` applied to each of ``items`` in order, here: the default of every ``map=`` argument
    (simulations, imputations, bootstrap), which a Dask client's map replaces."""
    return [function(item) for item in items]


def complete_cases(df, columns, duration=None):
    """The rows of ``df[columns]`` a model uses, the number left out and why (empty when none).

    Rows with a missing value in any of ``columns`` are left out (R's ``na.omit``); so are rows with a
    negative ``duration``, which R's ``Surv`` turns into NA. Records with follow-up 0 are kept, as R keeps them.
    """
    columns = list(dict.fromkeys(columns))
    d = df[columns]
    missing = d.isna()
    keep = ~missing.any(axis=1)
    reasons = [f"{int(missing[c].sum())} missing {c}" for c in columns if missing[c].any()]
    if duration is not None:
        negative = keep & (d[duration] < 0)
        if negative.any():
            reasons.append(f"{int(negative.sum())} with negative {duration}")
        keep &= ~negative
    dropped = int((~keep).sum())
    reason = "; ".join(reasons) if dropped else ""
    return (d[keep] if dropped else d), dropped, reason


def wald_summary(coef, se, index, name) -> pd.DataFrame:
    """The summary frame of a fit: ``coef, se, ratio, lower, upper, p`` (Wald 95% limits and P)."""
    coef, se = np.asarray(coef, float), np.asarray(se, float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a fit that did not converge
        p = 2 * normal_sf(np.abs(coef / se))
        return pd.DataFrame(
            {"coef": coef, "se": se, "ratio": np.exp(coef), "lower": np.exp(coef - Z95 * se),
             "upper": np.exp(coef + Z95 * se), "p": p},
            index=pd.Index(list(index), name=name),
        )


@dataclass
class Fit:
    """A fitted regression model: ``summary`` (one row per term: coef, se, ratio, lower, upper, p), the
    number of records used (``n``), left out (``n_dropped``, with ``dropped_reason``), events, the log
    (partial) likelihood and the optimiser's verdict: whether the fit converged, the terms whose coefficient
    runs off to infinity (``infinite``), why the fit is not estimable (``not_estimable``, '' when it is) and,
    for a logistic model, ``separation`` (fitted probabilities of 0 or 1)."""

    summary: pd.DataFrame
    n: int
    n_dropped: int
    dropped_reason: str
    events: int
    loglik: float
    converged: bool
    ratio_name: str = field(default="hr", repr=False)
    infinite: tuple = ()
    not_estimable: str = ""
    separation: bool = False

    def table(self) -> pd.DataFrame:
        """The summary with the ratio named as the public functions name it (``hr`` or ``or``) and the
        fit's scalars in ``attrs`` (``n``, ``n_dropped``, ``dropped_reason``, ``events``, ``loglik``,
        ``converged``)."""
        out = self.summary.rename(columns={"ratio": self.ratio_name})
        out.attrs.update(n=self.n, n_dropped=self.n_dropped, dropped_reason=self.dropped_reason,
                         events=self.events, loglik=self.loglik, converged=self.converged)
        return out
