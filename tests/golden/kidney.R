# Golden values for chapter 3's table of the competing kidney outcome: cause-specific Cox models of the
# kidney outcome (status 2; the composite, status 1, censors) on the shipped synthetic cohort
# (data/cohort.csv), crude, Models 1-4 and the kidney outcome's own set (Model 4 + log2(proteinuria + 1)),
# survival::coxph with Efron ties, run to its maximum. The analysed patients and the derived covariates as
# helpers.analysis.cohort and helpers.analysis.derive make them.
# Run from the repository root:  Rscript tests/golden/kidney.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
co <- read.csv("data/cohort.csv")
co <- co[!is.na(co$mg) & co$mg < 2.6 & !is.na(co$followup_years) &
           (co$followup_years > 0 | (co$followup_years == 0 & !is.na(co$status) & co$status != 0)), ]
co$male <- as.numeric(co$sex == "M")
co$map <- co$dbp + (co$sbp - co$dbp) / 3
co$corrected_calcium <- ifelse(co$albumin < 4, co$calcium + 0.8 * (4 - co$albumin), co$calcium)
co$mg_low <- as.numeric(co$mg < 1.8); co$mg_high <- as.numeric(co$mg > 2.2)
co$log2_proteinuria <- log2(1 + co$proteinuria)
m1 <- c("age", "male", "bmi")
m2 <- c(m1, "egfr", "total_chol", "albumin", "phosphate", "corrected_calcium")
m3 <- c(m2, "map")
m4 <- c(m3, "diabetes")
sets <- list(Crude = character(0), "Model 1" = m1, "Model 2" = m2, "Model 3" = m3, "Model 4" = m4,
             Kidney = c(m4, "log2_proteinuria"))
res <- list()
for (name in names(sets)) {
  f <- as.formula(paste("Surv(followup_years, status == 2) ~", paste(c("mg_low", "mg_high", sets[[name]]), collapse = " + ")))
  fit <- coxph(f, data = co, ties = "efron", control = coxph.control(eps = 1e-12, toler.chol = 1e-13, iter.max = 50))
  s <- summary(fit)$coefficients
  for (term in c("mg_low", "mg_high")) {
    res[[length(res) + 1]] <- data.frame(model = name, term = term, quantity = c("coef", "se", "p"),
                                         value = c(s[term, "coef"], s[term, "se(coef)"], s[term, "Pr(>|z|)"]))
  }
  res[[length(res) + 1]] <- data.frame(model = name, term = "", quantity = c("n", "events"), value = c(fit$n, fit$nevent))
}
out <- do.call(rbind, res)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "kidney.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "\n", file = file.path(out_dir, "kidney.version"))
