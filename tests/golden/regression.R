# Golden values for helpers.regression: glm (binomial), rms::rcs basis, rms::rcspline.eval knots,
# rms::lrm with a restricted cubic spline: contrasts against a reference value and the non-linearity test.
# Run from the repository root:  Rscript tests/golden/regression.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(rms))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(8)
n <- 900
mg <- round(rnorm(n, 2.15, 0.2), 1)                       # Mg-like: recorded to 0.1, many ties
mgc <- rnorm(n, 2.15, 0.2)                                 # continuous, for knot placement
grp <- cut(mg, c(-Inf, 1.75, 2.25, Inf), labels = c("low", "mid", "high"))
z1 <- round(rnorm(n, 55, 10)); z2 <- rbinom(n, 1, 0.4); z3 <- round(rlnorm(n, 3, 1.5), 1)
lp <- -1 + 1.5 * (mg - 2.1)^2 * 4 - 0.8 * (mg - 2.1) + 0.02 * (z1 - 55) + 0.3 * z2 + 0.1 * log1p(z3)
y <- rbinom(n, 1, plogis(lp))
d <- data.frame(y = y, mg = mg, mgc = mgc, low = as.numeric(grp == "low"), high = as.numeric(grp == "high"),
                z1 = z1, z2 = z2, z3 = z3)
write.csv(d, file.path(out_dir, "regression_data.csv"), row.names = FALSE)

res <- list()
put <- function(what, term, quantity, value) res[[length(res) + 1]] <<- data.frame(what = what, term = term, quantity = quantity, value = value)

g <- glm(y ~ low + high + z1 + z2 + z3, family = binomial, data = d, control = glm.control(epsilon = 1e-14, maxit = 100))
s <- summary(g)$coefficients
for (term in rownames(s)) {
  put("glm", term, "coef", s[term, 1]); put("glm", term, "se", s[term, 2]); put("glm", term, "p", s[term, 4])
}
put("glm", "", "loglik", as.numeric(logLik(g)))

for (k in 3:7) {
  kn <- rcspline.eval(d$mgc, nk = k, knots.only = TRUE)
  for (j in seq_along(kn)) put(paste0("knots_", k), as.character(j), "knot", kn[j])
}

knots <- c(1.9, 2.1, 2.3, 2.5)
grid <- seq(1.6, 2.6, by = 0.05)
basis <- rcs(grid, knots)
for (j in seq_len(ncol(basis))) for (i in seq_along(grid)) put("rcs_4", as.character(j), as.character(i), basis[i, j])
basis5 <- rcs(grid, c(1.8, 2.0, 2.1, 2.2, 2.4))
for (j in seq_len(ncol(basis5))) for (i in seq_along(grid)) put("rcs_5", as.character(j), as.character(i), basis5[i, j])

dd <- datadist(d); options(datadist = "dd")
f <- lrm(y ~ rcs(mg, knots) + z1 + z2 + z3, data = d, tol = 1e-14)
ct <- contrast(f, list(mg = grid), list(mg = 2.0))
for (i in seq_along(grid)) {
  put("lrm_contrast", as.character(grid[i]), "log_or", ct$Contrast[i])
  put("lrm_contrast", as.character(grid[i]), "se", ct$SE[i])
}
a <- anova(f)
put("lrm_anova", "Nonlinear", "chisq", a[" Nonlinear", "Chi-Square"])
put("lrm_anova", "Nonlinear", "df", a[" Nonlinear", "d.f."])
put("lrm_anova", "Nonlinear", "p", a[" Nonlinear", "P"])
# Linear regression (lm) of z3 on the groups and covariates: the ANCOVA form of a change model.
l <- summary(lm(z3 ~ low + high + z1 + z2 + mgc, data = d))$coefficients
for (term in rownames(l)) {
  put("lm", term, "coef", l[term, 1]); put("lm", term, "se", l[term, 2]); put("lm", term, "p", l[term, 4])
}

out <- do.call(rbind, res)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "regression.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; rms", as.character(packageVersion("rms")), "\n", file = file.path(out_dir, "regression.version"))
