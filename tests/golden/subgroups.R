# Golden values for helpers.analysis.subgroups.interaction_test: likelihood-ratio test of the Mg-group × subgroup
# terms in a cause-specific Cox model (survival::coxph, Efron ties; anova of the nested fits); and the full
# model within each stratum (a covariate constant in the stratum is NA in coxph).
# Run from the repository root:  Rscript tests/golden/subgroups.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
data <- read.csv("tests/golden/survival_data.csv")
res <- list()
for (name in c("ties", "cohort_size")) {
  d <- data[data$dataset == name, ]
  d$low <- as.numeric(d$grp == "low"); d$high <- as.numeric(d$grp == "high")
  d$old <- as.numeric(d$x1 >= 55)  # a subgroup made from a covariate: x1 itself stays in the model
  for (modifier in c("x2", "old")) {
    f0 <- as.formula(paste("Surv(time, status == 1) ~ low + high + x1 + x2 + x3 +", modifier))
    f1 <- as.formula(paste("Surv(time, status == 1) ~ low + high + x1 + x2 + x3 +", modifier,
                           "+ low:", modifier, "+ high:", modifier))
    a <- coxph(f0, data = d, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
    b <- coxph(f1, data = d, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
    lr <- 2 * (b$loglik[2] - a$loglik[2])
    dfree <- length(coef(b)) - length(coef(a))
    res[[length(res) + 1]] <- data.frame(dataset = name, modifier = modifier, quantity = c("chisq", "df", "p"),
                                         value = c(lr, dfree, pchisq(lr, dfree, lower.tail = FALSE)))
    # The 1-df test of the low-group term alone: the contrast a forest plot of low against reference draws.
    f1 <- as.formula(paste("Surv(time, status == 1) ~ low + high + x1 + x2 + x3 +", modifier, "+ low:", modifier))
    b <- coxph(f1, data = d, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
    lr <- 2 * (b$loglik[2] - a$loglik[2])
    res[[length(res) + 1]] <- data.frame(dataset = name, modifier = paste0(modifier, "_low"),
                                         quantity = c("chisq", "df", "p"), value = c(lr, 1, pchisq(lr, 1, lower.tail = FALSE)))
  }
  # Within each stratum, the full model (the default of subgroup_analysis): coxph reports NA for a covariate
  # constant in the stratum (x2 within the x2 strata), which helpers.analysis.subgroups leaves out; x1 stays
  # in within the strata of 'old', which is made from it.
  for (modifier in c("x2", "old")) {
    for (level in 1:0) {
      s <- d[d[[modifier]] == level, ]
      fit <- coxph(Surv(time, status == 1) ~ low + high + x1 + x2 + x3, data = s, ties = "efron",
                   control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
      cf <- summary(fit)$coefficients
      for (term in c("low", "high", "x1", "x2")) {
        res[[length(res) + 1]] <- data.frame(dataset = name, modifier = paste0("stratum_", modifier, "_", level),
                                             quantity = paste0(c("coef_", "se_"), term),
                                             value = c(cf[term, "coef"], cf[term, "se(coef)"]))
      }
    }
  }
}
out <- do.call(rbind, res)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "subgroups.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "\n", file = file.path(out_dir, "subgroups.version"))
