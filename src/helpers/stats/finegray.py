"""Fine–Gray proportional subdistribution hazards model, fitted and with crr's variance, in O(n log n).

The model and its estimator are Fine and Gray's (JASA 1999); the reference implementation is R's
``cmprsk::crr``, which this module matches (``tests/test_fine_gray.py``). What is computed:

- Risk set at a time t of an event of interest: everyone still followed (T ≥ t) with weight 1, and
  everyone who had a competing event before t with weight G(t−)/G(T−), G the Kaplan–Meier estimate of
  the censoring distribution (inverse probability of censoring weights). Ties: Breslow's, as crr.
- The log partial likelihood, its score and information, maximised by Newton–Raphson with crr's
  backtracking line search.
- The variance: crr's sandwich H⁻¹ (Σ uᵢuᵢᵀ) H⁻¹, where uᵢ = ηᵢ + ψᵢ, ηᵢ the subject's score
  contribution (its martingale integral) and ψᵢ the term that accounts for estimating G.

crr computes each sum over risk sets with nested loops (its cost grows with n² and worse). Every one of
those sums is a cumulative sum over subjects sorted by time, so here each is one ``numpy.cumsum``: the
fit costs a sort plus a few passes over the data.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from helpers.stats._common import Fit, complete_cases, wald_summary


class _Data:
    """Subjects sorted by time and grouped into blocks of equal time; event times; censoring weights."""

    def __init__(self, time, code, x):
        order = np.argsort(time, kind="stable")
        self.t, self.code, self.x = time[order], code[order], np.ascontiguousarray(x[order])
        self.n, self.p = self.x.shape
        self.xt = np.ascontiguousarray(self.x.T)  # one covariate per row: numpy sums along rows quickest
        self.fail, self.comp, self.cens = self.code == 1, self.code == 2, self.code == 0
        # Blocks of subjects with the same time: every risk-set sum is a cumulative sum over blocks.
        self.ut, self.first = np.unique(self.t, return_index=True)
        self.block = np.repeat(np.arange(len(self.ut)), np.diff(np.append(self.first, self.n)))
        self.at_risk = (self.n - self.first).astype(float)
        self.censored = np.add.reduceat(self.cens.astype(float), self.first)
        self.d_block = np.add.reduceat(self.fail.astype(float), self.first)
        # Kaplan–Meier of censoring just before each block's time (left-continuous), as crr evaluates it.
        after = np.cumprod(1.0 - self.censored / self.at_risk)
        self.G_block = np.concatenate([[1.0], after[:-1]])
        if self.ut[0] == 0.0:
            # Follow-up 0: crr reads G with approx() just below each time, t·(1 − 100ε), which for t = 0
            # is 0 itself, a knot of the Kaplan–Meier curve: at time 0 crr uses G after the censorings at 0.
            self.G_block[0] = after[0]
        self.G_subject = self.G_block[self.block]
        # Blocks with events of interest: Breslow's ties count d events at one time.
        self.fb = np.flatnonzero(self.d_block > 0)
        self.d, self.G_fail = self.d_block[self.fb], self.G_block[self.fb]
        # For each block, the number of event times at or before it (the position in the event-time axis).
        self.hi_block = np.cumsum(self.d_block > 0)
        self.hi = self.hi_block[self.block]
        self.x_fail_sum = self.x[self.fail].sum(axis=0)


def _block_sums(data: _Data, w, with_x=True):
    """Sums of w (and of w·x) within each block of equal time."""
    s0 = np.add.reduceat(w, data.first)
    return (s0, np.add.reduceat(data.xt * w, data.first, axis=1).T) if with_x else (s0, None)


def _risk_sums(data: _Data, r, with_x=True):
    """S0(t) (and S1(t)) at each event time of interest, for subject weights r = exp(x'b − shift).

    Risk set at t: subjects with T ≥ t (weight r), and those with a competing event before t (weight
    r·G(t−)/G(T−)).
    """
    f = data.fb
    r0, r1 = _block_sums(data, r, with_x)
    w0, w1 = _block_sums(data, np.where(data.comp, r / data.G_subject, 0.0), with_x)
    tail0 = np.cumsum(r0[::-1])[::-1]  # blocks at or after t
    head0 = np.cumsum(w0) - w0  # blocks before t
    s0 = tail0[f] + data.G_fail * head0[f]
    if not with_x:
        return s0, None
    tail1 = np.cumsum(r1[::-1], axis=0)[::-1]
    head1 = np.cumsum(w1, axis=0) - w1
    return s0, tail1[f] + data.G_fail[:, None] * head1[f]


def _objective(data: _Data, beta):
    """Minus the log partial likelihood, as crr reports it negated (crr minimises)."""
    eta = data.x @ beta
    shift = eta.max()
    s0, _ = _risk_sums(data, np.exp(eta - shift), with_x=False)
    return -(data.x_fail_sum @ beta) + float(data.d @ (np.log(s0) + shift))


def _derivatives(data: _Data, beta):
    """Minus log likelihood, its gradient and Hessian (the information), plus what the variance needs."""
    eta = data.x @ beta
    shift = eta.max()
    r = np.exp(eta - shift)
    s0, s1 = _risk_sums(data, r)
    mean = s1 / s0[:, None]  # x̄(t)
    nll = -(data.x_fail_sum @ beta) + float(data.d @ (np.log(s0) + shift))
    grad = -data.x_fail_sum + data.d @ mean
    # Σ_t d_t S2(t)/S0(t) = Σ_i r_i x_i x_i' c_i, with c_i the sum of d_t/S0(t) (× G ratio) over the
    # event times at which subject i is in the risk set.
    a = np.concatenate([[0.0], np.cumsum(data.d / s0)])  # over t <= T_i
    b_terms = data.d * data.G_fail / s0
    b = np.concatenate([np.cumsum(b_terms[::-1])[::-1], [0.0]])  # over t > T_i
    c = r * (a[data.hi] + np.where(data.comp, b[data.hi] / data.G_subject, 0.0))
    hess = (data.x * c[:, None]).T @ data.x - (mean * data.d[:, None]).T @ mean
    return nll, grad, hess, dict(r=r, s0=s0, mean=mean, a=a, b=b)


def _fit(data: _Data, max_iter=50):
    """Newton–Raphson from zero with crr's backtracking line search, run to the maximum.

    Stops when the Newton decrement (the predicted gain of the next step) falls below 1e-13 of the log
    likelihood: from there on, a line search would only compare differences below rounding error.
    """
    beta = np.zeros(data.p)
    for _ in range(max_iter):
        nll, grad, hess, parts = _derivatives(data, beta)
        step = -np.linalg.solve(hess, grad)
        decrement = -(step @ grad)
        if decrement <= 1e-13 * max(abs(nll), 1.0):
            beta = beta + step
            nll, grad, hess, parts = _derivatives(data, beta)
            return beta, nll, hess, parts, True
        for _ in range(40):
            trial = _objective(data, beta + step)
            if np.isfinite(trial) and trial <= nll + 1e-4 * (step @ grad):
                break
            step *= 0.5
        else:
            break
        beta = beta + step
    nll, grad, hess, parts = _derivatives(data, beta)
    return beta, nll, hess, parts, False


def _crr_variance(data: _Data, hess, parts):
    """crr's variance: H⁻¹ (Σ_i u_i u_i') H⁻¹ with u_i = η_i + ψ_i."""
    r, s0, mean, a, b = parts["r"], parts["s0"], parts["mean"], parts["a"], parts["b"]
    x, comp, G = data.x, data.comp, data.G_subject
    # η_i: dN_i part, minus the dΛ part while subject i is at risk (full weight, then G-weighted).
    a1 = np.vstack([np.zeros((1, data.p)), np.cumsum((data.d / s0)[:, None] * mean, axis=0)])
    bw = data.d * data.G_fail / s0
    b1 = np.vstack([np.cumsum((bw[:, None] * mean)[::-1], axis=0)[::-1], np.zeros((1, data.p))])
    eta = np.zeros_like(x)
    eta[data.fail] = x[data.fail] - mean[data.hi[data.fail] - 1]
    eta -= r[:, None] * (a[data.hi][:, None] * x - a1[data.hi])
    wcomp = np.where(comp, r / G, 0.0)
    eta -= wcomp[:, None] * (b[data.hi][:, None] * x - b1[data.hi])
    # ψ_i: the censoring martingale part. q(u) at each block time u (used where someone is censored):
    # q(u) = Σ_{t ≥ u} d_t G(t−)/S0(t) · [C1(u) − x̄(t) C0(u)], C over competing events before u.
    w0, w1 = _block_sums(data, wcomp)
    c0, c1 = np.cumsum(w0) - w0, np.cumsum(w1, axis=0) - w1
    ge0 = np.concatenate([np.cumsum(bw[::-1])[::-1], [0.0]])
    from_u = data.hi_block - (data.d_block > 0)  # event times at or after each block's time start here
    q = c1 * ge0[from_u][:, None] - c0[:, None] * b1[from_u]
    return censoring_sandwich(eta, q, data.block, data.censored, data.at_risk, data.cens, hess)


def censoring_sandwich(eta, q, block, censored, at_risk, cens, information):
    """crr's robust variance from the score residuals ``eta`` and the censoring term ``q`` at each block
    time: ψ_i = q(T_i)/Y(T_i) if censored, − Σ_{v ≤ T_i} q(v) c_v / Y(v)² over censoring times v; then
    I⁻¹ (Σ (η + ψ)(η + ψ)ᵀ) I⁻¹."""
    cum = np.cumsum(q * (censored / at_risk**2)[:, None], axis=0)
    psi = -cum[block]
    psi[cens] += q[block[cens]] / at_risk[block[cens]][:, None]
    u = eta + psi
    inverse = np.linalg.inv(information)
    return inverse @ (u.T @ u) @ inverse


@dataclass
class FineGrayFit(Fit):
    """A fitted Fine–Gray model (see :func:`fit_fine_gray`) with what predictions need: the baseline
    jumps at the event times and the centring of the covariates."""

    covariates: list = None
    cov: np.ndarray = None  # crr's variance of the coefficients
    centre: np.ndarray = None
    times: np.ndarray = None
    jumps: np.ndarray = None

    def cumulative_incidence(self, profiles: pd.DataFrame) -> pd.DataFrame:
        """Cumulative incidence this fit implies for covariate ``profiles`` (one row each, named by the
        index): a tidy frame ``profile, time, cif`` at each event time, as ``predict.crr``. No refit."""
        coef = self.summary["coef"].to_numpy()
        frames = []
        for name, row in profiles.iterrows():
            lp = (row[self.covariates].to_numpy(float) - self.centre) @ coef
            cif = 1.0 - np.exp(-np.cumsum(self.jumps) * np.exp(lp))
            frames.append(pd.DataFrame({"profile": name, "time": self.times, "cif": cif}))
        return pd.concat(frames, ignore_index=True)

    def mean_cumulative_incidence(self, profiles: pd.DataFrame, cells: int = 4_000_000) -> pd.DataFrame:
        """The mean over ``profiles`` (one row per patient) of the curves :meth:`cumulative_incidence`
        gives, at each event time: ``time, cif``. Patients with the same linear predictor share one curve,
        and the curves are summed in slices of patients, so memory stays (slice × event times) and never
        (patients × event times), which a registry's million patients would not fit (``cells``: a slice's size)."""
        lp = (profiles[self.covariates].to_numpy(float) - self.centre) @ self.summary["coef"].to_numpy()
        values, counts = np.unique(lp, return_counts=True)
        cumulative = np.cumsum(self.jumps)
        total = np.zeros(len(cumulative))
        size = max(1, cells // max(len(cumulative), 1))
        for start in range(0, len(values), size):
            part = slice(start, start + size)
            total += counts[part] @ (1.0 - np.exp(-np.outer(np.exp(values[part]), cumulative)))
        return pd.DataFrame({"time": self.times, "cif": total / counts.sum()})


def fit_fine_gray(df, duration, event, covariates, cause=1, *, max_iter=50) -> FineGrayFit:
    """Fine–Gray model for the subdistribution hazard of ``cause`` as a :class:`FineGrayFit`.

    Complete cases (crr's ``na.omit``); records with follow-up 0 are kept, as crr keeps them. ``converged``
    is the optimiser's verdict: False when ``max_iter`` Newton steps did not reach the maximum.
    """
    d, dropped, reason = complete_cases(df, [duration, event, *covariates], duration)
    code = np.select([d[event] == cause, d[event] > 0], [1, 2], 0)
    x = d[covariates].to_numpy(float)
    # Standardised for the fit (exactly undone below): crr's own Hessian is singular on a covariate
    # in the thousands, such as proteinuria in mg/day.
    centre, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale == 0] = 1.0
    data = _Data(d[duration].to_numpy(float), code, (x - centre) / scale)
    if data.fail.sum() == 0:
        raise ValueError(f"no event of cause {cause} to model")
    beta, nll, hess, parts, converged = _fit(data, max_iter)
    cov = _crr_variance(data, hess, parts) / np.outer(scale, scale)
    coef = beta / scale
    # Breslow-type jumps of the baseline cumulative subdistribution hazard at the centred covariates.
    shift = float((data.x @ beta).max())
    return FineGrayFit(
        wald_summary(coef, np.sqrt(np.diag(cov)), covariates, "covariate"), n=len(d), n_dropped=dropped,
        dropped_reason=reason, events=int((code == 1).sum()), loglik=-nll, converged=bool(converged),
        ratio_name="hr", covariates=list(covariates), cov=cov, centre=centre,
        times=data.ut[data.fb], jumps=data.d / (parts["s0"] * np.exp(shift)),
    )


def fine_gray(df, duration, event, covariates, cause=1) -> pd.DataFrame:
    """Fine–Gray model for the subdistribution hazard of ``cause``; other positive codes compete.

    ``covariates`` are numeric columns; patients with a missing value are left out (complete cases, as
    crr's default ``na.omit``); records with follow-up 0 are kept. Returns the frame of
    ``cause_specific_cox``: indexed by covariate with ``coef, se, hr, lower, upper, p`` (Wald, with crr's
    variance, which accounts for estimating the censoring distribution); ``attrs`` hold ``n``,
    ``n_dropped``, ``dropped_reason``, ``events``, ``loglik`` and ``converged``.
    Matches ``cmprsk::crr`` to 1e-6 in the coefficients and 1e-4 (relative) in the standard errors.
    """
    return fit_fine_gray(df, duration, event, covariates, cause).table()


def fine_gray_cumulative_incidence(df, duration, event, covariates, profiles: pd.DataFrame, cause=1) -> pd.DataFrame:
    """Cumulative incidence of ``cause`` that a Fine–Gray model implies for covariate profiles.

    ``profiles`` has one row per profile (its index names it) and the ``covariates`` as columns.
    Returns a tidy frame ``profile, time, cif`` at each time with an event of ``cause``; matches
    ``predict.crr(crr(...), cov1 = profiles)``. With a fit at hand, use its ``cumulative_incidence``.
    """
    return fit_fine_gray(df, duration, event, covariates, cause).cumulative_incidence(profiles)
