"""Survival with a competing risk: incidence rates, cause-specific Cox models, cumulative incidence,
Gray's test and the proportional-hazards check.

Event coding throughout: 0 censored, ``cause`` the event of interest, any other positive code a
competing event. Every function is checked against R in ``tests/test_survival.py`` with golden values
made by ``tests/golden/survival.R``.
"""

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from helpers.stats._common import Z95, Fit, chi2_sf, complete_cases, wald_summary



# --- incidence ---------------------------------------------------------------------------------------

def incidence_rate(df, duration, event, cause=1, group=None, per=1000.0) -> pd.DataFrame:
    """Events of ``cause`` per ``per`` person-years, with exact (Garwood) Poisson 95% limits.

    ``duration`` in years. One row per group (in the group's order) and a last row 'Overall'; ``attrs`` hold
    ``n``, ``n_dropped`` and ``dropped_reason`` (records without follow-up or event status). A group without
    person-years has no rate (missing).
    Matches R's ``poisson.test(events, person_years / per)$conf.int`` (statsmodels' 'exact-c').
    """
    d, dropped, reason = _used(df, duration, event, group)
    parts = [("Overall", d)]
    if group:
        parts = [(str(g), part) for g, part in d.groupby(group, observed=False, sort=True)] + parts
    rows = []
    for name, part in parts:
        events = int((part[event] == cause).sum())
        years = float(part[duration].sum())
        # A group without person-years (no patient in it) has no rate (R's poisson.test refuses T = 0).
        low, high = garwood_interval(events, years / per) if years > 0 else (np.nan, np.nan)
        rows.append({
            "group": name, "participants": len(part), "events": events, "person_years": years,
            "rate": events / years * per if years > 0 else np.nan, "lower": float(low), "upper": float(high),
        })
    out = pd.DataFrame(rows)
    out.attrs.update(n=len(d), n_dropped=dropped, dropped_reason=reason)
    return out


def garwood_interval(events: int, exposure: float) -> tuple[float, float]:
    """Exact (Garwood) 95% limits of the Poisson rate ``events / exposure``: the gamma quantiles of
    statsmodels' ``confint_poisson(events, exposure, method="exact-c")``, computed by the scipy.special
    functions that ``scipy.stats.gamma`` calls (bit for bit the same numbers, without importing statsmodels
    and scipy.stats into every kernel); the lower limit is 0 without events."""
    low = special.gammaincinv(events, 0.05 / 2) / exposure if events > 0 else 0.0
    return low, special.gammainccinv(events + 1, 0.05 / 2) / exposure


def _used(df, duration, event, group=None):
    """Records with ``duration`` and ``event`` known (and follow-up not negative), with ``group`` beside
    them (a record without a group still counts overall); the number left out and why."""
    d, dropped, reason = complete_cases(df, [duration, event], duration)
    if group:
        d = d.join(df[[group]])
    return d, dropped, reason


# --- Cox proportional hazards ---------------------------------------------------------------------------

class EventTimes:
    """Events in time-sorted data: their rows, distinct times, tie groups and the tie fractions of Efron's
    approximation (all 0 for Breslow's), where each distinct time's risk set starts, and how many event
    times lie at or before each row's time."""

    def __init__(self, time, dead, ties="efron"):
        self.idx = np.flatnonzero(dead)
        t = time[self.idx]
        self.times, self.first, self.count = np.unique(t, return_index=True, return_counts=True)
        self.group = np.repeat(np.arange(len(self.times)), self.count)
        self.frac = (np.arange(len(t)) - self.first[self.group]) / self.count[self.group]
        if ties == "breslow":
            self.frac = np.zeros(len(t))
        self.start = np.searchsorted(time, self.times, side="left")  # first row still at risk
        self.nle = np.searchsorted(self.times, time, side="right")  # event times ≤ each row's time


def risk_set_sums(w, xt, start):
    """Σ w and Σ w·x over the rows at risk (time ≥ t) for the sorted times whose first row is ``start``.

    ``xt`` holds the covariates one per row (columns × patients, contiguous): the sums within each
    stretch between two starts, then a cumulative sum over the stretches (numpy sums along a contiguous
    row several times faster than down a column). Returns s0 (times) and s1 (times × columns).
    """
    if not len(start):
        return np.zeros(0), np.zeros((0, xt.shape[0]))
    s0 = np.cumsum(np.add.reduceat(w, start)[::-1])[::-1]
    s1 = np.cumsum(np.add.reduceat(xt * w, start, axis=1)[:, ::-1], axis=1)[:, ::-1]
    return s0, s1.T


def _partial_likelihood(beta, xt, ev: EventTimes):
    """Log partial likelihood (Efron's, or Breslow's when the tie fractions are 0), score and information,
    vectorised over the events: a few passes over the sorted rows (``xt``: covariates × patients)."""
    eta = beta @ xt
    shift = eta.max(initial=0.0)
    w = np.exp(eta - shift)
    s0, s1 = risk_set_sums(w, xt, ev.start)
    wd, xd, g = w[ev.idx], xt[:, ev.idx].T, ev.group
    d0 = np.add.reduceat(wd, ev.first) if len(g) else np.zeros(0)
    d1 = np.add.reduceat(wd[:, None] * xd, ev.first, axis=0) if len(g) else np.zeros((0, len(xt)))
    s0r = s0[g] - ev.frac * d0[g]
    mean = (s1[g] - ev.frac[:, None] * d1[g]) / s0r[:, None]
    loglik = float(np.sum(eta[ev.idx] - shift) - np.sum(np.log(s0r)))
    score = xd.sum(axis=0) - mean.sum(axis=0)
    # Σ_r S2_r / S0_r without (event × p × p) arrays: every row's x xᵀ weighted by the sum of 1/S0_r over
    # the event times it is at risk at, less the tied events' own share.
    a = np.concatenate([[0.0], np.cumsum(np.bincount(g, 1.0 / s0r, minlength=len(ev.times)))])
    b = np.bincount(g, ev.frac / s0r, minlength=len(ev.times))
    info = (xt * (w * a[ev.nle])) @ xt.T - (xd * (wd * b[g])[:, None]).T @ xd - mean.T @ mean
    return loglik, score, info


@dataclass
class CoxSolution:
    """What maximising a Cox partial likelihood leaves (see :func:`cox_solve`), rows sorted by time.

    ``beta`` coefficients and ``imat`` the inverse information, both on the covariates' own scale;
    ``loglik`` at ``beta`` and ``loglik_null`` at zero; ``iterations`` Newton steps taken; ``converged``
    the optimiser's verdict; ``infinite`` the columns whose coefficient seems to run off to ±infinity (R's
    "coefficient may be infinite"); ``reason`` why the fit is not estimable ('' when it is). Risk sets, at
    the Breslow form and centred covariates: ``w`` = exp((x − centre)·beta) per sorted row, ``s0``, ``s1``
    at the distinct event times of ``events``; ``order`` the sort of the rows, ``centre`` the column means.
    """

    beta: np.ndarray
    imat: np.ndarray
    loglik: float
    loglik_null: float
    iterations: int
    converged: bool
    infinite: np.ndarray
    reason: str
    events: EventTimes
    order: np.ndarray
    centre: np.ndarray
    w: np.ndarray
    s0: np.ndarray
    s1: np.ndarray


def cox_solve(time, dead, x, ties="efron", tol=1e-13, max_iter=50) -> CoxSolution:
    """Maximise the Cox partial likelihood (Efron or Breslow ties) by Newton–Raphson with step-halving,
    as ``survival::coxph`` does, after one sort of the rows by time.

    The covariates are centred and scaled inside (so that Newton's first steps cannot overflow) and the
    results rescaled exactly. Converged: the log likelihood changed by at most ``tol`` (relative) and the
    last step was below 1e-7 (scaled coefficients). Not converged, with the reason: ``max_iter`` steps
    without that; a singular information (collinear covariates); or the likelihood flat while a
    coefficient keeps growing (monotone likelihood, e.g. a level without events: the columns are in
    ``infinite``, as coxph warns "coefficient may be infinite").
    """
    order = np.argsort(time, kind="stable")
    x = np.asarray(x, float)
    centre = x.mean(axis=0) if len(x) else np.zeros(x.shape[1])
    scale = x.std(axis=0) if len(x) else np.ones(x.shape[1])
    scale[scale == 0] = 1.0
    zt = np.empty((x.shape[1], len(x)))  # centred, scaled, sorted; one covariate per row
    for k in range(x.shape[1]):
        zt[k] = (x[order, k] - centre[k]) / scale[k]
    ev = EventTimes(np.asarray(time, float)[order], np.asarray(dead, bool)[order], ties)
    beta, state, iterations, reason, loglik_null = _newton(zt, ev, tol, max_iter)
    loglik, score, info = state
    infinite = np.zeros(len(beta), bool)
    try:
        imat = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        imat, reason = np.full_like(info, np.nan), reason or "the information matrix is singular"
    if reason in ("", _FLAT) and np.all(np.isfinite(imat)):
        nxt = np.abs(imat @ score)  # R's check: the next Newton step, large beside the coefficient
        infinite = (nxt > 1e-9) & (nxt > np.sqrt(1e-9) * np.abs(beta))
    if infinite.any():
        reason = "the likelihood has no maximum: a coefficient may be infinite, as coxph warns"
    with np.errstate(over="ignore", invalid="ignore"):  # a coefficient running off to infinity
        w = np.exp(beta @ zt)  # exp((x − centre)·β) on the covariates' own scale
        s0, s1 = risk_set_sums(w, zt, ev.start)
    return CoxSolution(beta=beta / scale, imat=imat / np.outer(scale, scale), loglik=loglik, loglik_null=loglik_null,
                       iterations=iterations, converged=not reason, infinite=infinite, reason=reason, events=ev,
                       order=order, centre=centre, w=w, s0=s0, s1=s1 * scale)


_FLAT = "the likelihood is flat while a coefficient grows"


def _newton(zt, ev: EventTimes, tol, max_iter):
    """Newton–Raphson with step-halving from zero; the coefficients, (loglik, score, information) at them,
    the steps taken, why it stopped short ('' when it converged) and the log likelihood at zero."""
    beta = np.zeros(len(zt))
    state = _partial_likelihood(beta, zt, ev)
    null = state[0]
    flat = 0
    for iteration in range(1, max_iter + 1):
        try:
            step = np.linalg.solve(state[2], state[1])
        except np.linalg.LinAlgError:
            return beta, state, iteration - 1, "the information matrix is singular", null
        for _ in range(60):
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                trial = _partial_likelihood(beta + step, zt, ev)
            if np.isfinite(trial[0]) and trial[0] >= state[0] - 1e-12 * abs(state[0]):
                break
            step = step / 2.0
        else:
            return beta, state, iteration, "no step increased the likelihood", null
        beta, change, state = beta + step, abs(trial[0] - state[0]), trial
        if change > tol * (abs(state[0]) + tol):
            flat = 0
        elif np.max(np.abs(step), initial=0.0) < 1e-7:
            return beta, state, iteration, "", null
        else:
            flat += 1
            if flat >= 3:
                return beta, state, iteration, _FLAT, null
    return beta, state, max_iter, f"no convergence in {max_iter} Newton steps", null


@dataclass
class CoxFit(Fit):
    """A fitted cause-specific Cox model (see :func:`fit_cox`), with what its residuals and tests need:
    the optimiser's :class:`CoxSolution` and the covariates, times and statuses sorted by time."""

    cov: np.ndarray = None
    x: np.ndarray = None
    time: np.ndarray = None
    status: np.ndarray = None
    ties: str = "efron"
    solution: CoxSolution = None

    def schoenfeld(self) -> pd.DataFrame:
        """Schoenfeld residuals of this fit (see :func:`schoenfeld_residuals`)."""
        return _schoenfeld(self)

    def ph_test(self) -> "ProportionalHazardsResult":
        """Grambsch–Therneau test of this fit (see :func:`proportional_hazards_test`), without refitting."""
        return _ph_test(self)


def fit_cox(df, duration, event, covariates, cause=1, ties="efron", *, max_iter=50) -> CoxFit:
    """Cause-specific Cox model of ``cause`` (other events censored) as a :class:`CoxFit`.

    Complete cases; records with follow-up 0 are kept, as ``coxph`` keeps them (they are in the risk set at
    time 0). Fitted by :func:`cox_solve` (Newton–Raphson with step-halving, Efron or Breslow ties);
    ``converged`` is the optimiser's verdict and ``not_estimable`` says why when it is False.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError("ties must be 'efron' or 'breslow'")
    d, dropped, reason = complete_cases(df, [duration, event, *covariates], duration)
    status = (d[event] == cause).to_numpy(bool)
    x = d[covariates].to_numpy(float)
    time = d[duration].to_numpy(float)
    sol = cox_solve(time, status, x, ties, max_iter=max_iter)
    return CoxFit(
        wald_summary(sol.beta, np.sqrt(np.diag(sol.imat)), covariates, "covariate"), n=len(d), n_dropped=dropped,
        dropped_reason=reason, events=int(status.sum()), loglik=sol.loglik, converged=sol.converged,
        ratio_name="hr", cov=sol.imat, x=x[sol.order], time=time[sol.order], status=status[sol.order], ties=ties,
        solution=sol, infinite=tuple(c for c, flag in zip(covariates, sol.infinite) if flag),
        not_estimable=_not_estimable(sol, covariates),
    )


def _not_estimable(sol: CoxSolution, covariates) -> str:
    named = [c for c, flag in zip(covariates, sol.infinite) if flag]
    return sol.reason + (f" ({', '.join(named)}: no events at one of its values?)" if named else "")


def cause_specific_cox(df, duration, event, covariates, cause=1, ties="efron") -> pd.DataFrame:
    """Cause-specific Cox model: hazard of ``cause``, competing events censored at their time.

    ``covariates`` are numeric columns (indicators coded 0/1); patients with a missing value are left
    out (complete cases, as R's default); records with follow-up 0 are kept, as R keeps them. Fitted by
    :func:`cox_solve` (Newton–Raphson with step-halving) with Efron or Breslow ties; matches
    ``survival::coxph(Surv(time, status == cause) ~ ..., ties = ties)``.

    Returns a DataFrame indexed by covariate with ``coef, se, hr, lower, upper, p`` (Wald 95% CI and
    P); ``attrs`` hold ``n``, ``n_dropped``, ``dropped_reason``, ``events``, ``loglik`` and ``converged``
    (the fields of :func:`fit_cox`'s object), ``infinite`` (the covariates whose coefficient runs off to
    infinity, as coxph's warning names them) and ``not_estimable`` (why the fit did not converge).
    """
    fit = fit_cox(df, duration, event, covariates, cause, ties)
    out = fit.table()
    out.attrs.update(infinite=list(fit.infinite), not_estimable=fit.not_estimable)
    return out


# --- cumulative incidence (Aalen–Johansen) and Gray's test ----------------------------------------------

def _event_counts(time, event, cause):
    """Unique times in order with the number at risk just before, events of ``cause`` and of other causes."""
    order = np.argsort(time, kind="stable")
    t, e = time[order], event[order]
    times, first = np.unique(t, return_index=True)
    n_at = len(t) - first
    d1 = np.add.reduceat((e == cause).astype(float), first)
    d2 = np.add.reduceat(((e != cause) & (e > 0)).astype(float), first)
    return times, n_at.astype(float), d1, d2


def _aalen_johansen(time, event, cause):
    """Cumulative incidence of ``cause`` and its variance at time 0 and each time with an event of it.

    The estimate is Aalen–Johansen's; the variance is the one R's cmprsk::cuminc reports (Gray's
    delta-method estimator, with the correction for tied events). One sort, then cumulative sums.
    """
    times, rs, n1, n2 = _event_counts(time, event, cause)
    keep = n1 + n2 > 0
    times, rs, n1, n2 = times[keep], rs[keep], n1[keep], n2[keep]
    with np.errstate(divide="ignore", invalid="ignore"):
        surv_next = np.cumprod(1.0 - (n1 + n2) / rs)
        surv = np.concatenate([[1.0], surv_next[:-1]])
        cif = np.cumsum(surv * n1 / rs)
        inverse = np.where(surv_next > 0, 1.0 / surv_next, 0.0)

        def jump(n):  # surv² · n / rs², with the correction for n tied events
            tie = np.where(n > 1, 1.0 - (n - 1.0) / (rs - 1.0), 1.0)
            return np.where(n > 0, surv * surv * tie * n / (rs * rs), 0.0)

        w2 = np.where(surv_next > 0, jump(n2), 0.0)
        w1 = jump(n1)
        b1 = 1.0 + inverse * cif
        v1 = np.cumsum(np.where(w2 > 0, (cif * inverse) ** 2 * w2, 0.0) + b1 * b1 * w1)
        v2 = np.cumsum(np.where(w2 > 0, cif * inverse**2 * w2, 0.0) + inverse * b1 * w1)
        v3 = np.cumsum(np.where(w2 > 0, inverse**2 * w2, 0.0) + inverse**2 * w1)
    at = n1 > 0
    var = (v1 + cif * cif * v3 - 2.0 * cif * v2)[at]
    out = pd.DataFrame({"time": np.concatenate([[0.0], times[at]]), "cif": np.concatenate([[0.0], cif[at]]),
                        "var": np.concatenate([[0.0], var])})
    last = float(np.max(time))
    if out["time"].iloc[-1] < last:
        out.loc[len(out)] = [last, out["cif"].iloc[-1], out["var"].iloc[-1]]
    return out


def _groups(df, group):
    """The groups of a column in their order (categories for a categorical, sorted values otherwise)."""
    col = df[group]
    if isinstance(col.dtype, pd.CategoricalDtype):
        return [g for g in col.cat.categories if (col == g).any()]
    return sorted(col.dropna().unique())


def cumulative_incidence(df, duration, event, cause=1, group=None) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` in the presence of competing events, by group.

    Aalen–Johansen estimate with the variance of R's ``cmprsk::cuminc`` (matched to 1e-8 on tied
    times). The 95% limits use the log(−log) transform: cif^exp(±1.96·se / (cif·|log cif|)), the plus
    sign giving the lower limit; they stay inside (0, 1). Returns a tidy frame ``group, time, cif, var, lower, upper`` with a row at time 0,
    one at each time with an event of ``cause``, and one at the last follow-up time (records at follow-up 0
    are kept, as ``cuminc`` keeps them: a jump at 0 gives a second row at time 0). ``attrs`` hold ``n``,
    ``n_dropped`` and ``dropped_reason``.
    """
    d, dropped, reason = _used(df, duration, event, group)
    parts = [(g, d[d[group] == g]) for g in _groups(d, group)] if group else [("all", d)]
    frames = []
    for g, part in parts:
        curve = _aalen_johansen(part[duration].to_numpy(float), part[event].to_numpy(float), cause)
        curve.insert(0, "group", g)
        frames.append(curve)
    out = pd.concat(frames, ignore_index=True)
    se = np.sqrt(out["var"].to_numpy())
    cif = out["cif"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        # se of log(−log F) is se / (F·|log F|); F^exp(+h) lies below F because F < 1.
        h = Z95 * se / (cif * np.abs(np.log(cif)))
        lower, upper = cif ** np.exp(h), cif ** np.exp(-h)
    inside = (cif > 0) & (cif < 1)
    out["lower"] = np.where(inside, lower, cif)
    out["upper"] = np.where(inside, upper, cif)
    out.attrs.update(n=len(d), n_dropped=dropped, dropped_reason=reason)
    return out


@dataclass(frozen=True)
class GrayTestResult:
    """Gray's K-sample test for cumulative incidence functions: chi-square on ``df`` degrees of freedom."""

    statistic: float
    df: int
    pvalue: float
    n: int = 0  # records used
    n_dropped: int = 0  # records left out (missing time, status or group)
    dropped_reason: str = ""


def gray_test(df, duration, event, group, cause=1, rho=0.0) -> GrayTestResult:
    """Gray's test (Gray 1988) that the cumulative incidence of ``cause`` is the same in every group.

    Score statistic weighted by (1 − F(t−))^rho (rho = 0 by default, as R's ``cmprsk::cuminc``), with
    Gray's variance estimator; the statistic s' V⁻¹ s is compared with chi-square on (groups − 1) degrees
    of freedom. Matches ``cmprsk::cuminc(...)$Tests`` to 1e-6 relative. One sort, then cumulative sums
    over the event times (arrays of event times × groups²), where cmprsk loops over them. Groups without
    a record are left out (as cuminc, which tests the groups present); with fewer than two there is no test
    (statistic and P missing, ``df`` 0).
    """
    d, dropped, reason = complete_cases(df, [duration, event, group], duration)
    levels = _groups(d, group)
    if len(levels) < 2:  # nothing to compare: cuminc gives no test then
        return GrayTestResult(statistic=np.nan, df=0, pvalue=np.nan, n=len(d), n_dropped=dropped, dropped_reason=reason)
    code = np.select([d[event] == cause, d[event] > 0], [1, 2], 0)
    gidx = pd.Categorical(d[group], categories=levels).codes
    with np.errstate(divide="ignore", invalid="ignore"):  # np.where evaluates both branches
        s, v = _gray_score(*_gray_counts(d[duration].to_numpy(float), code, gidx, len(levels)), rho)
    statistic = float(s @ np.linalg.solve(v, s))
    ng1 = len(levels) - 1
    return GrayTestResult(statistic=statistic, df=ng1, pvalue=float(chi2_sf(statistic, ng1)),
                          n=len(d), n_dropped=dropped, dropped_reason=reason)


def _gray_counts(time, code, gidx, ng):
    """At each distinct time with an event: the number at risk, events of the cause and competing events,
    by group (event times × groups)."""
    times, inverse = np.unique(time, return_inverse=True)
    cell = inverse * ng + gidx

    def count(mask):
        return np.bincount(cell[mask], minlength=len(times) * ng).reshape(-1, ng).astype(float)

    at_risk = np.cumsum(count(slice(None))[::-1], axis=0)[::-1]
    d1, d2 = count(code == 1), count(code == 2)
    keep = (d1 + d2).sum(axis=1) > 0
    return at_risk[keep], d1[keep], d2[keep]


def _gray_score(rs, d1, d2, rho):
    """Gray's score and its variance from the counts at the event times (cmprsk's crstm, vectorised)."""
    ng1 = rs.shape[1] - 1
    alive, safe = rs > 0, np.where(rs > 0, rs, 1.0)
    skm = np.cumprod(np.where(alive, (rs - d1 - d2) / safe, 1.0), axis=0)  # each group's Kaplan–Meier
    skmm = np.vstack([np.ones((1, rs.shape[1])), skm[:-1]])
    f1m = np.vstack([np.zeros((1, rs.shape[1])), np.cumsum(np.where(alive, skmm * d1 / safe, 0.0), axis=0)[:-1]])
    weight = np.where(alive, rs / skmm, 0.0)  # the h_r of the paper
    tr, nd1 = weight.sum(axis=1), d1.sum(axis=1)
    tq = np.where(alive, rs * (1.0 - f1m) / skmm, 0.0).sum(axis=1)
    f = np.cumsum(nd1 / tr)  # pooled F after each time, and before it
    fm = np.concatenate([[0.0], f[:-1]])
    fb = (1.0 - fm) ** rho
    a = fb[:, None, None] * (weight[:, :, None] * np.eye(rs.shape[1]) - weight[:, :, None] * weight[:, None, :] / tr[:, None, None])
    c = np.cumsum(a * np.where(nd1 > 0, nd1 / (tr * (1.0 - fm)), 0.0)[:, None, None], axis=0)
    s = np.where(alive, fb[:, None] * (d1 - nd1[:, None] * rs * (1.0 - f1m) / (skmm * tq[:, None])), 0.0).sum(axis=0)
    # Events of the cause, then competing events: t4, t3 and t1 of crstm, at every time and group at once.
    t4 = np.where(skm > 0, 1.0 - (1.0 - f)[:, None] / skm, 1.0)
    t5 = np.where(nd1[:, None] > 1, 1.0 - (nd1[:, None] - 1.0) / (tr[:, None] * skmm - 1.0), 1.0)
    t3 = np.where(alive & (nd1[:, None] > 0), t5 * skmm * nd1[:, None] / (tr[:, None] * safe), 0.0)
    t1 = a[:, :ng1, :] - t4[:, None, :] * c[:, :ng1, :]
    t4c = np.where((skm > 0) & (d2 > 0), (1.0 - f)[:, None] / skm, 0.0)
    t5c = np.where(d2 > 1, 1.0 - (d2 - 1.0) / (rs - 1.0), 1.0)
    t3c = np.where((skm > 0) & (d2 > 0), t5c * skmm**2 * d2 / safe**2, 0.0)
    t1c = t4c[:, None, :] * c[:, :ng1, :]
    v3 = (t4 * t4 * t3 + t4c * t4c * t3c).sum(axis=0)
    v2 = np.einsum("jik,jk->ik", t1, t4 * t3) - np.einsum("jik,jk->ik", t1c, t4c * t3c)
    v = np.einsum("jik,jlk,jk->il", t1, t1, t3) + np.einsum("jik,jlk,jk->il", t1c, t1c, t3c)
    cc = c[-1, :ng1, :]
    return s[:ng1], v + (cc * v3) @ cc.T + cc @ v2.T + v2 @ cc.T


def number_at_risk(df, duration, times, group=None) -> pd.DataFrame:
    """Patients still followed (duration ≥ t) at each of ``times``, by group: rows groups, columns times."""
    d = df[[duration] + ([group] if group else [])].dropna()
    parts = [(g, d[d[group] == g]) for g in _groups(d, group)] if group else [("all", d)]
    rows = {}
    for g, part in parts:
        follow = np.sort(part[duration].to_numpy(float))
        rows[g] = (len(follow) - np.searchsorted(follow, np.asarray(times, float), side="left")).tolist()
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(times))


# --- proportional hazards check ------------------------------------------------------------------------

def _schoenfeld(fit: CoxFit) -> pd.DataFrame:
    sol = fit.solution
    ev, x = sol.events, fit.x - sol.centre
    if not len(ev.idx):
        return pd.DataFrame(np.zeros((0, x.shape[1])), columns=fit.summary.index, index=pd.Index([], name="time"))
    # Each event's risk-set mean at Efron's stepwise removal of the tied events (the Breslow mean when
    # the tie fractions are 0), averaged over its tie group, as residuals.coxph does.
    wd, g = sol.w[ev.idx], ev.group
    d0 = np.add.reduceat(wd, ev.first)
    d1 = np.add.reduceat(wd[:, None] * x[ev.idx], ev.first, axis=0)
    mean = (sol.s1[g] - ev.frac[:, None] * d1[g]) / (sol.s0[g] - ev.frac * d0[g])[:, None]
    tie_mean = np.add.reduceat(mean, ev.first, axis=0) / ev.count[:, None]
    return pd.DataFrame(x[ev.idx] - tie_mean[g], columns=fit.summary.index,
                        index=pd.Index(fit.time[ev.idx], name="time"))


def schoenfeld_residuals(df, duration, event, covariates, cause=1, ties="efron") -> pd.DataFrame:
    """Schoenfeld residuals of the cause-specific Cox model, one row per event, ordered by time.

    Each event's covariates minus their risk-weighted mean over the risk set at its time; with Efron
    ties the mean is averaged over Efron's stepwise removal of the tied events, as R's
    ``residuals(coxph, "schoenfeld")`` computes it.
    """
    return fit_cox(df, duration, event, covariates, cause, ties).schoenfeld()


@dataclass(frozen=True)
class ProportionalHazardsResult:
    """Grambsch–Therneau tests (``table``: rho, chisq, df, p by covariate and GLOBAL) and what to plot."""

    table: pd.DataFrame
    scaled_residuals: pd.DataFrame
    transformed_time: np.ndarray


def proportional_hazards_test(df, duration, event, covariates, cause=1, ties="efron") -> ProportionalHazardsResult:
    """Grambsch–Therneau test of proportional hazards for each covariate and globally.

    Scaled Schoenfeld residuals (d·V·r) of the cause-specific Cox model are correlated with
    g(t) = 1 − KM(t−), the Kaplan–Meier transform of time; each covariate's chi-square (1 df) and the
    global one follow Grambsch and Therneau (1994) as R's survival 2.x ``cox.zph(fit, transform = "km")``
    computed them (survival 3 replaced them with an exact score test).
    """
    return fit_cox(df, duration, event, covariates, cause, ties).ph_test()


def _ph_test(fit: CoxFit) -> ProportionalHazardsResult:
    resid = _schoenfeld(fit)
    cov, nd = fit.cov, len(resid)
    times, at_risk, events, _ = _event_counts(fit.time, fit.status.astype(float), 1)
    km_before = np.concatenate([[1.0], np.cumprod(1.0 - events / at_risk)[:-1]])
    g = 1.0 - km_before[np.searchsorted(times, resid.index.to_numpy(float))]
    xx = g - g.mean()
    scaled = resid.to_numpy() @ cov * nd
    test = xx @ scaled
    chisq = test**2 / (np.diag(cov) * nd * (xx @ xx))
    rho = [np.corrcoef(xx, scaled[:, j])[0, 1] for j in range(scaled.shape[1])]
    unscaled = xx @ resid.to_numpy()
    global_chisq = float(unscaled @ cov @ unscaled * nd / (xx @ xx))
    table = pd.DataFrame({"rho": rho, "chisq": chisq, "df": 1, "p": chi2_sf(chisq, 1)}, index=fit.summary.index)
    k = len(fit.summary)
    table.loc["GLOBAL"] = [np.nan, global_chisq, k, chi2_sf(global_chisq, k)]
    residuals = pd.DataFrame(scaled + fit.summary["coef"].to_numpy(), columns=fit.summary.index, index=resid.index)
    return ProportionalHazardsResult(table, residuals, g)


# --- Fine–Gray ----------------------------------------------------------------------------------------

from helpers.stats.finegray import fine_gray, fine_gray_cumulative_incidence  # noqa: E402,F401


def kaplan_meier(df, duration, event, cause=1) -> pd.DataFrame:
    """Kaplan–Meier estimate of staying free of ``cause``, other events censored (matches
    ``survival::survfit``). Returns ``time, surv`` at each event time."""
    d = df[[duration, event]].dropna()
    times, surv = _product_limit(d[duration].to_numpy(float), (d[event] == cause).to_numpy(float))
    return pd.DataFrame({"time": times, "surv": surv})


def _product_limit(time, event, every_time=False):
    """The one Kaplan–Meier of this module: the product-limit estimate after each distinct time with an
    event (``event`` 1) or, with ``every_time``, after every distinct time; one sort, one cumulative product."""
    times, at_risk, d, _ = _event_counts(time, event, 1)
    surv = np.cumprod(1.0 - d / at_risk)
    keep = slice(None) if every_time else d > 0
    return times[keep], surv[keep]


def at_times(curve: pd.DataFrame, times, value: str, start: float = 0.0) -> np.ndarray:
    """A right-continuous step function (``time`` and ``value`` columns) read at ``times``."""
    t = curve["time"].to_numpy(float)
    v = curve[value].to_numpy(float)
    at = np.searchsorted(t, np.asarray(times, float), side="right") - 1
    return np.where(at >= 0, v[np.maximum(at, 0)], start)


def km_versus_aalen_johansen(df, duration, event, times, cause=1) -> pd.DataFrame:
    """One minus Kaplan–Meier (competing events censored) beside the Aalen–Johansen cumulative incidence.

    The first treats patients who had a competing event as if they could still have the event of
    interest later, and so overstates its risk; the table shows by how much at each of ``times``.
    """
    naive = 1.0 - at_times(kaplan_meier(df, duration, event, cause), times, "surv", start=1.0)
    proper = at_times(cumulative_incidence(df, duration, event, cause), times, "cif")
    with np.errstate(divide="ignore", invalid="ignore"):
        over = np.where(proper > 0, 100.0 * (naive - proper) / proper, np.nan)
    return pd.DataFrame({"Years": list(times), "1 − Kaplan–Meier": naive.round(3), "Aalen–Johansen": proper.round(3),
                         "Overstatement (%)": np.round(over, 1)})


# --- follow-up ---------------------------------------------------------------------------------------

def survfit_quantiles(time, surv, probs, tol: float = np.sqrt(np.finfo(float).eps)) -> np.ndarray:
    """Quantiles of a survival curve as R's ``quantile.survfit`` takes them.

    ``time`` and ``surv`` list the curve at every observed time, in order. The p-quantile is the first time
    at which 1 − S reaches p; where 1 − S equals p (within ``tol``) on a flat stretch, it is the midpoint of
    that stretch (from the time it was reached to the next drop, or to the last time if it never drops
    again); NaN where 1 − S never reaches p.
    """
    x = np.concatenate([[0.0], np.asarray(time, float)])
    y = np.concatenate([[0.0], 1.0 - np.asarray(surv, float)])
    xmax = x[-1]
    keep = ~pd.Series(y).duplicated().to_numpy()
    x, y = x[keep], y[keep]
    out = []
    for p in probs:
        first = np.flatnonzero(y + tol >= p)
        beyond = np.flatnonzero(y - tol >= p)
        if p == 0:
            q = x[0]
        elif not len(first):
            q = np.nan
        elif abs(p - y[-1]) < tol:
            q = (x[first[0]] + xmax) / 2
        else:
            q = (x[first[0]] + x[beyond[0]]) / 2 if len(beyond) else np.nan
        out.append(float(q))
    return np.array(out)


def median_follow_up(df, duration, event, group=None, probs=(0.25, 0.5, 0.75)) -> pd.DataFrame:
    """Median follow-up with its quartiles by the reverse Kaplan–Meier method, overall and by group.

    Being censored is the 'event' (``event`` equal to 0), any event ends follow-up as a censoring would;
    the curve is this module's Kaplan–Meier and its quartiles are read as R's
    ``quantile(survfit(Surv(time, status == 0) ~ 1), probs = c(.25, .5, .75))`` reads them (flat stretch at
    exactly p: its midpoint). Returns ``group, participants, q1, median, q3``; the last row is 'Overall'.
    """
    d, dropped, reason = complete_cases(df, [duration, event] + ([group] if group else []), duration)
    parts = [(str(g), d[d[group] == g]) for g in _groups(d, group)] if group else []
    rows = []
    for name, part in [*parts, ("Overall", d)]:
        times, surv = _product_limit(part[duration].to_numpy(float), (part[event] == 0).to_numpy(float), every_time=True)
        q1, median, q3 = survfit_quantiles(times, surv, probs)
        rows.append({"group": name, "participants": len(part), "q1": q1, "median": median, "q3": q3})
    out = pd.DataFrame(rows)
    out.attrs.update(n=len(d), n_dropped=dropped, dropped_reason=reason)
    return out
