# Golden values for helpers.survival.fine_gray: cmprsk::crr on the competing-risks data sets of
# survival.R (tests/golden/survival_data.csv), cause 1, with crr's own variance.
# crr stops when max(|score| * max(|b|, 1)) < max(|loglik|, 1) * gtol; gtol = 1e-9 (its default is
# 1e-6) so that both sides are compared at the maximum rather than at crr's default stopping point
# (tighter, crr's line search gives up). x3 enters in thousands (x3k): in its own unit (up to ~30,000)
# crr's Hessian is numerically singular and crr stops with an error. Cause 2 is left out on 'sparse' and
# 'very_sparse', where a group has no competing event and the maximum lies at minus infinity.
# Run from the repository root:  Rscript tests/golden/fine_gray.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(cmprsk))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
data <- read.csv("tests/golden/survival_data.csv")
results <- list()
curves <- list()
put <- function(dataset, term, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(dataset = dataset, term = term, quantity = quantity, value = value)
}
for (name in c("ties", "sparse", "very_sparse", "cohort_size", "time_zero")) {
  d <- data[data$dataset == name, ]
  cov <- cbind(grplow = as.numeric(d$grp == "low"), grphigh = as.numeric(d$grp == "high"),
               x1 = d$x1, x2 = d$x2, x3k = d$x3 / 1000)
  for (cause in if (name %in% c("sparse", "very_sparse")) 1 else 1:2) {
    # 'time_zero' (four records of follow-up 0) is compared at gtol = 1e-12.
    gtol <- if (name == "time_zero") 1e-12 else 1e-9
    fit <- crr(d$time, d$status, cov, failcode = cause, cencode = 0, gtol = gtol, maxiter = 100)
    if (!fit$converged) stop("crr did not converge on ", name)
    se <- sqrt(diag(fit$var))
    for (k in seq_along(fit$coef)) {
      term <- colnames(cov)[k]
      put(name, term, paste0("coef_cause", cause), fit$coef[k])
      put(name, term, paste0("se_cause", cause), se[k])
      put(name, term, paste0("p_cause", cause), 2 * pnorm(-abs(fit$coef[k] / se[k])))
    }
    put(name, "", paste0("loglik_cause", cause), fit$loglik)
    if (cause == 1 && name %in% c("ties", "cohort_size", "time_zero")) {
      # Cumulative incidence the model implies for three covariate profiles (predict.crr).
      profiles <- rbind(mid = c(0, 0, 50, 0, 0.6), low = c(1, 0, 50, 0, 0.6), high = c(0, 1, 45, 1, 2.0))
      pr <- predict(fit, cov1 = profiles)
      for (k in seq_len(nrow(profiles))) {
        curves[[length(curves) + 1]] <- data.frame(kind = "predict_crr", dataset = name,
                                                   profile = rownames(profiles)[k], time = pr[, 1], value = pr[, k + 1])
      }
      # Kaplan-Meier of the event of interest with competing events censored (survival::survfit).
      km <- survfit(Surv(d$time, d$status == 1) ~ 1)
      curves[[length(curves) + 1]] <- data.frame(kind = "km", dataset = name, profile = "",
                                                 time = km$time, value = km$surv)
    }
  }
}
out <- do.call(rbind, results)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "fine_gray.csv"), row.names = FALSE, quote = FALSE)
curves <- do.call(rbind, curves)
curves$time <- sprintf("%.17g", curves$time)
curves$value <- sprintf("%.17g", curves$value)
write.csv(curves, file.path(out_dir, "fine_gray_curves.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; cmprsk", as.character(packageVersion("cmprsk")), "\n", file = file.path(out_dir, "fine_gray.version"))
