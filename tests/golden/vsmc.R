# Golden values for helpers.analysis.vsmc: unpaired two-tailed t-tests (Student, as GraphPad Prism's default, and
# Welch), Holm's adjustment (p.adjust), and Hedges' g with its standard error from metafor::escalc
# (measure "SMD": the bias-corrected standardized mean difference, Hedges 1981, with the exact gamma
# correction; vtype "LS" variance), and the t quantile the 95% CI uses.
# Run from the repository root:  Rscript tests/golden/vsmc.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(33)
arms <- list(control = rnorm(4, 1, 0.15), phosphate = rnorm(5, 3.2, 0.6), mg1 = rnorm(3, 2.1, 0.5), mg2 = rnorm(6, 1.5, 0.3))
data <- do.call(rbind, lapply(names(arms), function(a) data.frame(arm = a, value = round(arms[[a]], 6))))
write.csv(data, file.path(out_dir, "vsmc_data.csv"), row.names = FALSE)
arms <- split(data$value, data$arm)
pairs <- list(c("phosphate", "control"), c("mg1", "control"), c("mg2", "control"), c("mg1", "phosphate"), c("mg2", "phosphate"))
res <- list(); student <- c()
for (p in pairs) {
  x <- arms[[p[1]]]; y <- arms[[p[2]]]; key <- paste(p, collapse = "_vs_")
  s <- t.test(x, y, var.equal = TRUE); w <- t.test(x, y, var.equal = FALSE)
  nx <- length(x); ny <- length(y)
  es <- summary(escalc(measure = "SMD", m1i = mean(x), m2i = mean(y), sd1i = sd(x), sd2i = sd(y), n1i = nx, n2i = ny))
  vals <- c(student_t = unname(s$statistic), student_p = s$p.value, welch_t = unname(w$statistic), welch_df = unname(w$parameter),
            welch_p = w$p.value, hedges_g = es$yi[1], hedges_se = es$sei[1], t_quantile = qt(0.975, nx + ny - 2))
  student <- c(student, s$p.value)
  res[[key]] <- data.frame(comparison = key, quantity = names(vals), value = vals)
}
holm <- p.adjust(student, "holm")
for (i in seq_along(pairs)) res[[length(res) + 1]] <- data.frame(comparison = paste(pairs[[i]], collapse = "_vs_"), quantity = "holm_p", value = holm[i])
out <- do.call(rbind, res)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "vsmc.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; metafor", as.character(packageVersion("metafor")), "\n", file = file.path(out_dir, "vsmc.version"))
