"""Fine–Gray with covariates that interact with time, for testing proportional subdistribution hazards.

The Fine–Gray model assumes that each subdistribution hazard ratio is constant in time. The usual check
(Fine and Gray 1999, section 5; Scheike and Zhang) adds the product of a covariate with a function of time,
x·g(t), and tests its coefficient: zero under proportional subdistribution hazards. R's ``cmprsk::crr``
fits such terms through its ``cov2`` and ``tf`` arguments; :func:`fine_gray_time_interaction` fits the same
model, with crr's variance (the sandwich H⁻¹ Σ uᵢuᵢᵀ H⁻¹ with the term for estimating the censoring
distribution), and is checked against crr in ``tests/test_finegray_time.py``.

With a covariate that changes with time, the linear predictor of subject i at event time t_j is
a_i + g(t_j)·b_i, a_i = x1_i'β1 and b_i = x2_i'β2. When the interacting covariates x2 take few distinct rows
("patterns", such as group indicators), b is constant within a pattern ℓ and every risk-set sum factorises:
S(t_j) = Σ_ℓ exp(g(t_j) b_ℓ) · (a running sum over the pattern's subjects sorted by time, as in
:mod:`helpers.stats.finegray`). The fit and crr's variance then cost one sort plus passes over the data per
pattern, memory linear in n (:class:`_Patterns`). With many patterns (a continuous x2) the sums are taken over
every subject at every event time, arrays of (event times × subjects) (:class:`_Design`), which is fast for
a cohort of thousands and refused (ValueError) beyond ``DENSE_LIMIT`` elements.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from helpers.stats._common import chi2_sf, complete_cases, wald_summary
from helpers.stats.finegray import _block_sums, _Data, _risk_sums, censoring_sandwich

MAX_PATTERNS = 64  # distinct rows of the interacting covariates for the pattern-wise sums
DENSE_LIMIT = 5e7  # event times × subjects beyond which the dense sums are refused


class _Design:
    """Subjects sorted by time; event times of interest; the at-risk weights W (event times × subjects)."""

    def __init__(self, time, code, x1, x2, tf):
        order = np.argsort(time, kind="stable")
        self.t, self.code = time[order], code[order]
        self.x1, self.x2 = x1[order], x2[order]
        self.fail, self.comp, self.cens = self.code == 1, self.code == 2, self.code == 0
        ut, first = np.unique(self.t, return_index=True)
        n = len(self.t)
        self.block = np.repeat(np.arange(len(ut)), np.diff(np.append(first, n)))
        self.at_risk = (n - first).astype(float)
        self.censored = np.add.reduceat(self.cens.astype(float), first)
        after = np.cumprod(1.0 - self.censored / self.at_risk)
        g_block = np.concatenate([[1.0], after[:-1]])  # Kaplan–Meier of censoring just before each time
        if ut[0] == 0.0:
            g_block[0] = after[0]  # as crr reads G at time 0 (see helpers.stats.finegray)
        self.g_block, self.g_subject = g_block, g_block[self.block]
        d_block = np.add.reduceat(self.fail.astype(float), first)
        self.fb = np.flatnonzero(d_block > 0)
        self.times, self.d, self.g_fail = ut[self.fb], d_block[self.fb], g_block[self.fb]
        self.gt = np.asarray(tf(self.times), float)  # g(t_j) at each event time
        later = self.t[None, :] >= self.times[:, None]
        earlier_comp = self.comp[None, :] & (self.t[None, :] < self.times[:, None])
        self.w = later + earlier_comp * (self.g_fail[:, None] / self.g_subject[None, :])
        self.fail_at = np.searchsorted(self.times, self.t)  # each failure's event-time index

    def z(self, j):
        """Covariates of every subject at event time j: x1, then x2 · g(t_j)."""
        return np.hstack([self.x1, self.x2 * self.gt[j]])

    def loglik(self, beta):
        return _sums(self, beta)[-1]

    def score_info(self, beta):
        return _score_info(self, beta)

    def variance(self, info, parts):
        return _variance(self, info, parts)


def _sums(design: _Design, beta):
    """exp(β'Z) weights and S0, S1 at each event time, the mean Ē, and the log partial likelihood."""
    p1 = design.x1.shape[1]
    eta = (design.x1 @ beta[:p1])[None, :] + design.gt[:, None] * (design.x2 @ beta[p1:])[None, :]
    shift = eta.max()
    wr = design.w * np.exp(eta - shift)  # J × n
    s0 = wr.sum(axis=1)
    s1 = np.hstack([wr @ design.x1, design.gt[:, None] * (wr @ design.x2)])
    mean = s1 / s0[:, None]
    fail = design.fail
    z_fail = np.hstack([design.x1[fail], design.x2[fail] * design.gt[design.fail_at[fail]][:, None]])
    loglik = float(np.sum(z_fail @ beta) - design.d @ (np.log(s0) + shift))
    return wr, s0, mean, z_fail, loglik


def _score_info(design: _Design, beta):
    wr, s0, mean, z_fail, loglik = _sums(design, beta)
    score = z_fail.sum(axis=0) - design.d @ mean
    info = np.zeros((len(beta), len(beta)))
    for j in range(len(design.times)):
        z = design.z(j)
        info += design.d[j] * ((z * wr[j][:, None]).T @ z / s0[j] - np.outer(mean[j], mean[j]))
    return loglik, score, info, (wr, s0, mean)


def _fit(design, p, max_iter=60, tol=1e-12):
    """Newton–Raphson from zero with step-halving, to a Newton decrement below ``tol`` of the log likelihood.
    ``design`` is a :class:`_Patterns` or a :class:`_Design`."""
    beta = np.zeros(p)
    loglik, score, info, parts = design.score_info(beta)
    for _ in range(max_iter):
        step = np.linalg.solve(info, score)
        if step @ score <= tol * max(abs(loglik), 1.0):
            return beta, loglik, info, parts, True
        for _ in range(40):
            trial = design.loglik(beta + step)
            if np.isfinite(trial) and trial >= loglik:
                break
            step = step / 2.0
        beta = beta + step
        loglik, score, info, parts = design.score_info(beta)
    return beta, loglik, info, parts, False


def _variance(design: _Design, info, parts):
    """crr's sandwich: uᵢ = ηᵢ + ψᵢ, ηᵢ the subject's score martingale, ψᵢ the censoring term."""
    wr, s0, mean = parts
    n, p, J = len(design.t), mean.shape[1], len(design.times)
    eta = np.zeros((n, p))
    fail = np.flatnonzero(design.fail)
    eta[fail] = np.hstack([design.x1[fail], design.x2[fail] * design.gt[design.fail_at[fail]][:, None]]) \
        - mean[design.fail_at[fail]]
    # q(u) at each subject's time u: Σ_{t_j ≥ u} d_j G_j/S0_j Σ_{k competing, T_k < u} (r_k(t_j)/G_k)(Z_k(t_j) − Ē_j)
    q = np.zeros((n, p))
    first_block = np.searchsorted(design.t, design.t, side="left")  # first subject of each one's time block
    for j in range(J):
        z = design.z(j)
        eta -= (design.d[j] / s0[j]) * wr[j][:, None] * (z - mean[j])
        comp_term = np.where(design.comp, wr[j] / np.where(design.w[j] > 0, design.w[j], 1.0) / design.g_subject, 0.0)
        contrib = comp_term[:, None] * (z - mean[j])
        before = np.vstack([np.zeros((1, p)), np.cumsum(contrib, axis=0)])[first_block]  # T_k < u
        at_or_after = design.t <= design.times[j]
        q += at_or_after[:, None] * (design.d[j] * design.g_fail[j] / s0[j]) * before
    q_block = q[np.unique(design.block, return_index=True)[1]]
    return censoring_sandwich(eta, q_block, design.block, design.censored, design.at_risk, design.cens, info)


class _Patterns:
    """Subjects sorted by time (a :class:`helpers.stats.finegray._Data` on x1), the distinct rows of x2
    (patterns) with each subject's pattern, and g(t_j) at each event time of interest."""

    def __init__(self, time, code, x1, x2, tf):
        order = np.argsort(time, kind="stable")
        self.data = data = _Data(time[order], code[order], x1[order])
        self.rows, inverse = np.unique(x2[order], axis=0, return_inverse=True)
        self.pattern = inverse.reshape(-1)
        self.members = [np.flatnonzero(self.pattern == k) for k in range(len(self.rows))]
        self.times = data.ut[data.fb]
        self.gt = np.asarray(tf(self.times), float)
        self.fail_at = data.hi - 1  # for a failure, the index of its event time
        fail = data.fail
        self.z_fail = np.hstack([data.x[fail], self.rows[self.pattern[fail]] * self.gt[self.fail_at[fail]][:, None]])
        self.from_u = data.hi_block - (data.d_block > 0)  # first event time at or after each block's time

    def _predictors(self, beta):
        """a_i = x1_i'β1 and r_i = exp(a_i − max a); e_jℓ = exp(g_j b_ℓ − m_j); the shift of log S0 at t_j."""
        a = self.data.x @ beta[: self.data.p]
        gb = self.gt[:, None] * (self.rows @ beta[self.data.p:])[None, :]
        m = gb.max(axis=1)
        return a, np.exp(a - a.max()), np.exp(gb - m[:, None]), m + a.max()

    def _sums(self, beta, with_x=True):
        """Log likelihood, S0 (scaled), the mean Ē at each event time and the predictors."""
        data = self.data
        a, r, e, shift = self._predictors(beta)
        s0, s1x, s1z = np.zeros(len(self.times)), np.zeros((len(self.times), data.p)), 0.0
        for k, idx in enumerate(self.members):
            rk = np.zeros_like(r)
            rk[idx] = r[idx]
            a0, a1 = _risk_sums(data, rk, with_x)  # the pattern's running sums of r (and r·x1)
            s0 += e[:, k] * a0
            if with_x:
                s1x += e[:, k, None] * a1
                s1z = s1z + (e[:, k] * a0)[:, None] * self.rows[k][None, :]
        loglik = float(self.z_fail.sum(axis=0) @ beta - data.d @ (np.log(s0) + shift))
        mean = np.hstack([s1x, self.gt[:, None] * s1z]) / s0[:, None] if with_x else None
        return loglik, s0, mean, (a, r, e)

    def loglik(self, beta):
        return self._sums(beta, with_x=False)[0]

    def _running(self, k, s0, e, mean):
        """For pattern k, Σ_{j<i} f_j h_j (row i of the first) and Σ_{j≥i} f_j G_j h_j (the second), with
        f_j = d_j e_jk / S0_j and h_j = (1, g_j, g_j², Ē_j)."""
        data = self.data
        fh = (data.d * e[:, k] / s0)[:, None] * np.column_stack([np.ones_like(self.gt), self.gt, self.gt**2, mean])
        zero = np.zeros((1, fh.shape[1]))
        forward = np.vstack([zero, np.cumsum(fh, axis=0)])
        backward = np.vstack([np.cumsum((data.G_fail[:, None] * fh)[::-1], axis=0)[::-1], zero])
        return forward, backward

    def _at_risk_sums(self, k, forward, backward):
        """Per subject of pattern k: Σ_j f_j w_ij h_j over the event times at which it is at risk."""
        data, idx = self.data, self.members[k]
        hi = data.hi[idx]
        ratio = np.where(data.comp[idx], 1.0 / data.G_subject[idx], 0.0)
        return idx, forward[hi] + ratio[:, None] * backward[hi]

    def score_info(self, beta):
        data, p1 = self.data, self.data.p
        loglik, s0, mean, (a, r, e) = self._sums(beta)
        score = self.z_fail.sum(axis=0) - data.d @ mean
        info = -(mean * data.d[:, None]).T @ mean
        for k in range(len(self.rows)):
            idx, c = self._at_risk_sums(k, *self._running(k, s0, e, mean))
            x, row, rc = data.x[idx], self.rows[k], r[idx, None] * c[:, :3]
            info[:p1, :p1] += (x * rc[:, :1]).T @ x
            cross = np.outer((x * rc[:, 1:2]).sum(axis=0), row)
            info[:p1, p1:] += cross
            info[p1:, :p1] += cross.T
            info[p1:, p1:] += np.outer(row, row) * rc[:, 2].sum()
        return loglik, score, info, (s0, mean, r, e)

    def variance(self, info, parts):
        """crr's sandwich as :func:`_variance`, pattern by pattern with running sums."""
        s0, mean, r, e = parts
        data, p1 = self.data, self.data.p
        fail = np.flatnonzero(data.fail)
        eta = np.zeros((data.n, mean.shape[1]))
        eta[fail] = self.z_fail - mean[self.fail_at[fail]]
        q = np.zeros((len(data.ut), mean.shape[1]))
        for k, row in enumerate(self.rows):
            forward, backward = self._running(k, s0, e, mean)
            idx, c = self._at_risk_sums(k, forward, backward)
            z = np.hstack([data.x[idx] * c[:, :1], c[:, 1:2] * row[None, :]])
            eta[idx] -= r[idx, None] * (z - c[:, 3:])
            # q(u) = Σ_{t_j ≥ u} f_j G_j [C1(u), g_j x2 C0(u)] − C0(u) Ē_j, C over the pattern's competing
            # events before u (weights r/G).
            wk = np.zeros_like(r)
            wk[idx] = np.where(data.comp[idx], r[idx] / data.G_subject[idx], 0.0)
            w0, w1 = _block_sums(data, wk)
            c0, c1, b = np.cumsum(w0) - w0, np.cumsum(w1, axis=0) - w1, backward[self.from_u]
            q += np.hstack([c1 * b[:, :1], (c0 * b[:, 1])[:, None] * row[None, :]]) - c0[:, None] * b[:, 3:]
        return censoring_sandwich(eta, q, data.block, data.censored, data.at_risk, data.cens, info)


def _design(time, code, x1, x2, tf):
    """The pattern-wise sums when x2 has few distinct rows, else the dense ones if they fit, else ValueError."""
    patterns = len(np.unique(x2, axis=0))
    if patterns <= MAX_PATTERNS:
        return _Patterns(time, code, x1, x2, tf)
    event_times = len(np.unique(time[code == 1]))
    if event_times * len(time) <= DENSE_LIMIT:
        return _Design(time, code, x1, x2, tf)
    raise ValueError(f"too many distinct values of the time-interacting covariates ({patterns} distinct rows) "
                     f"for {len(time)} subjects and {event_times} event times: at most {MAX_PATTERNS} "
                     "(such as group indicators) at this size")


@dataclass(frozen=True)
class TimeInteraction:
    """A Fine–Gray fit with time interactions: ``summary`` (``coef, se, shr, lower, upper, p``; the time terms
    named ``<covariate>:<tf_name>``), ``test`` the Wald test that every time term is zero (``statistic, df,
    pvalue``), ``n``, ``events``, ``loglik``, ``converged``."""

    summary: pd.DataFrame
    statistic: float
    df: int
    pvalue: float
    n: int
    events: int
    loglik: float
    converged: bool


def fine_gray_time_interaction(df, duration, event, covariates, interact, tf=np.log, tf_name="log(t)",
                               cause=1) -> TimeInteraction:
    """Fine–Gray model of ``cause`` with ``covariates`` and, for each of ``interact``, its product with
    ``tf(t)`` (default log t): ``crr(ftime, fstatus, cov1 = covariates, cov2 = interact, tf = tf)``.

    Complete cases; records with follow-up 0 are kept, as crr keeps them (``tf`` must then be finite at 0:
    log t is not). The Wald test of the time terms (crr's variance) is the test of proportional
    subdistribution hazards for those covariates.
    """
    columns = list(dict.fromkeys([*covariates, *interact]))
    d, _, _ = complete_cases(df, [duration, event, *columns], duration)
    code = np.select([d[event] == cause, d[event] > 0], [1, 2], 0)
    design = _design(d[duration].to_numpy(float), code, d[list(covariates)].to_numpy(float),
                     d[list(interact)].to_numpy(float), tf)
    if not np.all(np.isfinite(design.gt)):
        raise ValueError(f"{tf_name} is not finite at every event time (an event at time 0?)")
    p = len(covariates) + len(interact)
    beta, loglik, info, parts, converged = _fit(design, p)
    cov = design.variance(info, parts)
    names = [*covariates, *(f"{c}:{tf_name}" for c in interact)]
    summary = wald_summary(beta, np.sqrt(np.diag(cov)), names, "covariate").rename(columns={"ratio": "shr"})
    k = len(interact)
    b, v = beta[-k:], cov[-k:, -k:]
    statistic = float(b @ np.linalg.solve(v, b))
    return TimeInteraction(summary, statistic, k, float(chi2_sf(statistic, k)), len(d), int((code == 1).sum()),
                           loglik, converged)
