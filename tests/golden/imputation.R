# Golden values for helpers.stats.imputation.pool_rubin: Rubin's rules with Barnard-Rubin degrees of
# freedom as mice::pool.scalar(Q, U, n, k) computes them (rule "rubin1987"), and a pooled Cox table as
# summary(mice::pool(fits), conf.int = TRUE) gives it.
# Run from the repository root:  Rscript tests/golden/imputation.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(mice))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(20240607)

# Each set: m estimates Q with spread sd_b around a log hazard ratio, variances U around se^2, and the
# complete-data sample size n with k parameters (n - k complete-data df; Inf = large sample).
sets <- list(
  list(name = "large_sample", m = 5, q = 0.4, sd_b = 0.08, se = 0.15, n = Inf, k = 1),
  list(name = "cohort", m = 20, q = 0.93, sd_b = 0.05, se = 0.31, n = 1646, k = 10),
  list(name = "cox_events", m = 20, q = -0.07, sd_b = 0.04, se = 0.11, n = 153, k = 8),
  list(name = "small_n", m = 5, q = 1.2, sd_b = 0.3, se = 0.4, n = 20, k = 3),
  list(name = "tiny_n_large_b", m = 3, q = 0.5, sd_b = 1.5, se = 0.2, n = 10, k = 4),
  list(name = "two_imputations", m = 2, q = 0.1, sd_b = 0.05, se = 0.12, n = 50, k = 1),
  list(name = "b_zero", m = 4, q = 0.25, sd_b = 0, se = 0.1, n = 100, k = 2),
  list(name = "b_zero_large_sample", m = 10, q = -0.3, sd_b = 0, se = 0.05, n = Inf, k = 1),
  list(name = "tiny_b", m = 10, q = 0.2, sd_b = 1e-4, se = 0.2, n = 300, k = 5)
)

num <- function(x) sprintf("%.17g", x)
rows <- list()
for (s in sets) {
  Q <- if (s$sd_b > 0) s$q + rnorm(s$m, 0, s$sd_b) else rep(s$q, s$m)
  U <- (s$se * exp(rnorm(s$m, 0, 0.05)))^2
  # Round trip through the text written below, so that R pools exactly the numbers Python reads.
  Q <- as.numeric(num(Q)); U <- as.numeric(num(U))
  p <- pool.scalar(Q, U, n = s$n, k = s$k)
  rows[[length(rows) + 1]] <- data.frame(
    set = s$name, m = p$m, n = num(s$n), k = s$k,
    Q = paste(num(Q), collapse = " "), U = paste(num(U), collapse = " "),
    qbar = num(p$qbar), ubar = num(p$ubar), b = num(p$b), t = num(p$t), df = num(p$df),
    r = num(p$r), fmi = num(p$fmi))
}
write.csv(do.call(rbind, rows), file.path(out_dir, "imputation.csv"), row.names = FALSE, quote = FALSE)

# End to end: a Cox model fitted on each of m completed data sets and pooled by mice::pool, which takes
# the complete-data df of a coxph fit as events - coefficients. The "completed" data sets share time,
# status and x1, x3 and differ in x2 where it was missing, as imputations do.
suppressPackageStartupMessages(library(survival))
n <- 200; m <- 5
x1 <- round(rnorm(n, 55, 10)); x3 <- rbinom(n, 1, 0.4); x2 <- rnorm(n, 0.3 * x3, 1)
lp <- 0.03 * (x1 - 55) + 0.5 * x2 + 0.4 * x3
t1 <- rexp(n, 0.1 * exp(lp)); t2 <- rexp(n, 0.05); cens <- runif(n, 1, 6)
time <- pmax(round(pmin(t1, t2, cens), 2), 0.01)
status <- ifelse(time == round(t1, 2) & t1 <= pmin(t2, cens), 1, ifelse(t2 <= cens, 2, 0))
miss <- runif(n) < 0.3
completed <- do.call(rbind, lapply(seq_len(m), function(i) {
  x2i <- x2; x2i[miss] <- round(rnorm(sum(miss), 0.3 * x3[miss], 1), 4)
  data.frame(imputation = i, time = time, status = status, x1 = x1, x2 = round(x2i, 4), x3 = x3)
}))
fits <- lapply(seq_len(m), function(i) {
  coxph(Surv(time, status == 1) ~ x1 + x2 + x3, data = completed[completed$imputation == i, ], ties = "efron",
        control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
})
pooled <- pool(as.mira(fits))
s <- summary(pooled, conf.int = TRUE)
cox <- data.frame(term = as.character(s$term), estimate = num(s$estimate), se = num(s$std.error),
                  df = num(s$df), lower = num(s[["2.5 %"]]), upper = num(s[["97.5 %"]]), p = num(s$p.value),
                  fmi = num(pooled$pooled$fmi), riv = num(pooled$pooled$riv), lambda = num(pooled$pooled$lambda),
                  dfcom = pooled$pooled$dfcom)
write.csv(completed, file.path(out_dir, "imputation_cox_data.csv"), row.names = FALSE)
write.csv(cox, file.path(out_dir, "imputation_cox.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; mice", as.character(packageVersion("mice")), "; survival",
    as.character(packageVersion("survival")), "\n",
    file = file.path(out_dir, "imputation.version"))
