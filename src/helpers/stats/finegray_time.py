"""Fine–Gray with covariates that interact with time, for testing proportional subdistribution hazards.

The Fine–Gray model assumes that each subdistribution hazard ratio is constant in time. The usual check
(Fine and Gray 1999, section 5; Scheike and Zhang) adds the product of a covariate with a function of time,
x·g(t), and tests its coefficient: zero under proportional subdistribution hazards. R's ``cmprsk::crr``
fits such terms through its ``cov2`` and ``tf`` arguments; :func:`fine_gray_time_interaction` fits the same
model, with crr's variance (the sandwich H⁻¹ Σ uᵢuᵢᵀ H⁻¹ with the term for estimating the censoring
distribution), and is checked against crr in ``tests/test_finegray_time.py``.

With a covariate that changes with time, the risk-set sums can no longer be running sums over subjects
sorted by time (as in :mod:`helpers.stats.finegray`): they are taken over every subject at every event
time of interest, arrays of (event times × subjects), which is fast for a cohort of thousands.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from helpers.stats._common import complete_cases, wald_summary
from helpers.stats.finegray import censoring_sandwich


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


def _fit(design: _Design, p, max_iter=60, tol=1e-12):
    """Newton–Raphson from zero with step-halving, to a Newton decrement below ``tol`` of the log likelihood."""
    beta = np.zeros(p)
    loglik, score, info, parts = _score_info(design, beta)
    for _ in range(max_iter):
        step = np.linalg.solve(info, score)
        if step @ score <= tol * max(abs(loglik), 1.0):
            return beta, loglik, info, parts, True
        for _ in range(40):
            trial = _sums(design, beta + step)[-1]
            if np.isfinite(trial) and trial >= loglik:
                break
            step = step / 2.0
        beta = beta + step
        loglik, score, info, parts = _score_info(design, beta)
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
    design = _Design(d[duration].to_numpy(float), code, d[list(covariates)].to_numpy(float),
                     d[list(interact)].to_numpy(float), tf)
    if not np.all(np.isfinite(design.gt)):
        raise ValueError(f"{tf_name} is not finite at every event time (an event at time 0?)")
    p = len(covariates) + len(interact)
    beta, loglik, info, parts, converged = _fit(design, p)
    cov = _variance(design, info, parts)
    names = [*covariates, *(f"{c}:{tf_name}" for c in interact)]
    summary = wald_summary(beta, np.sqrt(np.diag(cov)), names, "covariate").rename(columns={"ratio": "shr"})
    k = len(interact)
    b, v = beta[-k:], cov[-k:, -k:]
    statistic = float(b @ np.linalg.solve(v, b))
    return TimeInteraction(summary, statistic, k, float(stats.chi2.sf(statistic, k)), len(d), int((code == 1).sum()),
                           loglik, converged)
