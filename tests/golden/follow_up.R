# Golden values for helpers.stats.survival.median_follow_up: quartiles of follow-up by the reverse
# Kaplan-Meier method, quantile(survfit(Surv(time, status == 0) ~ group), probs = c(.25, .5, .75)).
# Small data sets are built so that the curve is flat at exactly 0.25, 0.5 or 0.75 (where quantile.survfit
# takes the midpoint of the flat stretch) or ends exactly at 0.5 (midpoint with the last time).
# Run from the repository root:  Rscript tests/golden/follow_up.R [output folder, default tests/golden]
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(20240522)
n <- 400
random <- data.frame(dataset = "random", group = sample(c("a", "b", "c"), n, replace = TRUE),
                     time = round(runif(n, 0, 8), 1), status = sample(0:2, n, replace = TRUE, prob = c(.7, .2, .1)))
data <- rbind(
  random,
  data.frame(dataset = "flat", group = rep(c("a", "b"), c(10, 8)),
             time = c(1:10, 1:8), status = 0),
  data.frame(dataset = "product", group = "a", time = c(1, 2, 3, 4, 5), status = c(1, 0, 0, 0, 0)),
  data.frame(dataset = "ends_at_half", group = "a", time = c(1, 2, 3, 4), status = c(0, 0, 1, 1)),
  data.frame(dataset = "zero", group = "a", time = c(0, 0, 1, 2, 2, 3, 4, 5), status = c(0, 1, 0, 0, 1, 0, 2, 0))
)
rows <- list()
for (name in unique(data$dataset)) {
  d <- data[data$dataset == name, ]
  fits <- list(all = survfit(Surv(time, status == 0) ~ 1, data = d))
  for (g in sort(unique(d$group))) fits[[g]] <- survfit(Surv(time, status == 0) ~ 1, data = d[d$group == g, ])
  for (g in names(fits)) {
    q <- quantile(fits[[g]], probs = c(.25, .5, .75), conf.int = FALSE)
    rows[[length(rows) + 1]] <- data.frame(dataset = name, group = g, prob = c(.25, .5, .75),
                                           quantile = sprintf("%.17g", q))
  }
}
write.csv(data, file.path(out_dir, "follow_up_data.csv"), row.names = FALSE)
write.csv(do.call(rbind, rows), file.path(out_dir, "follow_up.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; survival", as.character(packageVersion("survival")), "\n", file = file.path(out_dir, "follow_up.version"))
