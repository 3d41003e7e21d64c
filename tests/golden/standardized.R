# Golden values for helpers.stats.standardized: standardized (g-formula) cumulative incidence from
# cause-specific Cox models, riskRegression::ate at its defaults (G-formula, influence-function standard
# errors, Wald limits) on CSC(Hist(time, status) ~ group + covariates), and on CSC(list(f1, f2)) with a
# formula of its own for each cause.
# Run from the repository root:  Rscript tests/golden/standardized.R [output folder, default tests/golden]
suppressPackageStartupMessages({library(survival); library(riskRegression); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(20240611)

# Competing risks with tied times (rounded to 0.1 year), three groups (one small) whose membership
# depends on the covariates, so that standardizing matters: status 0 censored, 1 event, 2 competing event.
n <- 400
age <- round(rnorm(n, 60, 10))
male <- rbinom(n, 1, 0.55)
egfr <- round(rnorm(n, 45, 12), 1)
upcr <- round(rlnorm(n, log(0.5), 1), 2)  # skewed, like proteinuria in g/g
score <- 0.06 * (age - 60) - 0.05 * (egfr - 45)
p_low <- plogis(-2.6 + score)
p_high <- plogis(-0.4 - 0.6 * score)
u <- runif(n)
group <- ifelse(u < p_low, "low", ifelse(u < p_low + (1 - p_low) * p_high, "high", "ctrl"))
lp1 <- 0.03 * (age - 60) + 0.3 * male - 0.02 * (egfr - 45) + 0.2 * log(upcr) +
  ifelse(group == "low", 0.8, 0) + ifelse(group == "high", -0.3, 0)
lp2 <- 0.04 * (age - 60) - 0.2 * male + ifelse(group == "low", 0.3, 0)
t1 <- rexp(n, 0.10 * exp(lp1)); t2 <- rexp(n, 0.06 * exp(lp2)); cens <- runif(n, 1.5, 6)
time <- pmin(t1, t2, cens)
status <- ifelse(time == t1, 1, ifelse(time == t2, 2, 0))
time <- pmax(round(time, 1), 0.1)  # rounding makes many tied times
data <- data.frame(time = time, status = status, group = group, age = age, male = male, egfr = egfr, upcr = upcr)

results <- list()
run <- function(case, d, cause, reference, times = c(1, 2, 3),
                formula = Hist(time, status) ~ group + age + male + egfr + upcr) {
  fit <- do.call(CSC, list(formula = formula, data = d))  # the formula itself in the call, which ate reads
  a <- ate(fit, treatment = "group", data = d, times = times, cause = cause, se = TRUE, verbose = FALSE)
  m <- as.data.frame(a$meanRisk)
  results[[length(results) + 1]] <<- data.frame(case = case, time = m$time, group = as.character(m$treatment),
                                                 kind = "risk", m[, c("estimate", "se", "lower", "upper")])
  for (kind in c("diffRisk", "ratioRisk")) {
    r <- as.data.frame(a[[kind]])
    r <- r[r$A == reference, ]  # group B against the reference A: B - A and B / A
    results[[length(results) + 1]] <<- data.frame(
      case = case, time = r$time, group = as.character(r$B),
      kind = if (kind == "diffRisk") "difference" else "ratio", r[, c("estimate", "se", "lower", "upper")])
  }
}
run("cause1", data, 1, "ctrl")
run("cause2", data, 2, "ctrl")
# Early times, where ate truncates a lower limit at 0 (cause 2, group 'low', time 0.1).
run("cause2_early", data, 2, "ctrl", times = c(0.1, 0.5))
# A reference that is not the first level in sorted order: make it the first level of the factor.
releveled <- transform(data, group = factor(group, levels = c("high", "ctrl", "low")))
run("reference_high", releveled, 1, "high")

# Each cause with its own adjustment set, CSC(list(f1, f2)): cause 1 without upcr, cause 2 without male
# and with upcr (as the kidney outcome gets proteinuria in the book); read for either cause.
two <- list(Hist(time, status) ~ group + age + male + egfr, Hist(time, status) ~ group + age + egfr + upcr)
run("two_formulas_cause1", data, 1, "ctrl", formula = two)
run("two_formulas_cause2", data, 2, "ctrl", formula = two)

fmt <- function(df, cols) { for (c in cols) df[[c]] <- sprintf("%.17g", df[[c]]); df }
write.csv(data, file.path(out_dir, "standardized_data.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, results), c("estimate", "se", "lower", "upper")),
          file.path(out_dir, "standardized.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "; riskRegression",
    as.character(packageVersion("riskRegression")), "\n", file = file.path(out_dir, "standardized.version"))
