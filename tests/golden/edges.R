# Golden values at the edges, where a group level has no event of one cause.
# 1. riskRegression::ate on CSC for the pbc data grouped by edema (0, 0.5, 1): the edema = 1 level has no
#    transplant (status 1), so the cause-specific hazard of transplant is 0 there; ate still estimates the
#    standardized risks of death (status 2) and of transplant in every level.
# 2. survival::coxph with a level without events: R prints a large arbitrary coefficient for it (with a
#    warning); the other coefficients are finite and are compared.
# 3. survival::coxph with an indicator of an empty level (0 for everyone): NA for it, the others estimated.
# Run from the repository root:  Rscript tests/golden/edges.R [output folder, default tests/golden]
suppressPackageStartupMessages({library(survival); library(riskRegression); library(data.table)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"

d <- pbc[!is.na(pbc$trt), c("time", "status", "edema", "age", "bili", "albumin")]
d$time <- d$time / 365.25
d$edema <- factor(d$edema)
stopifnot(sum(d$edema == "1" & d$status == 1) == 0)
results <- list()
fit <- CSC(Hist(time, status) ~ edema + age + log(bili) + albumin, data = d)
for (cause in c(2, 1)) {
  a <- ate(fit, treatment = "edema", data = d, times = c(2, 5), cause = cause, se = TRUE, verbose = FALSE)
  m <- as.data.frame(a$meanRisk)
  results[[length(results) + 1]] <- data.frame(case = paste0("pbc_edema_cause", cause), time = m$time,
                                               group = as.character(m$treatment), kind = "risk",
                                               m[, c("estimate", "se")])
  r <- as.data.frame(a$diffRisk)
  r <- r[r$A == "0", ]
  results[[length(results) + 1]] <- data.frame(case = paste0("pbc_edema_cause", cause), time = r$time,
                                               group = as.character(r$B), kind = "difference", r[, c("estimate", "se")])
}
d$logbili <- log(d$bili)
write.csv(d[, c("time", "status", "edema", "age", "logbili", "albumin")], file.path(out_dir, "edges_pbc.csv"), row.names = FALSE)

# coxph of transplant (status 1) on edema as indicators: edema = 1 has no transplant.
d$edema05 <- as.numeric(d$edema == "0.5"); d$edema1 <- as.numeric(d$edema == "1")
cx <- suppressWarnings(coxph(Surv(time, status == 1) ~ edema05 + edema1 + age + logbili + albumin, data = d, ties = "efron"))
s <- summary(cx)$coefficients
cox <- data.frame(case = "coxph_zero_level", time = NA, group = rownames(s), kind = "coef",
                  estimate = s[, "coef"], se = s[, "se(coef)"])
# 3. survival::coxph with an exposure indicator that is 0 for every patient (a group without patients): R gives
#    it NA ("X matrix deemed to be singular") and estimates the others; death (status 2) by edema = 0.5.
d$nobody <- 0
cx0 <- suppressWarnings(coxph(Surv(time, status == 2) ~ edema05 + nobody + age + logbili + albumin, data = d, ties = "efron"))
s0 <- summary(cx0)$coefficients
cox0 <- data.frame(case = "coxph_empty_level", time = NA, group = rownames(s0), kind = "coef",
                   estimate = s0[, "coef"], se = s0[, "se(coef)"])
stopifnot(is.na(cox0$estimate[cox0$group == "nobody"]))
cox0 <- cox0[cox0$group != "nobody", ]
fmt <- function(df) { for (c in c("estimate", "se")) df[[c]] <- sprintf("%.17g", df[[c]]); df }
write.csv(fmt(rbind(do.call(rbind, results), cox, cox0)), file.path(out_dir, "edges.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "; riskRegression",
    as.character(packageVersion("riskRegression")), "\n", file = file.path(out_dir, "edges.version"))
