# Golden values for helpers.stats.finegray_time: Fine-Gray with a covariate's product with log(time), the
# test of proportional subdistribution hazards, as cmprsk::crr fits it through cov2 and tf (gtol = 1e-12):
# on the competing-risks data sets of survival.R ('ties', 'cohort_size') and on the shipped synthetic
# cohort (data/cohort.csv: Model 4 with mg_low x log(t), the Model 4 covariates centred and scaled so that
# crr reaches its tolerance; the time term's coefficient and test do not depend on that).
# Run from the repository root:  Rscript tests/golden/finegray_time.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(cmprsk))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
results <- list()
put <- function(dataset, term, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(dataset = dataset, term = term, quantity = quantity, value = value)
}
record <- function(name, fit, names) {
  if (!fit$converged) stop("crr did not converge on ", name)
  se <- sqrt(diag(fit$var))
  for (k in seq_along(fit$coef)) {
    put(name, names[k], "coef", fit$coef[k])
    put(name, names[k], "se", se[k])
  }
  k <- length(fit$coef)
  put(name, names[k], "p", 2 * pnorm(-abs(fit$coef[k] / se[k])))
  put(name, "", "loglik", fit$loglik)
}
data <- read.csv("tests/golden/survival_data.csv")
for (name in c("ties", "cohort_size")) {
  d <- data[data$dataset == name, ]
  low <- as.numeric(d$grp == "low")
  cov <- cbind(grplow = low, grphigh = as.numeric(d$grp == "high"), x1 = d$x1, x2 = d$x2)
  fit <- crr(d$time, d$status, cov, cov2 = cbind(grplow = low), tf = function(t) cbind(log(t)),
             failcode = 1, cencode = 0, gtol = 1e-12, maxiter = 100)
  record(name, fit, c(colnames(cov), "grplow:log(t)"))
}
co <- read.csv("data/cohort.csv")
co <- co[!is.na(co$mg) & co$mg < 2.6 & !is.na(co$followup_years) & co$followup_years > 0, ]
co$male <- as.numeric(co$sex == "M")
co$map <- co$dbp + (co$sbp - co$dbp) / 3
co$corrected_calcium <- ifelse(co$albumin < 4, co$calcium + 0.8 * (4 - co$albumin), co$calcium)
co$mg_low <- as.numeric(co$mg < 1.8); co$mg_high <- as.numeric(co$mg > 2.2)
model4 <- c("age", "male", "bmi", "egfr", "total_chol", "albumin", "phosphate", "corrected_calcium", "map", "diabetes")
cov <- cbind(mg_low = co$mg_low, mg_high = co$mg_high, scale(as.matrix(co[, model4])))
# gtol 1e-10 here: at 1e-12 crr's line search stops a rounding error short of its criterion (it reports
# no convergence), on this model as on the Fine-Gray models of fine_gray.R.
fit <- crr(co$followup_years, co$status, cov, cov2 = cbind(mg_low = co$mg_low), tf = function(t) cbind(log(t)),
           failcode = 1, cencode = 0, gtol = 1e-10, maxiter = 100)
record("cohort", fit, c(colnames(cov), "mg_low:log(t)"))
out <- do.call(rbind, results)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "finegray_time.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; cmprsk", as.character(packageVersion("cmprsk")), "\n", file = file.path(out_dir, "finegray_time.version"))
