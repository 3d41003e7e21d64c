# Golden values for helpers.survival: cause-specific Cox (survival::coxph, Efron and Breslow ties),
# cumulative incidence and Gray's test (cmprsk::cuminc), exact Poisson rates (stats::poisson.test).
# Run from the repository root:  Rscript tests/golden/survival.R [output folder, default tests/golden]
suppressPackageStartupMessages({library(survival); library(cmprsk)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(20240521)

# Competing-risks data with tied times: status 0 censored, 1 event of interest, 2 competing event.
make <- function(n, name, sparse = FALSE) {
  x1 <- round(rnorm(n, 50, 10))
  x2 <- rbinom(n, 1, 0.5)
  x3 <- round(rlnorm(n, log(600), 1.2))  # large-magnitude, skewed (like proteinuria in mg/day)
  grp <- sample(c("low", "mid", "high"), n, replace = TRUE, prob = c(0.1, 0.5, 0.4))
  if (sparse) grp <- sample(c("low", "mid", "high"), n, replace = TRUE, prob = c(0.02, 0.6, 0.38))
  lp1 <- 0.03 * (x1 - 50) + 0.4 * x2 + 0.0002 * (x3 - 600) + ifelse(grp == "low", 0.9, 0) + ifelse(grp == "high", -0.1, 0)
  t1 <- rexp(n, 0.08 * exp(lp1)); t2 <- rexp(n, 0.05 * exp(-0.2 * x2)); cens <- runif(n, 1, 8)
  time <- pmin(t1, t2, cens)
  status <- ifelse(time == t1, 1, ifelse(time == t2, 2, 0))
  time <- pmax(round(time, 1), 0.1)  # rounding makes many tied times
  data.frame(dataset = name, time = time, status = status, x1 = x1, x2 = x2, x3 = x3, grp = grp)
}
data <- rbind(make(300, "ties"), make(500, "sparse", sparse = TRUE), make(1646, "cohort_size"))
# Two very sparse indicators (6 and 5 patients, 2 and 1 events) beside a common covariate: the kind of
# stratum a subgroup analysis of 37 low-Mg patients produces.
vs <- make(250, "very_sparse")
vs$grp <- "mid"; vs$grp[1:6] <- "low"; vs$grp[7:11] <- "high"
vs$status[1:6] <- c(1, 1, 0, 0, 2, 0); vs$status[7:11] <- c(1, 0, 0, 0, 0)
data <- rbind(data, vs)
# Follow-up 0: the 'ties' data with four records moved to time 0 (two events of interest, one competing
# event, one censored). coxph, cuminc and crr keep such records (no random numbers are drawn here, so the
# other data sets are unchanged).
tz <- data[data$dataset == "ties", ]
tz$dataset <- "time_zero"
tz$time[1:4] <- 0
tz$status[1:4] <- c(1, 0, 2, 1)
data <- rbind(data, tz)
# A tiny data set where every tie pattern is visible.
data <- rbind(data, data.frame(
  dataset = "tiny", time = c(1, 1, 1, 2, 2, 3, 3, 3, 4, 5, 5, 6),
  status = c(1, 2, 0, 1, 1, 2, 1, 0, 1, 0, 2, 1), x1 = c(50, 60, 40, 55, 45, 65, 52, 48, 58, 42, 61, 47),
  x2 = c(1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0), x3 = c(100, 900, 300, 2500, 50, 700, 400, 1200, 80, 600, 3000, 200),
  grp = rep(c("low", "mid", "high"), 4)))

results <- list()
put <- function(dataset, what, term, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(dataset = dataset, what = what, term = term,
                                                 quantity = quantity, value = value)
}
curves <- list()

for (name in unique(data$dataset)) {
  d <- data[data$dataset == name, ]
  d$grp <- factor(d$grp, levels = c("mid", "low", "high"))  # 'mid' is the reference
  if (name != "tiny") {
    for (ties in c("efron", "breslow")) {
      fit <- coxph(Surv(time, status == 1) ~ grp + x1 + x2 + x3, data = d, ties = ties,
                   control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
      s <- summary(fit)$coefficients
      for (term in rownames(s)) {
        put(name, paste0("cox_", ties), term, "coef", s[term, "coef"])
        put(name, paste0("cox_", ties), term, "se", s[term, "se(coef)"])
        put(name, paste0("cox_", ties), term, "p", s[term, "Pr(>|z|)"])
      }
      put(name, paste0("cox_", ties), "", "loglik", fit$loglik[2])
      # Grambsch-Therneau test on scaled Schoenfeld residuals against 1 - KM(t-), written out as
      # survival 2.x's cox.zph computed it (survival 3.x replaced it with an exact score test).
      sres <- as.matrix(resid(fit, "schoenfeld"))
      ndead <- nrow(sres)
      km <- survfit(Surv(time, status == 1) ~ 1, data = d)
      t1 <- km$surv[km$n.event > 0]; t2 <- km$n.event[km$n.event > 0]
      g <- 1 - rep(c(1, t1), c(t2, 0))
      xx <- g - mean(g)
      r2 <- sres %*% fit$var * ndead
      test <- xx %*% r2
      z <- c(test^2 / (diag(fit$var) * ndead * sum(xx^2)))
      for (k in seq_along(z)) {
        term <- names(fit$coefficients)[k]
        put(name, paste0("ph_", ties), term, "rho", cor(xx, r2[, k]))
        put(name, paste0("ph_", ties), term, "chisq", z[k])
        put(name, paste0("ph_", ties), term, "p", 1 - pchisq(z[k], 1))
      }
      ug <- c(xx %*% sres)  # the global test uses the unscaled residuals
      zg <- c(ug %*% fit$var %*% ug) * ndead / sum(xx^2)
      put(name, paste0("ph_", ties), "GLOBAL", "chisq", zg)
      put(name, paste0("ph_", ties), "GLOBAL", "p", 1 - pchisq(zg, length(z)))
    }
  }
  # cuminc groups in the order of the factor levels, as helpers.survival orders them.
  ci <- cuminc(d$time, d$status, group = d$grp, cencode = 0)
  tests <- ci$Tests
  for (cause in rownames(tests)) {
    put(name, "gray", cause, "statistic", tests[cause, "stat"])
    put(name, "gray", cause, "pvalue", tests[cause, "pv"])
    put(name, "gray", cause, "df", tests[cause, "df"])
  }
  for (curve in names(ci)[names(ci) != "Tests"]) {
    parts <- strsplit(curve, " ")[[1]]
    curves[[length(curves) + 1]] <- data.frame(dataset = name, group = parts[1], cause = parts[2],
                                               time = ci[[curve]]$time, est = ci[[curve]]$est,
                                               var = ci[[curve]]$var)
  }
  # Ungrouped curve (one group).
  ci1 <- cuminc(d$time, d$status, cencode = 0)
  for (curve in names(ci1)[names(ci1) != "Tests"]) {
    parts <- strsplit(curve, " ")[[1]]
    curves[[length(curves) + 1]] <- data.frame(dataset = name, group = "all", cause = parts[2],
                                               time = ci1[[curve]]$time, est = ci1[[curve]]$est,
                                               var = ci1[[curve]]$var)
  }
}

# Exact Poisson 95% confidence intervals of rates per 1,000 person-years.
rates <- data.frame(events = c(0, 1, 7, 83, 153, 1000), pyears = c(120.5, 37.2, 147.6, 4109.3, 7368, 50000))
for (i in seq_len(nrow(rates))) {
  pt <- poisson.test(rates$events[i], rates$pyears[i] / 1000)
  key <- paste0("rate_", i)
  put(key, "poisson", "", "events", rates$events[i])
  put(key, "poisson", "", "pyears", rates$pyears[i])
  put(key, "poisson", "", "rate", unname(pt$estimate))
  put(key, "poisson", "", "lower", pt$conf.int[1])
  put(key, "poisson", "", "upper", pt$conf.int[2])
}

fmt <- function(df, cols) { for (c in cols) df[[c]] <- sprintf("%.17g", df[[c]]); df }
write.csv(data, file.path(out_dir, "survival_data.csv"), row.names = FALSE)
write.csv(fmt(do.call(rbind, results), "value"), file.path(out_dir, "survival.csv"), row.names = FALSE, quote = FALSE)
write.csv(fmt(do.call(rbind, curves), c("time", "est", "var")), file.path(out_dir, "survival_cuminc.csv"),
          row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "; cmprsk",
    as.character(packageVersion("cmprsk")), "\n", file = file.path(out_dir, "survival.version"))
