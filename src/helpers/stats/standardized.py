"""Standardized (g-formula) cumulative incidence from cause-specific Cox models, with influence-function
standard errors, as R's ``riskRegression::ate`` computes them.

For each group level ``a`` the cumulative incidence of ``cause`` is predicted for every patient of the
cohort with the group set to ``a`` and the other covariates as observed, and averaged::

    F̄_a(τ) = (1/n) Σ_i F_i^a(τ),   F_i^a(τ) = Σ_{t_j ≤ τ} S_i^a(t_{j-1}) λ_c(t_j) exp(x_i^a β_c),
    S_i^a(t_j) = Π_{l ≤ j} (1 − Σ_k λ_k(t_l) exp(x_i^a β_k)),

over the distinct event times t_j (any cause). One Cox model per cause k (``coxph(Surv(time, status ==
k) ~ group + covariates)``, Efron ties), its baseline hazard λ_k the Efron-form estimator riskRegression's
``predictCox`` uses for an Efron fit (at a time with d tied events, Σ_{r<d} 1/(S0 − (r/d)·S0_events)), and
the survival the product-limit form ``CSC``/``ate`` use by default (``product.limit = TRUE``).

Standard errors come from the influence function of F̄_a(τ): the averaging over the cohort's own rows,
(F_i^a(τ) − F̄_a(τ))/n, plus the delta-method terms of each model's coefficients and baseline hazard
(their Breslow-form influence functions, as ``riskRegression::iidCox``). The difference and the ratio
against the reference take the influence functions of both risks, so their correlation is kept. 95%
limits are Wald limits on the natural scale, bounded as ``ate`` bounds them: risks to [0, 1], differences
to [−1, 1], ratios below by 0.

Every step is vectorised over patients; the (patients × event times) survival is built in cache-sized
tiles and the influence functions (patients × times) a block of patients at a time, only their sums of
squares kept, so memory stays linear in the patients (no n × n matrix anywhere). :class:`StandardizedModel`
fits the Cox models once for any times and either tie rule. Checked against R in ``tests/test_standardized.py`` with
golden values made by ``tests/golden/standardized.R``.
"""

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from helpers.stats._common import Z95
from helpers.stats.survival import EventTimes, cox_solve, risk_set_sums

# A tile of the (event times × patients) survival: 32 × 4096 numbers, 1 MB, within a core's cache.
_TILE_TIMES, _TILE_PATIENTS = 32, 4096
_KINDS = ("risk", "difference", "ratio")


def standardized_risk(df, duration, event, group, covariates, times, cause=1, reference=None, *,
                      iid_ties="ate", competing_covariates=None) -> pd.DataFrame:
    """Standardized cumulative incidence of ``cause`` by ``group``, with differences and ratios.

    ``event`` codes 0 for censored and any other value for a cause; one cause-specific Cox model is
    fitted for every cause present. ``covariates`` are numeric or boolean columns (categorical or text
    columns are coded as indicators of every level but the first). Rows with a missing value in
    ``duration``, ``event``, ``group`` or a covariate are left out; how many is in ``attrs``.

    ``reference`` is the level the other groups are compared with; ``None`` takes the first level (the
    categories' order for a categorical column, else sorted values, as an R factor).

    ``iid_ties`` says how tied events enter the influence function of the Cox coefficients: ``"ate"``
    (the default) as riskRegression 2022.11.28's ``iidCox`` does, each distinct event time once however
    many events it has; ``"counted"`` every event (the textbook Breslow-form martingale). The two agree
    without tied event times; with ties ``"counted"`` is the consistent one and ``"ate"`` reproduces R.

    ``competing_covariates`` gives the models of the other causes an adjustment set of their own (each
    still holds ``group``), as ``CSC(list(f1, f2))`` does; ``None`` (the default) uses ``covariates`` for
    every cause. Patients are those with every column of either set recorded.

    Returns a tidy DataFrame ``time, group, kind, estimate, se, lower, upper`` with ``kind`` one of
    ``risk`` (every level), ``difference`` and ``ratio`` (every non-reference level against the
    reference: risk(group) − risk(reference) and risk(group) / risk(reference); a ratio is NaN at a time
    before the first event, where both risks are 0). ``attrs`` hold ``n``
    (patients analysed), ``n_dropped`` (rows left out for a missing value), ``reference``, ``cause``,
    ``causes`` and ``levels``.

    A group level without an event of some cause has that cause's hazard 0 (the limit of its infinite
    negative coefficient, where R's ``coxph`` stops at a large one): its risks are still estimated, as
    ``ate`` on a ``CSC`` fit estimates them.

    Raises ``ValueError`` naming the culprit for a time beyond the last follow-up, a group level without
    patients, a covariate constant over the cohort or collinear with the others, or a cause that does
    not occur.
    """
    model = StandardizedModel(df, duration, event, group, covariates, cause, reference,
                              competing_covariates=competing_covariates)
    return model.risks(times, iid_ties)


class StandardizedModel:
    """The cause-specific Cox models of :func:`standardized_risk`, fitted once for any times and tie rule.

    Built from the same arguments as :func:`standardized_risk` less ``times`` and ``iid_ties``, it fits
    each cause's model once (on every distinct event time) and reads off the standardized risks at any
    ``times`` with either ``iid_ties``: :meth:`risks` gives exactly ``standardized_risk``'s frame (the
    baseline hazards up to the last time asked for are a prefix of the full ones), :meth:`tables` several
    tie rules from one pass over the patients. Tables already computed are kept.
    """

    def __init__(self, df, duration, event, group, covariates, cause=1, reference=None, *, competing_covariates=None):
        self.data = _prepare(df, duration, event, group, covariates, cause, reference, competing_covariates)
        self.duration = duration
        self._solved, self._fits, self._tables = {}, {}, {}

    def risks(self, times, iid_ties="ate") -> pd.DataFrame:
        """The frame of :func:`standardized_risk` at ``times`` with the tie rule ``iid_ties``."""
        return self.tables(times, (iid_ties,))[iid_ties]

    def tables(self, times, ties=("ate", "counted")) -> dict:
        """``{iid_ties: frame}`` at ``times`` for each tie rule of ``ties``; one sweep over the patients serves
        them all (the rules differ only in the coefficients' influence function)."""
        for rule in ties:
            if rule not in ("ate", "counted"):
                raise ValueError(f"iid_ties must be 'ate' or 'counted', not {rule!r}")
        taus = _check_times(times, self.data.time, self.duration)
        todo = [rule for rule in dict.fromkeys(ties) if (tuple(taus), rule) not in self._tables]
        if todo:
            data = _at_times(self.data, taus)
            fits = [[_on_grid(self._fit(k, rule), len(data.grid)) for k in data.causes] for rule in todo]
            estimates, ses = _estimate(data, fits)
            for rule, se in zip(todo, ses):
                self._tables[tuple(taus), rule] = _table(data, estimates, se)
        return {rule: self._tables[tuple(taus), rule].copy() for rule in ties}

    def _fit(self, k, iid_ties) -> "_Fit":
        if (k, iid_ties) not in self._fits:
            if k not in self._solved:
                self._solved[k] = _solve_cause(self.data, k, self.data.x[:, self.data.columns[k]])
            self._fits[k, iid_ties] = _fit_cause(self.data, k, iid_ties, self._solved[k])
        return self._fits[k, iid_ties]


# --- input ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Data:
    """The analysed cohort, sorted by time: design matrix (centred), group index, times and event codes."""

    time: np.ndarray
    status: np.ndarray
    gidx: np.ndarray  # each patient's group level (index into levels)
    centre: np.ndarray  # the design's column means, taken off x
    x: np.ndarray
    n_group_columns: int  # the group's indicators: the design's first columns
    levels: list
    ref: int  # the reference level's index
    taus: np.ndarray | None  # the times asked for (None before :func:`_at_times`)
    causes: list
    cause: float  # the cause of interest
    n: int
    n_dropped: int
    columns: dict  # cause -> the design columns its model holds (boolean mask)
    grid: np.ndarray  # distinct event times (any cause) up to the last τ (every one before _at_times)
    nle: np.ndarray  # grid times ≤ each patient's time
    jt: np.ndarray | None  # grid times ≤ each τ


def _at_times(data: _Data, taus) -> _Data:
    """``data`` with the grid cut at the last of ``taus``: the distinct event times up to it."""
    J = int(np.searchsorted(data.grid, taus.max(), side="right"))
    return replace(data, taus=taus, grid=data.grid[:J], nle=np.minimum(data.nle, J),
                   jt=np.searchsorted(data.grid[:J], taus, side="right"))


def _prepare(df, duration, event, group, covariates, cause, reference, competing=None) -> _Data:
    own = list(covariates)
    competing = own if competing is None else list(competing)
    covariates = own + [c for c in competing if c not in own]  # the union: one design, one set of patients
    d, n_dropped = _complete_rows(df, [duration, event, group, *covariates], group, covariates)
    time = pd.to_numeric(d[duration], errors="raise").to_numpy(float)
    if np.any(time < 0) or not np.all(np.isfinite(time)):
        raise ValueError(f"column {duration!r} has a negative or infinite duration")
    status = pd.to_numeric(d[event], errors="raise").to_numpy(float)
    causes = np.unique(status[status != 0])
    if not np.any(causes == cause):
        present = ", ".join(f"{c:g}" for c in causes) or "none"
        raise ValueError(f"cause {cause!r} does not occur in column {event!r} (event codes present: {present})")
    levels, gidx, ref = _group_levels(d[group], group, reference)
    x, owners = _design(d, covariates, group, levels, gidx)

    order = np.argsort(time, kind="stable")
    time, status, centre = time[order], status[order], x.mean(axis=0)
    # The design columns each cause's model holds: the group's, and its own covariates'.
    columns = {k: np.array([o == group or o in (own if k == cause else competing) for o in owners]) for k in causes}
    # Distinct event times (any cause): the grid of the risk's sum, cut at the last time asked for later.
    grid = np.unique(time[status != 0])
    return _Data(time=time, status=status, gidx=gidx[order], centre=centre, x=x[order] - centre,
                 n_group_columns=len(levels) - 1, levels=levels, ref=ref, taus=None, causes=list(causes),
                 cause=cause, n=len(d), n_dropped=n_dropped, columns=columns, grid=grid,
                 nle=np.searchsorted(grid, time, side="right"), jt=None)


def _complete_rows(df, used, group, covariates):
    """The used columns of the rows where none is missing, and how many rows had a missing value."""
    for name in used:
        if name not in df.columns:
            raise ValueError(f"column {name!r} is not in the data")
    if group in covariates:
        raise ValueError(f"the group column {group!r} is also listed among the covariates")
    if len(set(used)) != len(used):
        raise ValueError("a column is listed twice among duration, event, group and covariates")
    complete = df[used].notna().all(axis=1)
    if not complete.any():
        raise ValueError("no patient has every column of duration, event, group and covariates filled in")
    return df.loc[complete, used], int((~complete).sum())


def _group_levels(col, group, reference):
    """Levels in an R factor's order (categories, else sorted values), each row's level index, the reference's."""
    if isinstance(col.dtype, pd.CategoricalDtype):
        levels = list(col.cat.categories)
        empty = [lv for lv in levels if not (col == lv).any()]
        if empty:
            raise ValueError(f"group level {empty[0]!r} of column {group!r} has no patients")
        gidx = col.cat.codes.to_numpy()
    else:
        levels = sorted(col.unique().tolist())
        gidx = pd.Categorical(col, categories=levels).codes
    if len(levels) < 2:
        raise ValueError(f"column {group!r} has a single level ({levels[0]!r}); there is nothing to compare")
    ref = 0
    if reference is not None:
        matches = [i for i, lv in enumerate(levels) if lv == reference]
        if not matches:
            raise ValueError(f"reference {reference!r} is not a level of column {group!r} (levels: {levels})")
        ref = matches[0]
    return levels, np.asarray(gidx, dtype=np.intp), ref


def _design(d, covariates, group, levels, gidx):
    """Group indicators (all levels but the first) and covariates; text or categorical ones as indicators.
    Returns the matrix and, for each of its columns, the column of ``d`` it codes."""
    blocks = [np.column_stack([(gidx == j).astype(float) for j in range(1, len(levels))])]
    names = [f"{group}={lv}" for lv in levels[1:]]
    owners = [group] * len(names)  # the column (group or covariate) each design column codes
    for name in covariates:
        c = d[name]
        if isinstance(c.dtype, pd.CategoricalDtype) or c.dtype == object or pd.api.types.is_string_dtype(c):
            cat = c if isinstance(c.dtype, pd.CategoricalDtype) else pd.Categorical(c, categories=sorted(c.unique()))
            cat = pd.Categorical(cat).remove_unused_categories()
            if len(cat.categories) < 2:
                raise ValueError(f"covariate {name!r} is constant ({cat.categories[0]!r}) over the {len(d)} "
                                 "patients analysed")
            codes = np.asarray(cat.codes)
            blocks.append(np.column_stack([(codes == j).astype(float) for j in range(1, len(cat.categories))]))
            names += [f"{name}={lv}" for lv in cat.categories[1:]]
            owners += [name] * (len(cat.categories) - 1)
        else:
            x = c.to_numpy(float)
            if not np.all(np.isfinite(x)):
                raise ValueError(f"covariate {name!r} has an infinite value")
            if np.ptp(x) == 0:
                raise ValueError(f"covariate {name!r} is constant ({x[0]:g}) over the {len(d)} patients analysed")
            blocks.append(x[:, None])
            names.append(name)
            owners.append(name)
    x = np.column_stack(blocks)
    centred = x - x.mean(axis=0)
    diag = np.abs(np.diag(np.linalg.qr(centred / np.linalg.norm(centred, axis=0), mode="r")))
    if np.any(diag < 1e-10):
        raise ValueError(f"design column {names[int(np.argmax(diag < 1e-10))]!r} is a linear combination of the "
                         "group indicators and the covariates before it")
    return x, owners


def _check_times(times, time, duration):
    taus = np.atleast_1d(np.asarray(times, dtype=float))
    if taus.ndim != 1 or len(taus) == 0 or not np.all(np.isfinite(taus)):
        raise ValueError("times must be one or more finite numbers")
    last = float(time.max())
    beyond = taus[taus > last]
    if len(beyond):
        raise ValueError(f"time {beyond[0]:g} is beyond the last follow-up time ({last:g}) of column {duration!r}")
    if np.any(taus < 0):
        raise ValueError(f"time {taus[taus < 0][0]:g} is negative")
    return taus


# --- cause-specific Cox models ----------------------------------------------------------------------------

@dataclass(frozen=True)
class _Fit:
    """One cause's model: coefficients, baseline hazard on the grid and the pieces of its influence function."""

    beta: np.ndarray
    w: np.ndarray  # each patient's relative hazard exp(x β), 0 in a level without an event of the cause
    alive_levels: np.ndarray  # the group levels with an event of the cause
    ifbeta: np.ndarray  # influence function of β (patients × design columns)
    hazard: np.ndarray  # baseline hazard on the grid (0 off the cause's events)
    mean: np.ndarray  # E(t) = S1/S0 on the grid
    cumhazard: np.ndarray
    hazard_s0: np.ndarray  # λ/S0, zero off this cause's events
    q: np.ndarray  # Σ_{u ≤ t} λ(u)/S0(u)
    r: np.ndarray  # Σ_{u ≤ t} E(u) λ(u)
    delta_s0: np.ndarray  # δ_m / S0(T_m) for this cause's events, 0 for the other patients


def _fit_cause(data: _Data, k, iid_ties, solved) -> _Fit:
    """Cause k's model on its own design columns (``solved``: its :func:`_solve_cause`); coefficients,
    influence functions and means are laid out over every column of the design, zero in the columns it
    does not hold."""
    fit = _fit_cause_own(data, iid_ties, solved)
    used, p = data.columns[k], data.x.shape[1]

    def widened(value):
        full = np.zeros((*value.shape[:-1], p))
        full[..., used] = value
        return full

    return replace(fit, beta=widened(fit.beta), ifbeta=widened(fit.ifbeta), mean=widened(fit.mean), r=widened(fit.r))


def _fit_limit(data: _Data, k, x, alive_levels):
    """Cause ``k``'s coefficients and inverse information when a group level has no event of ``k``.

    Such a level's coefficient is infinite and negative (R's ``coxph`` stops at a large arbitrary one, with a
    warning): its hazard of ``k`` is 0. The model is the limit, fitted on the other levels' patients (the
    level's indicator left out; when it is the reference, the first other level becomes the baseline); the
    level's patients then weigh 0 in every risk set. ``riskRegression::ate`` on such a ``CSC`` fit gives the
    same risks to 1e-9 (``tests/test_edges.py``). ``x`` holds the group's indicators first.
    """
    rows = alive_levels[data.gidx]
    indicators = [j - 1 for j in range(1, len(data.levels)) if alive_levels[j]]
    if not alive_levels[0] and indicators:
        indicators = indicators[1:]  # the first level with events becomes the baseline
    cols = np.array(indicators + list(range(data.n_group_columns, x.shape[1])), dtype=int)
    sol = cox_solve(data.time[rows], data.status[rows] == k, x[rows][:, cols])
    if not sol.converged:
        raise ValueError(f"the Cox model of cause {k:g} did not converge: {sol.reason}")
    beta, inverse = np.zeros(x.shape[1]), np.zeros((x.shape[1],) * 2)
    beta[cols], inverse[np.ix_(cols, cols)] = sol.beta, sol.imat
    return beta, inverse


@dataclass(frozen=True)
class _Solved:
    """One cause's Cox model as fitted (what does not depend on the tie rule of the influence function)."""

    alive_levels: np.ndarray
    deaths: EventTimes
    beta: np.ndarray
    inverse: np.ndarray
    w: np.ndarray
    x: np.ndarray  # the model's design columns, centred as the fitter centred them
    s0: np.ndarray
    s1: np.ndarray


def _solve_cause(data: _Data, k, x) -> _Solved:
    """Cause ``k``'s Cox model on the design columns ``x`` (Newton–Raphson, :func:`cox_solve`), or its limit
    when a group level has no event of ``k`` (:func:`_fit_limit`), with the Breslow risk-set sums."""
    time = data.time
    alive_levels = np.array([np.any((data.gidx == j) & (data.status == k)) for j in range(len(data.levels))])
    if alive_levels.all():
        sol = cox_solve(time, data.status == k, x)  # rows already sorted by time: the order is the identity
        if not sol.converged:
            raise ValueError(f"the Cox model of cause {k:g} did not converge: {sol.reason}")
        deaths, beta, inverse, w = sol.events, sol.beta, sol.imat, sol.w
        x = x - sol.centre  # the fitter's centring (data.x is centred already: this moves it by rounding only)
        s0, s1 = sol.s0, sol.s1  # Breslow risk sets at this cause's event times
    else:  # a level without an event of k: its hazard of k is 0 (the limit of the likelihood)
        beta, inverse = _fit_limit(data, k, x, alive_levels)
        deaths = EventTimes(time, data.status == k, "efron")
        w = np.exp(x @ beta) * alive_levels[data.gidx]
        s0, s1 = risk_set_sums(w, np.ascontiguousarray(x.T), deaths.start)
    return _Solved(alive_levels, deaths, beta, inverse, w, x, s0, s1)


def _fit_cause_own(data: _Data, iid_ties, solved: _Solved) -> _Fit:
    time, deaths, w, x, s0 = data.time, solved.deaths, solved.w, solved.x, solved.s0
    alive_levels, beta, inverse = solved.alive_levels, solved.beta, solved.inverse
    mean = solved.s1 / s0[:, None]
    d0 = np.add.reduceat(w[deaths.idx], deaths.first)
    hazard = np.bincount(deaths.group, 1.0 / (s0[deaths.group] - deaths.frac * d0[deaths.group]))

    # Influence function of the coefficients (Breslow form, as riskRegression::iidCox):
    # U_m = δ_m (x_m − E(T_m)) − w_m Σ_{u ≤ T_m} c_u (x_m − E(u)) / S0(u), IF_m = I⁻¹ U_m, where c_u is 1
    # (riskRegression) or the number of events at u.
    c = np.ones(len(deaths.times)) if iid_ties == "ate" else deaths.count.astype(float)
    cum0 = np.concatenate([[0.0], np.cumsum(c / s0)])
    cum1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(c[:, None] * mean / s0[:, None], axis=0)])
    u = -w[:, None] * (x * cum0[deaths.nle][:, None] - cum1[deaths.nle])
    u[deaths.idx] += x[deaths.idx] - mean[deaths.group]

    # Baseline hazard and risk-set quantities on the grid (zero where this cause has no event).
    grid, J = data.grid, len(data.grid)
    keep = deaths.times <= (grid[-1] if J else -np.inf)
    pos = np.searchsorted(grid, deaths.times[keep])
    hazard_grid, s0_grid, mean_grid = np.zeros(J), np.ones(J), np.zeros((J, x.shape[1]))
    hazard_grid[pos], s0_grid[pos], mean_grid[pos] = hazard[keep], s0[keep], mean[keep]
    hazard_s0 = hazard_grid / s0_grid
    delta_s0 = np.zeros(len(time))
    delta_s0[deaths.idx] = 1.0 / s0[deaths.group]
    return _Fit(beta=beta, w=w, alive_levels=alive_levels, ifbeta=u @ inverse, hazard=hazard_grid, mean=mean_grid,
                cumhazard=np.cumsum(hazard_grid), hazard_s0=hazard_s0, q=np.cumsum(hazard_s0),
                r=np.cumsum(mean_grid * hazard_grid[:, None], axis=0), delta_s0=delta_s0)


def _on_grid(fit: _Fit, J) -> _Fit:
    """A fit on every distinct event time cut to the first ``J`` (each a prefix: the same numbers)."""
    return replace(fit, hazard=fit.hazard[:J], mean=fit.mean[:J], cumhazard=fit.cumhazard[:J],
                   hazard_s0=fit.hazard_s0[:J], q=fit.q[:J], r=fit.r[:J])


# --- standardization ---------------------------------------------------------------------------------------

_BLOCK_PATIENTS = 8192  # patients per block of the influence function: its (patients × τ) arrays stay small


@dataclass(frozen=True)
class _Sweep:
    """What one pass over the patients leaves: risks, the sums the influence function needs, the jumps."""

    jumps: np.ndarray  # grid times with an event of the cause of interest
    risk: np.ndarray  # each distinct row's risk at each τ (distinct rows × τ)
    y: np.ndarray  # Σ_{t_j ≤ τ} W_ij λ_c(t_j) Λ_k(t_{j-1}) (causes × distinct rows × τ)
    inverse: np.ndarray  # each patient's distinct row
    col_a: np.ndarray  # Σ_i W_ij at the jumps
    col_c: np.ndarray  # Σ_i W_ij e_ik at the jumps (causes × jumps)


@dataclass(frozen=True)
class _Level:
    """One group level ``a``: the relative hazards with the group set to it, the sweep, the standardized
    risk and the sums over patients the influence function needs."""

    a: int
    e: np.ndarray  # patients × causes
    sweep: _Sweep
    mean: np.ndarray  # the standardized risk at each τ
    v2: np.ndarray  # Σ_i x_i F_i(τ) (τ × p)
    v4: list  # for each cause k, Σ_i x_i e_ik y_ik (τ × p)


def _blocks(n):
    return (slice(s, min(s + _BLOCK_PATIENTS, n)) for s in range(0, n, _BLOCK_PATIENTS))


def _with_level(data: _Data, a, rows=slice(None)):
    """The design's ``rows`` with the group set to level ``a`` (centred as the design)."""
    xa = data.x[rows].copy()
    ng = data.n_group_columns
    xa[:, :ng] = (np.arange(1, ng + 1) == a).astype(float) - data.centre[:ng]
    return xa


def _level(data: _Data, fits, a) -> _Level:
    """Level ``a``'s sweep over the patients and its sums over them (in blocks of patients)."""
    c = data.causes.index(data.cause)
    # n × K; a cause without an event in level a has no hazard there (its fit's limit)
    e = np.exp(_with_level(data, a) @ np.column_stack([f.beta for f in fits])) * \
        np.array([f.alive_levels[a] for f in fits], dtype=float)
    sweep = _sweep(data, fits, e, c)
    p, T = data.x.shape[1], len(data.taus)
    v2, v4 = np.zeros((T, p)), [np.zeros((T, p)) for _ in fits]
    for rows in _blocks(data.n):
        xa, inv = _with_level(data, a, rows), sweep.inverse[rows]
        v2 += sweep.risk[inv].T @ xa
        for k in range(len(fits)):
            v4[k] += (sweep.y[k][inv] * e[rows, k][:, None]).T @ xa
    mean = np.bincount(sweep.inverse, minlength=len(sweep.risk)) @ sweep.risk / data.n
    return _Level(a, e, sweep, mean, v2, v4)


def _estimate(data: _Data, fit_sets):
    """The standardized risk of every level at each τ and, for each set of fits in ``fit_sets`` (the causes'
    fits under one tie rule each: they share coefficients and hazards, so one sweep serves them all), the
    standard errors of every risk, difference and ratio ``{(kind, level): se}``.

    The influence functions are built a block of patients at a time, every level's together, and only
    their sums of squares are kept: memory that of a block, not of (patients × τ)."""
    T, L, ref = len(data.taus), len(data.levels), data.ref
    if len(data.grid) == 0:  # no event up to the last τ: every risk is 0, and so is its influence function
        estimates = {a: np.zeros(T) for a in range(L)}
        return estimates, [_squares(data, estimates, dict.fromkeys(range(L), np.zeros((1, T)))) for _ in fit_sets]
    levels = [_level(data, fit_sets[0], a) for a in range(L)]
    estimates = {lv.a: lv.mean for lv in levels}
    consts = [_constants(data, fit_sets[0], lv) for lv in levels]
    squares = [None] * len(fit_sets)
    for rows in _blocks(data.n):
        for j, fits in enumerate(fit_sets):
            iids = {lv.a: _models_block(data, fits, lv, const, rows) / data.n
                    + (lv.sweep.risk[lv.sweep.inverse[rows]] - lv.mean) / data.n for lv, const in zip(levels, consts)}
            block = _squares(data, estimates, iids)
            squares[j] = block if squares[j] is None else {key: squares[j][key] + v for key, v in block.items()}
    return estimates, [{key: np.sqrt(v) for key, v in s.items()} for s in squares]


def _squares(data: _Data, estimates, iids):
    """Sums over the patients of the squared influence functions of each risk, difference and ratio."""
    ref, fr = data.ref, estimates[data.ref]
    out = {("risk", a): np.sum(iid * iid, axis=0) for a, iid in iids.items()}
    for a in (a for a in iids if a != ref):
        diff = iids[a] - iids[ref]
        out["difference", a] = np.sum(diff * diff, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = iids[a] / fr - iids[ref] * (estimates[a] / fr**2)
            out["ratio", a] = np.sum(ratio * ratio, axis=0)
    return out


def _sweep(data: _Data, fits, e, c) -> _Sweep:
    """Each distinct row's risk at each τ, and sums over patients of S_i(t_{j-1}) e_ic (1, e_ik) at the jumps.

    The product-limit survival S_i(t_{j-1}) = Π_{l<j} (1 − Σ_k λ_k(t_l) e_ik) is built in tiles of
    (event times × patients) small enough to stay in the processor's cache: within a tile, a running
    product down the event times (each step one vector operation over the tile's 4,096 patients), carried
    from tile to tile; each tile adds its share of the risks and sums by two small matrix products. Cost:
    a few passes over (patients × event times) numbers, as R's ate; memory that of one tile, not of
    (patients × event times).
    """
    J, T, K = len(data.grid), len(data.taus), len(fits)
    lam = fits[c].hazard
    jumps = np.flatnonzero(lam > 0)  # grid times with an event of the cause of interest
    rows = jumps[-1] + 1 if len(jumps) else 0  # survival is needed up to the last jump only
    before = (np.arange(J)[:, None] < data.jt[None, :])[:rows]  # t_j ≤ τ
    prev_cum = [np.concatenate([[0.0], f.cumhazard[:-1]])[:rows] for f in fits]  # Λ_k(t_{j-1})
    weights = np.hstack([(lam[:rows] * pc)[:, None] * before for pc in [np.ones(rows), *prev_cum]])
    # Row j's factor of the product: 1 − Σ_k λ_k(t_{j-1}) e_ik (1 for the first row).
    minus_hazard = np.zeros((rows, K))
    minus_hazard[1:] = -np.vstack([f.hazard[:rows - 1] for f in fits]).T
    # Patients with the same relative hazards (the same covariates) have the same survival: each distinct
    # row is swept once, its sums weighted by how many patients share it.
    e, inverse, counts = _distinct_rows(e)
    risk, y = np.zeros((len(e), T)), np.zeros((K, len(e), T))  # y: Σ_{t_j ≤ τ} W_ij λ_c(t_j) Λ_k(t_{j-1})
    sums = np.zeros((rows, 1 + K))  # Σ_i W_ij (1, e_ik), W_ij = S_i(t_{j-1}) e_ic
    for s in range(0, len(e) if rows else 0, _TILE_PATIENTS):
        eb = e[s:s + _TILE_PATIENTS]
        weighted = (counts[s:s + len(eb)] * eb[:, c])[:, None] * np.column_stack([np.ones(len(eb)), eb])
        risks = _tile_sweep(minus_hazard, eb, weights, weighted, sums) * eb[:, c]
        risk[s:s + len(eb)] = risks[:T].T
        y[:, s:s + len(eb)] = risks[T:].reshape(K, T, len(eb)).transpose(0, 2, 1)
    return _Sweep(jumps=jumps, risk=risk, y=y, inverse=inverse, col_a=sums[jumps, 0], col_c=sums[jumps, 1:].T)


def _distinct_rows(e):
    """``numpy.unique(e, axis=0, return_inverse=True, return_counts=True)`` (rows in lexicographic order), by
    one lexsort of the columns: numpy's row-wise unique sorts a structured view, several times slower."""
    order = np.lexsort(e.T[::-1])
    ordered = e[order]
    new = np.ones(len(e), dtype=bool)
    new[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    ids = np.cumsum(new) - 1
    inverse = np.empty(len(e), dtype=np.intp)
    inverse[order] = ids
    return ordered[new], inverse, np.bincount(ids)


def _tile_sweep(minus_hazard, eb, weights, weighted, sums):
    """One block of patients down the event times, in tiles: weightsᵀ · S (returned) and S · weighted
    (added to ``sums``), S the product-limit survival just before each event time."""
    carry = np.ones(len(eb))
    acc = np.zeros((weights.shape[1], len(eb)))
    tile = np.empty((_TILE_TIMES, len(eb)))
    for j0 in range(0, len(minus_hazard), _TILE_TIMES):
        h = minus_hazard[j0:j0 + _TILE_TIMES]
        sv = tile[:len(h)]
        np.dot(h, eb.T, out=sv)
        sv += 1.0
        np.multiply(sv[0], carry, out=sv[0])
        for j in range(1, len(h)):  # row by row over 4,096 patients: numpy's accumulate down a column
            np.multiply(sv[j - 1], sv[j], out=sv[j])  # is several times slower
        carry = sv[-1].copy()
        acc += weights[j0:j0 + len(h)].T @ sv
        sums[j0:j0 + len(h)] += sv @ weighted
    return acc


@dataclass(frozen=True)
class _Constants:
    """What the Cox models' part of level ``a``'s influence function needs besides each patient's own values."""

    big_a: np.ndarray  # A_j = Σ_i S_i(t_{j-1}) e_ic at the jumps, 0 elsewhere
    cum: np.ndarray  # Σ_{u ≤ t_j} A λ_c/S0, from 0
    m_c: np.ndarray  # Σ_i x_i F_i(τ) − Σ_{t_j ≤ τ} A_j λ_c(t_j) E_c(t_j)  (τ × p)
    causes: list  # for each cause k: (Σ a_k, Σ a_k Q_k(t_{j-1}), Σ_{t_j ≤ τ} a_kj R_k(t_{j-1}) (τ × p), Q_k from 0)


def _constants(data: _Data, fits, lv: _Level) -> _Constants:
    J, jt, jumps = len(data.grid), data.jt, lv.sweep.jumps
    c = data.causes.index(data.cause)
    fc, lam = fits[c], fits[c].hazard
    big_a = np.zeros(J)
    big_a[jumps] = lv.sweep.col_a
    mask = (np.arange(J)[:, None] < jt[None, :]).astype(float)  # J × T
    v1 = mask.T @ ((big_a * lam)[:, None] * fc.mean)  # T × p
    causes = []
    for k, f in enumerate(fits):
        ak = np.zeros(J)
        ak[jumps] = lam[jumps] * lv.sweep.col_c[k]
        q_prev = np.concatenate([[0.0], f.q[:-1]])
        r_prev = np.vstack([np.zeros((1, f.r.shape[1])), f.r[:-1]])
        causes.append((np.concatenate([[0.0], np.cumsum(ak)]), np.concatenate([[0.0], np.cumsum(ak * q_prev)]),
                       mask.T @ (ak[:, None] * r_prev), np.concatenate([[0.0], f.q])))
    return _Constants(big_a, np.concatenate([[0.0], np.cumsum(big_a * fc.hazard_s0)]), lv.v2 - v1, causes)


def _models_block(data: _Data, fits, lv: _Level, const: _Constants, rows):
    """The Cox models' part of level ``a``'s influence function for the patients ``rows`` (block × τ, before / n)."""
    jt, nle = data.jt, data.nle[rows]
    fc = fits[data.causes.index(data.cause)]
    g = np.zeros((len(nle), len(data.taus)))
    # λ_c's own part: δ_m 1{T_m = t_j}/S0 · A_j and − w_m Σ_{t_j ≤ min(τ, T_m)} A_j λ_c/S0.
    delta = fc.delta_s0[rows]
    dead = np.flatnonzero(delta)
    dead = dead[data.time[rows][dead] <= data.grid[-1]]  # events after the last grid time never count
    at = const.big_a[nle[dead] - 1] * delta[dead]
    g[dead] += at[:, None] * (nle[dead][:, None] <= jt[None, :])
    g -= fc.w[rows][:, None] * np.where(jt[None, :] <= nle[:, None], const.cum[jt][None, :], const.cum[nle][:, None])
    g += fc.ifbeta[rows] @ const.m_c.T
    for k, f in enumerate(fits):
        g += _cumhazard_block(data, f, const.causes[k], rows, nle)
        g -= f.ifbeta[rows] @ lv.v4[k].T
    return g


def _cumhazard_block(data: _Data, f, sums, rows, nle):
    """− Σ_{t_j ≤ τ} a_kj IFΛ_k(t_{j-1}) for one cause k and the patients ``rows``, where
    a_kj = λ_c(t_j) Σ_i S_i(t_{j-1}) e_ic e_ik."""
    J, jt = len(data.grid), data.jt
    cum_a, cum_aq, r_part, q0 = sums
    g = np.zeros((len(nle), len(data.taus)))
    # − δ_m/S0(T_m) Σ_{T_m ≤ t_{j-1}, t_j ≤ τ} a_kj
    delta = f.delta_s0[rows]
    dk = np.flatnonzero(delta)
    tail = cum_a[jt][None, :] - cum_a[np.minimum(nle[dk], J)][:, None]
    g[dk] -= delta[dk][:, None] * np.where(jt[None, :] > nle[dk][:, None], tail, 0.0)
    # + w_m Σ_{t_j ≤ τ} a_kj Q_k(min(T_m, t_{j-1})): up to t_j ≤ T_m the sum of a Q, beyond it Q_k(T_m) Σ a
    after = np.minimum(nle + 1, J)
    q_own = q0[nle]
    g += f.w[rows][:, None] * np.where(jt[None, :] <= (nle + 1)[:, None], cum_aq[jt][None, :],
                                       cum_aq[after][:, None] + q_own[:, None] * (cum_a[jt][None, :] - cum_a[after][:, None]))
    # + IFβ_k · Σ_{t_j ≤ τ} a_kj R_k(t_{j-1})
    return g + f.ifbeta[rows] @ r_part.T


# --- output ------------------------------------------------------------------------------------------------

def _table(data: _Data, estimates, ses) -> pd.DataFrame:
    """The tidy frame of :func:`standardized_risk` from the estimates by level and ``ses`` by (kind, level)."""
    rows = []

    def add(kind, level, est, se, low, high):
        lower, upper = est - Z95 * se, est + Z95 * se
        if low is not None:
            lower = np.maximum(lower, low)
        if high is not None:
            upper = np.minimum(upper, high)
        for t, e_, s_, l_, u_ in zip(data.taus, est, se, lower, upper):
            rows.append((float(t), data.levels[level], kind, float(e_), float(s_), float(l_), float(u_)))

    ref = data.ref
    for a in range(len(data.levels)):
        add("risk", a, estimates[a], ses["risk", a], 0.0, 1.0)
    others = [a for a in range(len(data.levels)) if a != ref]
    for a in others:
        add("difference", a, estimates[a] - estimates[ref], ses["difference", a], -1.0, 1.0)
    fr = estimates[ref]
    for a in others:
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = estimates[a] / fr
        add("ratio", a, ratio, ses["ratio", a], 0.0, None)
    out = pd.DataFrame(rows, columns=["time", "group", "kind", "estimate", "se", "lower", "upper"])
    out.attrs.update(n=data.n, n_dropped=data.n_dropped, reference=data.levels[ref], cause=data.cause,
                     causes=list(data.causes), levels=list(data.levels))
    return out
