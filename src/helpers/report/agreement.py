"""Agreement with R: every statistical helper recomputed on the golden data of ``tests/golden``.

The validation appendix shows, for each helper, its R reference and the largest differences from R's
values, computed here at build time from the committed fixtures (not typed). The tests in ``tests/``
assert the tolerances; this module measures.
"""

from functools import lru_cache

import numpy as np
import pandas as pd

from helpers import paths
from helpers.stats import imputation, regression, standardized, survival, trend as tables
from helpers.analysis import subgroups, vsmc

GOLDEN = paths.ROOT / "tests" / "golden"


def _read(name: str, keep_default_na: bool = True) -> pd.DataFrame:
    """A golden file, read once (most are compared several times): a copy each caller may change."""
    return _read_once(name, keep_default_na).copy()


@lru_cache(maxsize=None)
def _read_once(name: str, keep_default_na: bool) -> pd.DataFrame:
    return pd.read_csv(GOLDEN / name, float_precision="round_trip", keep_default_na=keep_default_na)


class _Tally:
    """Largest absolute and relative differences, per helper."""

    def __init__(self):
        self.rows = {}

    def add(self, helper, reference, ours, theirs, tolerance):
        ours, theirs = np.atleast_1d(np.asarray(ours, float)), np.atleast_1d(np.asarray(theirs, float))
        diff = np.abs(ours - theirs)
        rel = diff / np.maximum(np.abs(theirs), 1e-300)
        row = self.rows.setdefault(helper, {"Helper": helper, "R reference": reference, "Values compared": 0,
                                            "Largest absolute difference": 0.0, "Largest relative difference": 0.0,
                                            "Tolerance in the tests": tolerance})
        row["Values compared"] += len(diff)
        row["Largest absolute difference"] = max(row["Largest absolute difference"], float(diff.max()))
        # relative differences mean nothing next to zero: values within 1e-10 of it are compared absolutely
        row["Largest relative difference"] = max(row["Largest relative difference"], float(rel[np.abs(theirs) > 1e-10].max(initial=0)))

    def frame(self):
        return pd.DataFrame(self.rows.values())


def _trend(t: _Tally):
    data, gold = _read("trend_tests_data.csv"), _read("trend_tests.csv")
    value = gold.set_index(["dataset", "test", "quantity"])["value"]
    for name, d in data.groupby("dataset"):
        x, g = d["x"].to_numpy(float), d["g"].to_numpy(float)
        if name.startswith("jt_"):
            r = tables.jonckheere_terpstra(x, g)
            t.add("tables.jonckheere_terpstra", "cor.test(method = 'kendall'); SPSS formula", [r.statistic, r.z, r.pvalue],
                  [value[(name, "jonckheere_terpstra", q)] for q in ("statistic", "z", "pvalue")], "1e-8 relative")
        if name.startswith("lbl_"):
            r = tables.linear_by_linear(x, g)
            t.add("tables.linear_by_linear", "coin::lbl_test", [r.statistic, r.z, r.pvalue],
                  [value[(name, "linear_by_linear", q)] for q in ("statistic", "z", "pvalue")], "1e-8 relative")
            c = tables.chi_square(x, g)
            t.add("tables.chi_square", "chisq.test(correct = FALSE)", [c.statistic, c.pvalue],
                  [value[(name, "chi_square", q)] for q in ("statistic", "pvalue")], "1e-8 relative")
        if name.startswith("sw_"):
            r = tables.shapiro_wilk(x)
            t.add("tables.shapiro_wilk", "shapiro.test", [r.statistic, r.pvalue],
                  [value[(name, "shapiro_wilk", q)] for q in ("statistic", "pvalue")], "1e-8 (W), 1e-6 (P) relative")


def _survival_data(name):
    d = _read("survival_data.csv")
    d = d[d["dataset"] == name].copy()
    d["grplow"], d["grphigh"] = (d["grp"] == "low").astype(float), (d["grp"] == "high").astype(float)
    d["x3k"] = d["x3"] / 1000
    d["grp"] = pd.Categorical(d["grp"], ["mid", "low", "high"], ordered=True)
    return d


def _survival(t: _Tally):
    gold = _read("survival.csv", keep_default_na=False).set_index(["dataset", "what", "term", "quantity"])["value"]
    covs = ["grplow", "grphigh", "x1", "x2", "x3"]
    for name in ("ties", "sparse", "very_sparse", "cohort_size", "time_zero"):
        d = _survival_data(name)
        for ties in ("efron", "breslow"):
            fit = survival.cause_specific_cox(d, "time", "status", covs, ties=ties)
            t.add("survival.cause_specific_cox", "survival::coxph (Efron and Breslow ties)",
                  fit[["coef", "se", "p"]].to_numpy().ravel(),
                  [gold[(name, f"cox_{ties}", c, q)] for c in covs for q in ("coef", "se", "p")], "1e-6 relative")
            ph = survival.proportional_hazards_test(d, "time", "status", covs, ties=ties).table
            t.add("survival.proportional_hazards_test", "cox.zph formula of survival 2.x",
                  [*ph.loc[covs, "chisq"], ph.at["GLOBAL", "chisq"]],
                  [*(gold[(name, f"ph_{ties}", c, "chisq")] for c in covs), gold[(name, f"ph_{ties}", "GLOBAL", "chisq")]],
                  "1e-6 relative")
    curves, estimated = _read("survival_cuminc.csv"), {}
    for (name, group, cause), r in curves.groupby(["dataset", "group", "cause"]):
        r = r.groupby("time").last().reset_index()
        by = None if group == "all" else "grp"
        if (name, cause, by) not in estimated:  # one estimate gives every group's curve
            estimated[name, cause, by] = survival.cumulative_incidence(_survival_data(name), "time", "status", cause=cause, group=by)
        ours = estimated[name, cause, by]
        if group != "all":
            ours = ours[ours["group"] == group]
        ours = ours.groupby("time").last().reset_index()  # a time listed twice only at follow-up 0
        t.add("survival.cumulative_incidence", "cmprsk::cuminc (estimate and variance)",
              np.r_[ours["cif"], ours["var"]], np.r_[r["est"], r["var"]], "1e-8 relative")
    for name in ("ties", "sparse", "very_sparse", "cohort_size", "time_zero", "tiny"):
        for cause in (1, 2):
            g = survival.gray_test(_survival_data(name), "time", "status", "grp", cause=cause)
            t.add("survival.gray_test", "cmprsk::cuminc()$Tests", [g.statistic, g.pvalue],
                  [gold[(name, "gray", str(cause), q)] for q in ("statistic", "pvalue")], "1e-6 relative")
    for i in range(1, 7):
        key = f"rate_{i}"
        events, years = int(gold[(key, "poisson", "", "events")]), gold[(key, "poisson", "", "pyears")]
        n = max(events, 1)
        d = pd.DataFrame({"t": [years / n] * n, "e": [1] * events + [0] * (n - events)})
        r = survival.incidence_rate(d, "t", "e").iloc[-1]
        t.add("survival.incidence_rate", "poisson.test", [r["rate"], r["lower"], r["upper"]],
              [gold[(key, "poisson", "", q)] for q in ("rate", "lower", "upper")], "1e-8 relative")


def _fine_gray(t: _Tally):
    gold = _read("fine_gray.csv", keep_default_na=False).set_index(["dataset", "term", "quantity"])["value"]
    covs = ["grplow", "grphigh", "x1", "x2", "x3k"]
    for name, cause in (("ties", 1), ("ties", 2), ("sparse", 1), ("very_sparse", 1), ("cohort_size", 1), ("cohort_size", 2),
                        ("time_zero", 1), ("time_zero", 2)):
        fit = survival.fine_gray(_survival_data(name), "time", "status", covs, cause=cause)
        t.add("survival.fine_gray: coefficients", "cmprsk::crr", fit["coef"], [gold[(name, c, f"coef_cause{cause}")] for c in covs],
              "1e-6 absolute")
        t.add("survival.fine_gray: standard errors", "cmprsk::crr (its variance)", fit["se"],
              [gold[(name, c, f"se_cause{cause}")] for c in covs], "1e-4 relative")
    curves = _read("fine_gray_curves.csv", keep_default_na=False)
    profiles = pd.DataFrame([[0, 0, 50, 0, 0.6], [1, 0, 50, 0, 0.6], [0, 1, 45, 1, 2.0]], index=["mid", "low", "high"], columns=covs)
    for name in ("ties", "cohort_size"):
        d = _survival_data(name)
        ours = survival.fine_gray_cumulative_incidence(d, "time", "status", covs, profiles)
        for profile in profiles.index:
            r = curves[(curves["kind"] == "predict_crr") & (curves["dataset"] == name) & (curves["profile"] == profile)]
            t.add("survival.fine_gray_cumulative_incidence", "predict.crr", ours.loc[ours["profile"] == profile, "cif"],
                  r["value"].astype(float), "1e-6 relative")
        km = survival.kaplan_meier(d, "time", "status")
        r = curves[(curves["kind"] == "km") & (curves["dataset"] == name)]
        t.add("survival.kaplan_meier", "survival::survfit", survival.at_times(km, r["time"].astype(float), "surv", start=1.0),
              r["value"].astype(float), "1e-12 relative")


def _regression(t: _Tally):
    data = _read("regression_data.csv")
    gold = _read("regression.csv", keep_default_na=False)
    value = gold.set_index(["what", "term", "quantity"])["value"]
    terms = ["low", "high", "z1", "z2", "z3"]
    fit = regression.logistic(data, "y", terms)
    t.add("regression.logistic", "glm(family = binomial)", fit[["coef", "se", "p"]].to_numpy().ravel(),
          [value[("glm", r, q)] for r in ["(Intercept)", *terms] for q in ("coef", "se", "p")], "1e-6 relative")
    for k in range(3, 8):
        t.add("regression.harrell_knots", "rms::rcspline.eval(knots.only = TRUE)", regression.harrell_knots(data["mgc"], k),
              [value[(f"knots_{k}", str(j), "knot")] for j in range(1, k + 1)], "1e-9 relative")
    grid = np.round(np.arange(1.6, 2.6 + 1e-9, 0.05), 2)
    for name, knots in (("rcs_4", [1.9, 2.1, 2.3, 2.5]), ("rcs_5", [1.8, 2.0, 2.1, 2.2, 2.4])):
        basis = regression.rcs_basis(grid, knots).to_numpy()
        expected = [[value[(name, str(j + 1), str(i + 1))] for j in range(basis.shape[1])] for i in range(len(grid))]
        t.add("regression.rcs_basis", "rms::rcs", basis.ravel(), np.asarray(expected).ravel(), "1e-9 relative")
    spline = regression.spline_odds_ratios(data, "y", "mg", ["z1", "z2", "z3"], [1.9, 2.1, 2.3, 2.5], 2.0, grid)
    contrasts = gold[gold["what"] == "lrm_contrast"].copy()
    contrasts["x"] = contrasts["term"].astype(float)
    wide = contrasts.pivot_table(index="x", columns="quantity", values="value").reindex(grid, method="nearest")
    keep = spline.curve["se"].to_numpy() > 0
    t.add("regression.spline_odds_ratios", "rms::lrm with contrast() and anova()",
          np.r_[spline.curve["log_or"][keep], spline.curve["se"][keep], spline.nonlinearity_chisq],
          np.r_[wide["log_or"].to_numpy()[keep], wide["se"].to_numpy()[keep], value[("lrm_anova", "Nonlinear", "chisq")]],
          "1e-6 relative")


def _subgroups(t: _Tally):
    gold = _read("subgroups.csv").set_index(["dataset", "modifier", "quantity"])["value"]
    for name in ("ties", "cohort_size"):
        d = _survival_data(name).rename(columns={"grplow": "low", "grphigh": "high"})
        d["old"] = (d["x1"] >= 55).astype(float)
        for modifier in ("x2", "old"):
            r = subgroups.interaction_test(d, "time", "status", ["low", "high", "x1", "x2", "x3"], ["low", "high"], modifier)
            t.add("subgroups.interaction_test", "anova() of nested coxph fits", [r.statistic, r.pvalue],
                  [gold[(name, modifier, q)] for q in ("chisq", "p")], "1e-6 relative")


def _vsmc(t: _Tally):
    data = _read("vsmc_data.csv")
    gold = _read("vsmc.csv").set_index(["comparison", "quantity"])["value"]
    arms = {a: g["value"].to_numpy() for a, g in data.groupby("arm")}
    for a, b in (("phosphate", "control"), ("mg1", "control"), ("mg2", "control"), ("mg1", "phosphate"), ("mg2", "phosphate")):
        c = vsmc.compare(arms[a], arms[b])
        key = f"{a}_vs_{b}"
        t.add("vsmc.compare", "t.test (Student and Welch)", [c.student_p, c.welch_p],
              [gold[(key, q)] for q in ("student_p", "welch_p")], "1e-8 relative")
        t.add("vsmc.compare: Hedges' g", "metafor::escalc (SMD)", [c.hedges_g, (c.g_upper - c.g_lower) / 2],
              [gold[(key, "hedges_g")], gold[(key, "t_quantile")] * gold[(key, "hedges_se")]], "1e-10 relative")


def _standardized(t: _Tally):
    data, gold = _read("standardized_data.csv"), _read("standardized.csv")
    cases = {"cause1": (1, None, [1, 2, 3]), "cause2": (2, None, [1, 2, 3]), "cause2_early": (2, None, [0.1, 0.5]),
             "reference_high": (1, "high", [1, 2, 3])}
    for case, (cause, reference, times) in cases.items():
        ours = standardized.standardized_risk(data, "time", "status", "group", ["age", "male", "egfr", "upcr"],
                                              cause=cause, times=times, reference=reference)
        both = gold[gold["case"] == case].merge(ours, on=["time", "group", "kind"], suffixes=("_r", ""))
        t.add("standardized.standardized_risk: risks and contrasts", "riskRegression::ate", both["estimate"],
              both["estimate_r"], "1e-6 absolute")
        t.add("standardized.standardized_risk: standard errors", "riskRegression::ate", both["se"], both["se_r"],
              "1e-4 relative")


def _pooling(t: _Tally):
    for _, row in _read("imputation.csv").iterrows():
        q, u = (np.array(row[c].split(), float) for c in ("Q", "U"))
        pooled = imputation.pool_rubin(q, u, n=float(row["n"]), k=int(row["k"]))
        fields = ["qbar", "ubar", "b", "t", "df", "r", "fmi"]
        t.add("imputation.pool_rubin", "mice::pool.scalar", [getattr(pooled, f) for f in fields],
              row[fields].astype(float), "1e-10 relative")


def _follow_up(t: _Tally):
    data, gold = _read("follow_up_data.csv"), _read("follow_up.csv")
    for name, d in data.groupby("dataset"):
        ours = survival.median_follow_up(d, "time", "status", group="group").set_index("group")
        r = gold[gold["dataset"] == name].assign(group=lambda g: g["group"].replace({"all": "Overall"}))
        r = r.pivot(index="group", columns="prob", values="quantile").astype(float)
        t.add("survival.median_follow_up", "quantile(survfit(Surv(time, status == 0) ~ 1))",
              ours.loc[r.index, ["q1", "median", "q3"]].to_numpy().ravel(), r.to_numpy().ravel(), "1e-12 relative")


def _splines(t: _Tally):
    """Splines in survival models (spline.R) and Fine–Gray with time interactions (finegray_time.R)."""
    from helpers.stats import spline

    data = _read("spline_data.csv")
    gold = _read("spline.csv", keep_default_na=False).set_index(["dataset", "term", "quantity"])["value"]
    cases = {"lung": ("cox", 4, [45, 55, 70, 80], 62), "rotterdam": ("cox", 5, [0, 2, 6, 10], 5),
             "rotterdam_fg": ("fine_gray", 5, [0, 2, 6, 10], 5), "mgus2_fg": ("fine_gray", 4, [50, 65, 80], 70)}
    for name, (model, knots, values, reference) in cases.items():
        fit = spline.spline_hazard_ratios(data[data["dataset"] == name], "time", "status", "x", ["z1", "z2"], values,
                                          knots=knots, reference=reference, model=model)
        primes = ["x" + "'" * j for j in range(knots - 1)] if model == "cox" else [f"s{k}" for k in range(1, knots)]
        r_terms = [*primes, "z1", "z2"]
        reference_r = "rms::cph + rcs, anova, contrast" if model == "cox" else "cmprsk::crr on rcspline.eval"
        t.add(f"spline.spline_hazard_ratios ({model}): coefficients", reference_r, fit.summary["coef"],
              [gold[(name, r, "coef")] for r in r_terms], "1e-6 absolute")
        ours = [*fit.summary["se"], fit.overall.statistic, fit.nonlinear.statistic, *fit.curve["se"]]
        theirs = [*(gold[(name, r, "se")] for r in r_terms), gold[(name, "overall", "chisq")],
                  gold[(name, "nonlinear", "chisq")], *(gold[(name, f"{v:g}", "se_log_hr")] for v in values)]
        t.add(f"spline.spline_hazard_ratios ({model}): SEs and tests", reference_r, ours, theirs, "1e-4 relative")
    _time_interaction(t)
    reg = _read("regression_data.csv")
    value = _read("regression.csv", keep_default_na=False).set_index(["what", "term", "quantity"])["value"]
    fit = regression.linear(reg, "z3", ["low", "high", "z1", "z2", "mgc"])
    r_terms = ["(Intercept)", "low", "high", "z1", "z2", "mgc"]
    t.add("regression.linear", "lm", fit[["coef", "se", "p"]].to_numpy().ravel(),
          np.ravel([[value[("lm", r, q)] for q in ("coef", "se", "p")] for r in r_terms]), "1e-7 relative")


def _time_interaction(t: _Tally):
    from helpers.stats.finegray_time import fine_gray_time_interaction

    survival_data = _read("survival_data.csv")
    gold = _read("finegray_time.csv", keep_default_na=False).set_index(["dataset", "term", "quantity"])["value"]
    for name in ("ties", "cohort_size"):
        d = survival_data[survival_data["dataset"] == name]
        d = d.assign(grplow=(d["grp"] == "low").astype(float), grphigh=(d["grp"] == "high").astype(float))
        terms = ["grplow", "grphigh", "x1", "x2"]
        fit = fine_gray_time_interaction(d, "time", "status", terms, ["grplow"])
        names = [*terms, "grplow:log(t)"]
        t.add("finegray_time.fine_gray_time_interaction", "cmprsk::crr(cov2, tf = log)", fit.summary["coef"],
              [gold[(name, n, "coef")] for n in names], "1e-6 absolute")
        t.add("finegray_time.fine_gray_time_interaction: standard errors", "cmprsk::crr(cov2, tf = log), its variance",
              fit.summary["se"], [gold[(name, n, "se")] for n in names], "1e-4 relative")


def agreement_table() -> pd.DataFrame:
    """One row per helper: its R reference, how many values were compared and the largest differences."""
    t = _Tally()
    for part in (_trend, _survival, _fine_gray, _regression, _subgroups, _vsmc, _standardized, _pooling, _follow_up,
                 _splines):
        part(t)
    return t.frame()
