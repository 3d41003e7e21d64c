"""Multiple imputation of missing covariates for a cause-specific Cox model, pooled by Rubin's rules.

- :func:`pool_rubin` pools one scalar as R's ``mice::pool.scalar(Q, U, n, k)`` (mice 3.15, rule
  "rubin1987"): total variance, Barnard–Rubin degrees of freedom, relative increase in variance and
  fraction of missing information, with mice's own definitions (checked against R in
  ``tests/test_imputation.py`` with golden values from ``tests/golden/imputation.R``).
- :func:`pool_rubin_table` pools every term of a coefficient table the same way and adds t-based 95%
  limits and P values on the Barnard–Rubin degrees of freedom, as ``summary(mice::pool(fit),
  conf.int = TRUE)`` reports them.
- :func:`multiple_imputation_cox` imputes missing markers by chained equations (statsmodels'
  ``MICEData``, predictive mean matching) with an imputation model that holds the analysis model's
  covariates, one event indicator per cause and each cause's Nelson–Aalen cumulative hazard at the
  patient's time (White and Royston 2009, Stat Med 28:1982; one per cause, as Bartlett and Taylor 2016
  advise under competing risks), fits the cause-specific Cox model on each completed data set and pools.

Each imputation is an independent chain seeded by its own child of ``numpy.random.SeedSequence(seed)``,
so a result depends only on the data and the seed, not on where or in which order the imputations ran:
the ``map`` argument lets a process pool or a Dask cluster run them (``helpers.pipeline.distributed``).
"""

import warnings
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd
from scipy import linalg as scipy_linalg, stats
from statsmodels.imputation.mice import MICEData

from helpers.stats._common import local_map
from helpers.stats.survival import cox_solve

# --- Rubin's rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RubinPooled:
    """One scalar pooled over ``m`` imputations, named as ``mice::pool.scalar`` names its output.

    ``qbar`` pooled estimate; ``ubar`` mean within-imputation variance; ``b`` between-imputation variance;
    ``t`` total variance ubar + (1 + 1/m) b; ``df`` Barnard–Rubin degrees of freedom; ``r`` relative
    increase in variance due to nonresponse (1 + 1/m) b / ubar; ``fmi`` fraction of missing information
    (r + 2/(df + 3)) / (r + 1).
    """

    m: int
    qbar: float
    ubar: float
    b: float
    t: float
    df: float
    r: float
    fmi: float


def barnard_rubin(m, b, t, dfcom=np.inf):
    """Barnard–Rubin (1999) degrees of freedom, as ``mice:::barnard.rubin`` (mice 3.15).

    lambda = (1 + 1/m) b / t, floored at 1e-4; df_old = (m − 1) / lambda²; df_obs = (dfcom + 1) / (dfcom + 3)
    · dfcom · (1 − lambda); df = df_old · df_obs / (df_old + df_obs), or df_old when dfcom is infinite.
    Works elementwise on arrays.
    """
    m, b, t, dfcom = np.broadcast_arrays(*(np.asarray(v, float) for v in (m, b, t, dfcom)))
    with np.errstate(divide="ignore", invalid="ignore"):
        lam = (1.0 + 1.0 / m) * b / t
        lam = np.where(lam < 1e-4, 1e-4, lam)
        dfold = (m - 1.0) / lam**2
        dfobs = (dfcom + 1.0) / (dfcom + 3.0) * dfcom * (1.0 - lam)
        df = np.where(np.isinf(dfcom), dfold, dfold * dfobs / (dfold + dfobs))
    return df if df.ndim else float(df)


def pool_rubin(estimates, variances, n=np.inf, k=1) -> RubinPooled:
    """Pool one parameter over imputations by Rubin's rules, exactly as ``mice::pool.scalar(Q, U, n, k)``.

    ``estimates`` (Q) and ``variances`` (U, squared standard errors) have one value per imputation
    (at least two); ``n`` the number of observations and ``k`` the number of parameters, so that the
    complete-data degrees of freedom are n − k (``n = inf``, mice's default, gives the large-sample df).

    Note mice's definitions, followed here: with no between-imputation variance (b = 0) lambda is floored
    at 1e-4, so ``df`` is finite and ``fmi`` = 2 / (df + 3) is small but not zero; ``r`` is 0.
    """
    q = np.asarray(estimates, float).ravel()
    u = np.asarray(variances, float).ravel()
    if q.shape != u.shape:
        raise ValueError("estimates and variances need one value per imputation each")
    m = len(q)
    if m < 2:
        raise ValueError("pooling needs at least two imputations")
    qbar, ubar = float(q.mean()), float(u.mean())
    b = float(q.var(ddof=1))
    r = (1.0 + 1.0 / m) * b / ubar
    t = ubar + (m + 1) * b / m
    df = barnard_rubin(m, b, t, dfcom=n - k)
    fmi = (r + 2.0 / (df + 3.0)) / (r + 1.0)
    return RubinPooled(m=m, qbar=qbar, ubar=ubar, b=b, t=t, df=df, r=r, fmi=fmi)


def pool_rubin_table(estimates, variances, n=np.inf, k=1, level=0.95) -> pd.DataFrame:
    """Pool each term of a coefficient table over imputations (:func:`pool_rubin` term by term).

    ``estimates`` and ``variances`` are (imputations × terms): DataFrames whose columns name the terms,
    or arrays (terms then named 0, 1, ...). Returns one row per term with ``term, estimate, se, df,
    lower, upper, p, fmi`` then ``riv`` (r) , ``lambda`` ((1 + 1/m) b / t, not floored), ``ubar`` and
    ``b``: se = sqrt(t); limits estimate ± t_{df}(1 − (1 − level)/2) · se and a two-sided P from the t
    distribution on the Barnard–Rubin df, as ``summary(pool(fit), conf.int = TRUE)`` in mice.
    """
    q = pd.DataFrame(estimates)
    u = pd.DataFrame(variances)
    if q.shape != u.shape:
        raise ValueError("estimates and variances must have the same shape (imputations × terms)")
    rows = []
    quantile = 1.0 - (1.0 - level) / 2.0
    for j, term in enumerate(q.columns):
        pooled = pool_rubin(q.iloc[:, j], u.iloc[:, j], n=n, k=k)
        se = float(np.sqrt(pooled.t))
        crit = float(stats.t.ppf(quantile, pooled.df))
        rows.append({
            "term": term, "estimate": pooled.qbar, "se": se, "df": pooled.df,
            "lower": pooled.qbar - crit * se, "upper": pooled.qbar + crit * se,
            "p": float(2.0 * stats.t.sf(abs(pooled.qbar / se), pooled.df)), "fmi": pooled.fmi,
            "riv": pooled.r, "lambda": (1.0 + 1.0 / pooled.m) * pooled.b / pooled.t, "ubar": pooled.ubar, "b": pooled.b,
        })
    return pd.DataFrame(rows)


# --- the imputation model --------------------------------------------------------------------------------


def nelson_aalen_at_own_time(time, status) -> np.ndarray:
    """Nelson–Aalen cumulative hazard H(t) = Σ_{s ≤ t} d(s) / n(s), read at each patient's own time.

    ``status`` is 1 for an event of the cause in question and 0 otherwise (censored or another cause);
    n(s) counts the patients with time ≥ s, and events tied at the patient's time are included.
    """
    time = np.asarray(time, float)
    status = np.asarray(status, float)
    times, inverse = np.unique(time, return_inverse=True)
    events = np.bincount(inverse, weights=status, minlength=len(times))
    leaving = np.bincount(inverse, minlength=len(times)).astype(float)
    at_risk = len(time) - np.concatenate([[0.0], np.cumsum(leaving)[:-1]])
    return np.cumsum(events / at_risk)[inverse]


def _analysis_rows(df, duration, event, covariates, impute):
    """Patients the analysis can use: duration > 0 and event known, and every non-imputed covariate known."""
    missing = [c for c in [duration, event, *covariates, *impute] if c not in df.columns]
    if missing:
        raise ValueError(f"columns not in the data: {', '.join(map(str, missing))}")
    needed = [duration, event, *[c for c in covariates if c not in impute]]
    keep = df[needed].notna().all(axis=1) & (df[duration] >= 0)  # follow-up 0 kept, as coxph keeps it
    return df.loc[keep, list(dict.fromkeys([duration, event, *covariates, *impute]))]  # those columns only


def imputation_frame(df, duration, event, covariates, impute) -> pd.DataFrame:
    """The data the chained equations see: covariates and markers, event indicators, Nelson–Aalen hazards.

    Rows are the patients the analysis uses (see :func:`multiple_imputation_cox`), in the data's order
    with its index. Columns: the model ``covariates``, then any column of ``impute`` that is not a
    covariate, then ``event_<c>`` (1 if the patient's event is cause c, else 0) and
    ``nelson_aalen_<c>`` (the marginal Nelson–Aalen cumulative hazard of cause c at the patient's time)
    for every cause c seen in the data (positive event codes). Time itself is left out, as White and
    Royston (2009) advise: the cumulative hazard carries it on the right scale.
    """
    d = _analysis_rows(df, duration, event, covariates, impute)
    columns = list(dict.fromkeys([*covariates, *impute]))
    frame = d[columns].astype(float).copy()
    codes = d[event].to_numpy()
    time = d[duration].to_numpy(float)
    for c in sorted(np.unique(codes[codes > 0])):
        label = int(c) if float(c).is_integer() else c
        status = (codes == c).astype(float)
        frame[f"event_{label}"] = status
        frame[f"nelson_aalen_{label}"] = nelson_aalen_at_own_time(time, status)
    return frame


class _MainEffectsMICEData(MICEData):
    """statsmodels' ``MICEData`` with its default imputation models (every other column, main effects,
    with an intercept) built by numpy instead of a formula parser: the same design matrices, so the same
    draws for the same seed (``tests/test_imputation.py`` checks it), about twice as fast."""

    def _design(self, vname):
        others = [c for c in self.data.columns if c != vname]
        x = self.data[others].to_numpy(float)
        return self.data[vname].to_numpy(float), np.column_stack([np.ones(len(x)), x])

    def _initial_imputation(self):
        """statsmodels' starting values (each column's observed value closest to its mean, the first such),
        filled in one pass over an array: ``fillna`` with a dict copies the whole frame once per column."""
        start = {}
        for col in self.data.columns:
            gap = np.abs(self.data[col] - self.data[col].mean())
            start[col] = self.data[col].loc[gap.idxmin()]
        values = self.data.to_numpy(float, copy=True)
        for j, col in enumerate(self.data.columns):
            values[np.isnan(values[:, j]), j] = start[col]
        self.data = pd.DataFrame(values, columns=self.data.columns, index=self.data.index)

    def get_fitting_data(self, vname):
        endog, exog = self._design(vname)
        ix = self.ix_obs[vname]
        return endog[ix], exog[ix], {}, {}

    def get_split_data(self, vname):
        endog, exog = self._design(vname)
        ixo, ixm = self.ix_obs[vname], self.ix_miss[vname]
        return endog[ixo], exog[ixo], exog[ixm], {}, {}


def _r_from_gram(gram):
    """The R factor of the QR decomposition of a tall matrix A from its Gram matrix A'A (up to the signs of
    its rows): the Cholesky factor of the column-equilibrated Gram matrix, rescaled. None when that is not
    well conditioned enough to be as accurate as a QR of A to about the twelfth digit (then QR A itself)."""
    scale = np.sqrt(np.diag(gram))
    if not np.all(scale > 0):
        return None
    try:
        r = scipy_linalg.cholesky(gram / np.outer(scale, scale), lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    return r * scale if np.min(np.abs(np.diag(r))) > 1e-5 else None


class _LinearPredictor:
    """What ``MICEData.impute_pmm`` asks of a fitted imputation model, ``predict(params, rows)``: the linear
    predictor of the design columns ``design`` of the array ``z`` at ``rows``, from one pass over ``z``."""

    def __init__(self, z, design):
        self.z, self.design, self._last = z, design, (None, None)

    def predict(self, params, rows):
        if self._last[0] is not params:
            full = np.zeros(self.z.shape[1])
            full[self.design] = params
            self._last = (params, self.z @ full)
        return self._last[1][rows]


class _FastMICEData(_MainEffectsMICEData):
    """``_MainEffectsMICEData`` with the same imputation models, draws and predictive mean matching, at a
    fraction of the cost on large data (``tests/test_imputation.py`` checks that it gives statsmodels' own
    imputations):

    - the data live in one numpy array (columns contiguous) while the chains run, written back to
      ``data`` after each :meth:`update_all`;
    - each conditional least-squares fit reads the R factor of [design | outcome] over the observed rows
      from their Gram matrix (all rows' less the missing rows', two BLAS passes; :func:`_r_from_gram`,
      else a Householder QR) rather than an SVD of the design: coefficients R⁻¹Q'y, residual sum of
      squares the last diagonal element squared, unscaled covariance R⁻¹R⁻ᵀ; a design that is not of full
      rank (read from R's singular values with statsmodels' tolerance) takes statsmodels' own fit;
    - the perturbed coefficients are drawn by the same ``rng.multivariate_normal`` call, and the donors
      are chosen by statsmodels' own ``impute_pmm``, the predictions made in one pass over the array.
    """

    _z = None  # [intercept | data] as one array, built at the first fit (after the initial imputation)
    _fitted = None  # the variable whose fit the last perturb_params made here (not statsmodels')
    _dirty = False  # the array holds imputations not yet written back to ``data``

    def _design_columns(self, vname):
        """Columns of the array in the design of ``vname`` (intercept, every other column) and its own."""
        if self._z is None:
            self._col = {c: j + 1 for j, c in enumerate(self.data.columns)}
            self._z = np.empty((len(self.data), len(self._col) + 1), order="F")
            self._z[:, 0] = 1.0
            self._z[:, 1:] = self.data.to_numpy(float)
        own = self._col[vname]
        return [k for k in range(self._z.shape[1]) if k != own], own

    def perturb_params(self, vname):
        if self.perturbation_method[vname] != "gaussian" or self.regularized.get(vname):
            return self._stock_perturb(vname)
        design, own = self._design_columns(vname)
        order, obs, missing = [*design, own], self.ix_obs[vname], self.ix_miss[vname]
        n, p = len(obs), len(design)
        if n <= p:
            return self._stock_perturb(vname)
        z_missing = self._z[missing]
        gram = (self._z.T @ self._z - z_missing.T @ z_missing)[np.ix_(order, order)]
        r = _r_from_gram(gram)
        if r is None:
            r = np.linalg.qr(self._z[np.ix_(obs, order)], mode="r")
        singular = np.linalg.svd(r[:p, :p], compute_uv=False)
        if np.sum(singular > singular.max() * p * np.finfo(float).eps) < p:
            return self._stock_perturb(vname)
        r_inverse = scipy_linalg.solve_triangular(r[:p, :p], np.eye(p))
        scale = r[p, p] ** 2 / (n - p)
        self.models[vname], self._fitted = _LinearPredictor(self._z, design), vname
        self.params[vname] = self.rng.multivariate_normal(mean=r_inverse @ r[:p, p], cov=(r_inverse @ r_inverse.T) * scale)

    def _stock_perturb(self, vname):
        self._fitted = None
        self._sync_to_frame()
        super().perturb_params(vname)

    def get_split_data(self, vname):
        if self._fitted != vname:
            return super().get_split_data(vname)
        obs = self.ix_obs[vname]
        return self._z[obs, self._col[vname]], obs, self.ix_miss[vname], {}, {}

    def _store_changes(self, col, vals):
        if self._z is None:
            return super()._store_changes(col, vals)
        if len(self.ix_miss[col]):
            self._z[self.ix_miss[col], self._col[col]] = np.atleast_1d(vals)
            self._dirty = True

    def _sync_to_frame(self):
        """Write the array's imputed values back into ``data`` (what callers and statsmodels read)."""
        if self._dirty:  # one new frame: setting columns one by one copies the whole block each time
            self.data = pd.DataFrame(self._z[:, 1:].copy(), columns=self.data.columns, index=self.data.index)
            self._dirty = False

    def update_all(self, n_iter=1):
        super().update_all(n_iter)
        self._sync_to_frame()

    def completed(self) -> np.ndarray:
        """The completed data as one array (the columns of ``data``), without copying the frame."""
        return self.data.to_numpy(float) if self._z is None else self._z[:, 1:]


def _mice_input(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as MICEData takes it: formula-safe names v0, v1, ..., a plain index, and one float block
    (MICEData copies the frame a few times; one block is copied without merging columns)."""
    return pd.DataFrame(frame.to_numpy(float), columns=[f"v{j}" for j in range(frame.shape[1])])


def _impute_once(frame: pd.DataFrame, seed, cycles: int, donors: int, engine=_FastMICEData, trace=None):
    """One completed data set: an independent chain of ``cycles`` MICE cycles from its own seed. With ``trace``
    (columns of ``frame``), also the rows of :func:`chain_trace` for this chain, ``(completed, rows)``: the
    draws are the same, cycle by cycle."""
    data = _mice_input(frame)
    if not data.isna().any().any():
        return frame.copy() if trace is None else (frame.copy(), [])
    names = {col: f"v{j}" for j, col in enumerate(frame.columns)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
        mice = engine(data, k_pmm=donors, rng=np.random.default_rng(seed))
        del data  # MICEData holds its own copy
        rows = _run_chain(mice, cycles, names, trace)
    values = mice.completed() if hasattr(mice, "completed") else mice.data.to_numpy(float)
    completed = pd.DataFrame(values, columns=frame.columns, index=frame.index)
    return completed if trace is None else (completed, rows)


def _run_chain(mice, cycles, names, trace=None):
    """``cycles`` cycles of ``mice``; with ``trace`` (columns), the mean and SD of each one's imputed values
    after every cycle, ``(cycle, column, mean, sd)``."""
    if trace is None:
        mice.update_all(cycles)
        return []
    rows = []
    for cycle in range(1, cycles + 1):
        mice.update_all(1)
        for column in trace:
            values = mice.data[names[column]].to_numpy(float)[mice.ix_miss[names[column]]]
            if len(values):
                rows.append((cycle, column, float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else np.nan))
    return rows


def _one_chain(child, data, names, impute, cycles, donors, engine=None):
    """Means and SDs of the imputed values of ``impute`` after each cycle of one chain (see chain_trace)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", (FutureWarning, DeprecationWarning))
        mice = (engine or _FastMICEData)(data.copy(), k_pmm=donors, rng=np.random.default_rng(child))
        return _run_chain(mice, cycles, names, list(impute))


def chain_trace(frame: pd.DataFrame, impute, chains: int = 4, cycles: int = 10, seed=20240521, donors: int = 5,
                map=None) -> pd.DataFrame:
    """Convergence trace of the chained equations, as ``plot(mice(...))`` draws it: for each of ``chains``
    independent chains (each from a child of ``numpy.random.SeedSequence([seed, 3])``, run through ``map``),
    after each of ``cycles`` cycles, the mean and standard deviation of the imputed values of every column of
    ``impute``. Chains that mix and trend nowhere after the first few cycles have converged. ``frame`` is
    the frame of :func:`imputation_frame`. Returns ``chain, cycle, variable, mean, sd``."""
    names = {col: f"v{j}" for j, col in enumerate(frame.columns)}
    data = _mice_input(frame)
    work = partial(_one_chain, data=data, names=names, impute=list(impute), cycles=cycles, donors=donors)
    results = (map or local_map)(work, np.random.SeedSequence([seed, 3]).spawn(chains))
    rows = [(chain, *row) for chain, chain_rows in enumerate(results, start=1) for row in chain_rows]
    return pd.DataFrame(rows, columns=["chain", "cycle", "variable", "mean", "sd"])


def se_variation(fmi: float, imputations: int) -> float:
    """The coefficient of variation, between runs with different seeds, of a pooled standard error from
    ``imputations`` imputations at fraction of missing information ``fmi``: FMI / √(2(m − 1)), the quadratic
    rule of von Hippel (2020) solved for it."""
    return float(fmi / np.sqrt(2.0 * (imputations - 1)))


def imputations_needed(fmi: float, cv: float = 0.05) -> int:
    """von Hippel's (2020) quadratic rule: the imputations for the standard error of a pooled estimate to
    vary between runs with coefficient of variation ``cv``, given its fraction of missing information:
    m = 1 + ½ (FMI / cv)², rounded up (at least 2)."""
    if not 0 <= fmi <= 1:
        raise ValueError(f"a fraction of missing information lies in [0, 1], not {fmi}")
    return max(2, int(np.ceil(1 + 0.5 * (fmi / cv) ** 2)))


# --- the Cox model ---------------------------------------------------------------------------------------


def _cox(time, status, x):
    """The Cox fit of one completed data set (:func:`helpers.stats.survival.cox_solve`, Efron ties): the
    coefficients, their variances and whether the fit converged."""
    sol = cox_solve(time, status, x)
    return sol.beta, np.diag(sol.imat), sol.converged


def _impute_and_fit(seed, frame, time, status, covariates, cycles, donors, trace=None):
    """One imputation: complete the frame from ``seed`` and fit the Cox model; (coefficients, variances,
    converged), and with ``trace`` (columns) the chain's trace rows (see :func:`_impute_once`) last."""
    if trace is None:
        return _cox(time, status, _impute_once(frame, seed, cycles, donors)[covariates].to_numpy(float))
    completed, rows = _impute_once(frame, seed, cycles, donors, trace=trace)
    return (*_cox(time, status, completed[covariates].to_numpy(float)), rows)


@dataclass(frozen=True)
class MultipleImputationCox:
    """Pooled cause-specific Cox model over multiple imputations.

    ``table``: one row per covariate, the columns of :func:`pool_rubin_table` (estimate = log hazard
    ratio) plus ``hr, hr_lower, hr_upper``. ``n`` patients used, ``n_missing`` of them with at least one
    missing marker, ``events`` events of the cause, ``imputations`` completed data sets, ``seed`` the
    base seed; ``estimates`` and ``variances`` the per-imputation coefficients and their variances
    (imputations × covariates); ``converged`` whether every imputation's Cox fit converged (the
    optimiser's verdict). The same counts are in ``table.attrs``.
    """

    table: pd.DataFrame
    n: int
    n_missing: int
    events: int
    imputations: int
    seed: int
    estimates: pd.DataFrame
    variances: pd.DataFrame
    converged: bool = True  # every imputation's Cox fit converged
    each_converged: tuple = ()  # whether each imputation's Cox fit converged, in order
    trace: pd.DataFrame | None = None  # the first chains' convergence trace (chain_trace's columns), if asked


def _pooled(estimates, variances, n, n_missing, events, seed, each_converged, trace=None) -> MultipleImputationCox:
    """Rubin's rules over the imputations' coefficients (imputations × covariates), as :func:`multiple_imputation_cox`
    reports them."""
    imputations, k = estimates.shape
    table = pool_rubin_table(estimates, variances, n=events, k=k)
    table["hr"], table["hr_lower"], table["hr_upper"] = np.exp(table["estimate"]), np.exp(table["lower"]), np.exp(table["upper"])
    table.attrs.update(n=n, n_missing=n_missing, events=events, imputations=imputations)
    return MultipleImputationCox(table=table, n=n, n_missing=n_missing, events=events, imputations=imputations, seed=seed,
                                 estimates=estimates, variances=variances, converged=all(each_converged),
                                 each_converged=tuple(each_converged), trace=trace)


def first_imputations(result: MultipleImputationCox, imputations: int) -> MultipleImputationCox:
    """What :func:`multiple_imputation_cox` returns with ``imputations`` on the data and seed of ``result``
    (which has at least as many): its first ``imputations`` completed data sets pooled again. Each imputation
    depends only on the data and its own child of the seed, spawned in order, so the first m of a larger run
    are the m of a smaller one."""
    if not 2 <= imputations <= result.imputations:
        raise ValueError(f"imputations: {imputations} is not between 2 and the {result.imputations} of this result")
    if len(result.each_converged) != result.imputations:
        raise ValueError("this result does not record each imputation's convergence")
    trace = None if result.trace is None else result.trace[result.trace["chain"] <= imputations].reset_index(drop=True)
    return _pooled(result.estimates.iloc[:imputations].copy(), result.variances.iloc[:imputations].copy(), result.n,
                   result.n_missing, result.events, result.seed, result.each_converged[:imputations], trace)


def multiple_imputation_cox(df, duration, event, covariates, impute, imputations=20, seed=20240521, cause=1,
                            map=None, cycles=10, donors=5, trace_chains=0) -> MultipleImputationCox:
    """Cause-specific Cox model with missing markers multiply imputed by chained equations.

    ``covariates`` are numeric columns of the Cox model (indicators coded 0/1); ``impute`` the columns
    whose missing values are imputed (continuous markers such as iPTH, 25-OH vitamin D, hs-CRP), usually
    also covariates. Patients with duration negative or missing, event missing, or a missing value in a
    covariate not listed in ``impute`` are left out; everyone else is kept.

    Imputation: statsmodels' ``MICEData`` with predictive mean matching (``donors`` nearest observed
    values, 5 as in mice) on linear models holding every other column of :func:`imputation_frame` —
    the covariates, the markers, one event indicator per cause and each cause's Nelson–Aalen cumulative
    hazard at the patient's time. Each of the ``imputations`` data sets comes from its own chain of
    ``cycles`` cycles seeded by a child of ``numpy.random.SeedSequence(seed)``.

    Analysis: ``Surv(duration, event == cause)`` Cox model with Efron ties (competing events censored)
    on each completed data set, pooled by :func:`pool_rubin_table` with complete-data degrees of freedom
    events − covariates, as ``mice::pool`` takes them for a ``coxph`` fit.

    ``map(function, seeds) -> list`` runs the imputations (in order); the default is a plain loop, and
    ``helpers.pipeline.distributed.mapper`` gives one for a process pool or a Dask cluster. The result is
    the same whichever runs them.

    ``trace_chains``: the first that many imputations also record their chain's convergence trace (``trace``,
    the columns of :func:`chain_trace`), as ``plot(mice(...))`` follows the chains that made the imputations;
    the draws are the same as without it.
    """
    covariates, impute = list(covariates), list(impute)
    if imputations < 2:
        raise ValueError("multiple imputation needs at least two imputations")
    frame = imputation_frame(df, duration, event, covariates, impute)
    time = df.loc[frame.index, duration].to_numpy(float)
    status = (df.loc[frame.index, event] == cause).to_numpy(float)
    if not status.any():
        raise ValueError(f"no events of cause {cause} among the {len(frame)} patients the analysis can use")
    n_missing = int(frame[impute].isna().any(axis=1).sum())
    seeds = np.random.SeedSequence(seed).spawn(imputations)
    work = partial(_impute_and_fit, frame=frame, time=time, status=status, covariates=covariates,
                   cycles=cycles, donors=donors)
    traced = min(trace_chains, imputations)
    run = map or local_map
    fits = (run(partial(work, trace=impute), seeds[:traced]) if traced else []) + \
        (run(work, seeds[traced:]) if traced < imputations else [])
    trace = pd.DataFrame([(chain, *row) for chain, f in enumerate(fits[:traced], start=1) for row in f[3]],
                         columns=["chain", "cycle", "variable", "mean", "sd"]) if traced else None
    estimates = pd.DataFrame([f[0] for f in fits], columns=covariates)
    variances = pd.DataFrame([f[1] for f in fits], columns=covariates)
    return _pooled(estimates, variances, len(frame), n_missing, int(status.sum()), seed, [bool(f[2]) for f in fits],
                   trace)
