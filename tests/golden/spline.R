# Golden values for helpers.stats.spline: restricted cubic splines in survival models.
# Cox: rms::cph with rms::rcs (knots placed by rms, Efron ties; eps = 1e-12, run to the maximum rather
# than to cph's default 1e-4) on R's own data sets; the knots, every
# coefficient and standard error, the Wald tests of anova.rms (the spline overall and its non-linear part)
# and rms::contrast log hazard ratios at a few values against a reference.
# Fine-Gray: cmprsk::crr (gtol = 1e-12) on the basis Hmisc::rcspline.eval(x, nk, inclx = TRUE) makes, with
# the same Wald tests computed from crr's variance.
#   lung      survival::lung, death, rcs(age, 4) + female + ph.ecog (one ph.ecog missing: the knots come
#             from every recorded age, as rcs places them before the missing row is dropped)
#   rotterdam survival::rotterdam, death, rcs(lpgr, 5) + age + nodes, lpgr = log2(pgr + 1) (pgr is 0 for
#             20% of patients: rms puts the first knot at the smallest value above 0, its rule for ties at
#             an outer knot; on pgr's own scale, up to 5,004, anova.rms finds the variance singular)
#   rotterdam_fg  recurrence (1) against death without recurrence (2), spline of lpgr (5 knots) + age + nodes
#   mgus2_fg  survival::mgus2 with hgb recorded, progression (1) against death (2), spline of age (4 knots)
#             + male + hgb
# Run from the repository root:  Rscript tests/golden/spline.R [output folder, default tests/golden]
suppressPackageStartupMessages({library(rms); library(cmprsk)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
results <- list()
put <- function(dataset, term, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(dataset = dataset, term = term, quantity = quantity, value = value)
}
wald <- function(dataset, b, v, terms, label) {
  stat <- drop(t(b[terms]) %*% solve(v[terms, terms], b[terms]))
  put(dataset, label, "chisq", stat)
  put(dataset, label, "df", length(terms))
  put(dataset, label, "p", pchisq(stat, length(terms), lower.tail = FALSE))
}
cox_case <- function(name, fit, variable, at, reference) {
  knots <- fit$Design$parms[[variable]]
  for (k in seq_along(knots)) put(name, variable, paste0("knot", k), knots[k])
  se <- sqrt(diag(fit$var))
  for (k in seq_along(fit$coefficients)) {
    put(name, names(fit$coefficients)[k], "coef", fit$coefficients[k])
    put(name, names(fit$coefficients)[k], "se", se[k])
  }
  a <- anova(fit)
  put(name, "overall", "chisq", a[variable, "Chi-Square"]); put(name, "overall", "p", a[variable, "P"])
  put(name, "nonlinear", "chisq", a[" Nonlinear", "Chi-Square"]); put(name, "nonlinear", "p", a[" Nonlinear", "P"])
  ref <- list(reference); names(ref) <- variable
  new <- list(at); names(new) <- variable
  ct <- contrast(fit, new, ref)
  for (k in seq_along(at)) {
    put(name, sprintf("%.6g", at[k]), "log_hr", ct$Contrast[k])
    put(name, sprintf("%.6g", at[k]), "se_log_hr", ct$SE[k])
  }
}
# Each case as one frame (time, status 0/1/2, x the spline's variable, z1 and z2 the other covariates),
# written to spline_data.csv for the Python side.
frames <- list()
keep <- function(name, time, status, x, z1, z2) {
  d <- data.frame(dataset = name, time = time, status = status, x = x, z1 = z1, z2 = z2)
  frames[[name]] <<- d
  d
}
cox_fit <- function(d, nk) {
  dd <<- datadist(d); options(datadist = "dd")
  f <- as.formula(sprintf("Surv(time, status == 1) ~ rcs(x, %d) + z1 + z2", nk))
  cph(f, data = d, x = TRUE, y = TRUE, eps = 1e-12, iter.max = 100)
}
lung <- survival::lung
d <- keep("lung", lung$time, as.numeric(lung$status == 2), lung$age, as.numeric(lung$sex == 2), lung$ph.ecog)
cox_case("lung", cox_fit(d, 4), "x", c(45, 55, 70, 80), 62)
rot <- survival::rotterdam
d <- keep("rotterdam", rot$dtime, rot$death, log2(rot$pgr + 1), rot$age, rot$nodes)
cox_case("rotterdam", cox_fit(d, 5), "x", c(0, 2, 6, 10), 5)

fg_case <- function(name, d, nk, at, reference) {
  basis <- rcspline.eval(d$x, nk = nk, inclx = TRUE)
  knots <- attr(basis, "knots")
  for (k in seq_along(knots)) put(name, "x", paste0("knot", k), knots[k])
  colnames(basis) <- paste0("s", seq_len(ncol(basis)))
  cov <- cbind(basis, z1 = d$z1, z2 = d$z2)
  fit <- crr(d$time, d$status, cov, failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 100)
  if (!fit$converged) stop("crr did not converge on ", name)
  se <- sqrt(diag(fit$var))
  names(fit$coef) <- colnames(cov)
  dimnames(fit$var) <- list(colnames(cov), colnames(cov))
  for (k in seq_along(fit$coef)) {
    put(name, colnames(cov)[k], "coef", fit$coef[k])
    put(name, colnames(cov)[k], "se", se[k])
  }
  s <- colnames(basis)
  wald(name, fit$coef, fit$var, s, "overall")
  wald(name, fit$coef, fit$var, s[-1], "nonlinear")
  diff <- rcspline.eval(at, knots = knots, inclx = TRUE) -
    matrix(rcspline.eval(reference, knots = knots, inclx = TRUE), length(at), length(s), byrow = TRUE)
  v <- fit$var[s, s]
  for (k in seq_along(at)) {
    put(name, sprintf("%.6g", at[k]), "log_hr", sum(diff[k, ] * fit$coef[s]))
    put(name, sprintf("%.6g", at[k]), "se_log_hr", sqrt(drop(t(diff[k, ]) %*% v %*% diff[k, ])))
  }
}
d <- keep("rotterdam_fg", ifelse(rot$recur == 1, rot$rtime, rot$dtime), ifelse(rot$recur == 1, 1, 2 * rot$death),
          log2(rot$pgr + 1), rot$age, rot$nodes)
fg_case("rotterdam_fg", d, 5, c(0, 2, 6, 10), 5)
m <- survival::mgus2
m <- m[!is.na(m$hgb), ]
d <- keep("mgus2_fg", ifelse(m$pstat == 1, m$ptime, m$futime), ifelse(m$pstat == 1, 1, 2 * m$death), m$age,
          as.numeric(m$sex == "M"), m$hgb)
fg_case("mgus2_fg", d, 4, c(50, 65, 80), 70)
# The shipped synthetic cohort (data/cohort.csv), as chapter 3 fits it: the analysed patients (Mg recorded,
# below 2.6 mg/dL, follow-up above 0), a spline of Mg with 4 knots and the Model 4 covariates, derived as
# helpers.analysis.derive derives them; the composite outcome (status 1), the kidney outcome competing (2).
# Its data are the repository's own file, so they are not copied into spline_data.csv.
co <- read.csv("data/cohort.csv")
co <- co[!is.na(co$mg) & co$mg < 2.6 & !is.na(co$followup_years) & co$followup_years > 0, ]
co$male <- as.numeric(co$sex == "M")
co$map <- co$dbp + (co$sbp - co$dbp) / 3
co$corrected_calcium <- ifelse(co$albumin < 4, co$calcium + 0.8 * (4 - co$albumin), co$calcium)
model4 <- c("age", "male", "bmi", "egfr", "total_chol", "albumin", "phosphate", "corrected_calcium", "map", "diabetes")
dd <- datadist(co); options(datadist = "dd")
fit <- cph(as.formula(paste("Surv(followup_years, status == 1) ~ rcs(mg, 4) +", paste(model4, collapse = " + "))),
           data = co, x = TRUE, y = TRUE, eps = 1e-12, iter.max = 100)
cox_case("cohort", fit, "mg", c(1.6, 1.7, 2.2, 2.4), 2.0)
basis <- rcspline.eval(co$mg, nk = 4, inclx = TRUE)
colnames(basis) <- paste0("s", 1:3)
# The covariates centred and scaled (crr does not reach gtol = 1e-12 on them in their own units); the spline's
# coefficients and tests do not depend on that, and only they are kept.
cov <- cbind(basis, scale(as.matrix(co[, model4])))
fg <- crr(co$followup_years, co$status, cov, failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 100)
if (!fg$converged) stop("crr did not converge on the cohort")
names(fg$coef) <- colnames(cov)
dimnames(fg$var) <- list(colnames(cov), colnames(cov))
for (k in 1:3) {
  put("cohort_fg", colnames(cov)[k], "coef", fg$coef[k])
  put("cohort_fg", colnames(cov)[k], "se", sqrt(fg$var[k, k]))
}
wald("cohort_fg", fg$coef, fg$var, colnames(basis), "overall")
wald("cohort_fg", fg$coef, fg$var, colnames(basis)[-1], "nonlinear")

data <- do.call(rbind, frames)
write.csv(data, file.path(out_dir, "spline_data.csv"), row.names = FALSE, quote = FALSE, na = "")

out <- do.call(rbind, results)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "spline.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; rms", as.character(packageVersion("rms")), "; Hmisc", as.character(packageVersion("Hmisc")),
    "; cmprsk", as.character(packageVersion("cmprsk")), "; survival", as.character(packageVersion("survival")), "\n",
    file = file.path(out_dir, "spline.version"))
