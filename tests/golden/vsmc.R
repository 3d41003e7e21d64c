# Golden values for helpers.analysis.vsmc: unpaired two-tailed t-tests (Student, as GraphPad Prism's default, and
# Welch), Holm's adjustment (p.adjust), and Hedges' g with its 95% CI written out (pooled-SD d times
# 1 - 3 / (4 (n1 + n2) - 9); se = sqrt((n1 + n2) / (n1 n2) + g^2 / (2 (n1 + n2))); t quantile on n1 + n2 - 2).
# Run from the repository root:  Rscript tests/golden/vsmc.R [output folder, default tests/golden]
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
  d <- (mean(x) - mean(y)) / sqrt(((nx - 1) * var(x) + (ny - 1) * var(y)) / (nx + ny - 2))
  g <- d * (1 - 3 / (4 * (nx + ny) - 9))
  se <- sqrt((nx + ny) / (nx * ny) + g^2 / (2 * (nx + ny)))
  crit <- qt(0.975, nx + ny - 2)
  vals <- c(student_t = unname(s$statistic), student_p = s$p.value, welch_t = unname(w$statistic), welch_df = unname(w$parameter),
            welch_p = w$p.value, hedges_g = g, g_lower = g - crit * se, g_upper = g + crit * se)
  student <- c(student, s$p.value)
  res[[key]] <- data.frame(comparison = key, quantity = names(vals), value = vals)
}
holm <- p.adjust(student, "holm")
for (i in seq_along(pairs)) res[[length(res) + 1]] <- data.frame(comparison = paste(pairs[[i]], collapse = "_vs_"), quantity = "holm_p", value = holm[i])
out <- do.call(rbind, res)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "vsmc.csv"), row.names = FALSE, quote = FALSE)
