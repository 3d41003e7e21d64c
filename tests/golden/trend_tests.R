# Golden values for helpers.tables: Jonckheere-Terpstra, linear-by-linear, chi-square, Shapiro-Wilk.
# Run from the repository root:  Rscript tests/golden/trend_tests.R [output folder, default tests/golden]
# Writes trend_tests_data.csv (the datasets) and trend_tests.csv (the results) there.
# References: base R cor.test(method = "kendall", exact = FALSE) for the ties-corrected JT z (SPSS's
# variance, also written out below as a cross-check), coin::lbl_test for linear-by-linear, chisq.test,
# shapiro.test.
suppressPackageStartupMessages(library(coin))
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args)) args[1] else "tests/golden"
set.seed(20111)

datasets <- list()
add <- function(name, x, g) datasets[[name]] <<- data.frame(dataset = name, x = x, g = g)

# Jonckheere-Terpstra: continuous values across ordered groups, with many ties.
add("jt_small", c(3, 1, 2, 5, 4, 4, 6, 2, 7), c(1, 1, 1, 2, 2, 2, 3, 3, 3))
add("jt_ties_int", sample(1:5, 60, replace = TRUE), rep(1:3, c(10, 30, 20)))
g4 <- rep(1:4, c(15, 60, 80, 45))
add("jt_four_groups", round(rnorm(200, mean = 0.2 * g4), 1), g4)
g3 <- rep(1:3, c(37, 914, 695))
add("jt_thesis_sizes", round(rlnorm(1646, meanlog = log(50) - 0.05 * g3, sdlog = 0.6), 0), g3)
add("jt_strong_trend", round(rnorm(300, mean = rep(1:3, each = 100), sd = 0.7), 1), rep(1:3, each = 100))
add("jt_decreasing", sample(1:4, 90, replace = TRUE) - rep(0:2, each = 30), rep(1:3, each = 30))

# Linear-by-linear: two integer-scored variables.
add("lbl_small", c(1, 1, 2, 2, 3, 3, 1, 2), c(1, 1, 1, 2, 2, 2, 3, 3))
add("lbl_binary", rbinom(1646, 1, c(0.73, 0.635, 0.578)[g3]), g3)
x3 <- sample(1:3, 120, replace = TRUE); gx <- rep(1:3, each = 40); x3[gx == 1 & x3 == 3] <- 2
add("lbl_empty_cell", x3, gx)
add("lbl_five_levels", sample(1:5, 500, replace = TRUE, prob = c(0.37, 0.22, 0.18, 0.17, 0.06)), rep(1:3, c(40, 260, 200)))
# A 2 x 2 table (no random draws: the data sets above and below stay as they were), where chisq.test's
# default Yates correction would apply: the helper, like correct = FALSE, leaves it out.
add("lbl_two_by_two", rep(1:2, c(30, 20)), c(rep(1:2, c(12, 18)), rep(1:2, c(15, 5))))

# Shapiro-Wilk: single samples (g is 1).
add("sw_normal_20", round(rnorm(20), 3), rep(1, 20))
add("sw_lognormal_500", round(rlnorm(500), 2), rep(1, 500))
add("sw_ties_5000", round(rnorm(5000, 10, 2)), rep(1, 5000))

data <- do.call(rbind, datasets)
rownames(data) <- NULL

results <- list()
put <- function(name, test, quantity, value) {
  results[[length(results) + 1]] <<- data.frame(dataset = name, test = test, quantity = quantity, value = value)
}

for (name in names(datasets)) {
  d <- datasets[[name]]
  x <- d$x; g <- d$g
  if (startsWith(name, "jt_")) {
    levels_g <- sort(unique(g))
    jt <- 0
    for (i in seq_along(levels_g)) for (j in seq_along(levels_g)) if (i < j) {
      a <- x[g == levels_g[i]]; b <- x[g == levels_g[j]]
      jt <- jt + sum(outer(b, a, ">")) + 0.5 * sum(outer(b, a, "=="))
    }
    ct <- suppressWarnings(cor.test(x, g, method = "kendall", exact = FALSE))
    # SPSS's ties-corrected variance of JT, written out.
    N <- length(x); n <- table(g); t <- table(x)
    mean_jt <- (N^2 - sum(n^2)) / 4
    var_jt <- (N * (N - 1) * (2 * N + 5) - sum(n * (n - 1) * (2 * n + 5)) - sum(t * (t - 1) * (2 * t + 5))) / 72 +
      sum(n * (n - 1) * (n - 2)) * sum(t * (t - 1) * (t - 2)) / (36 * N * (N - 1) * (N - 2)) +
      sum(n * (n - 1)) * sum(t * (t - 1)) / (8 * N * (N - 1))
    put(name, "jonckheere_terpstra", "statistic", jt)
    put(name, "jonckheere_terpstra", "z", unname(ct$statistic))
    put(name, "jonckheere_terpstra", "pvalue", ct$p.value)
    put(name, "jonckheere_terpstra", "z_spss_formula", (jt - mean_jt) / sqrt(var_jt))
  }
  if (startsWith(name, "lbl_")) {
    tab <- table(factor(x, levels = sort(unique(x))), factor(g, levels = sort(unique(g))))
    lt <- lbl_test(as.table(tab), scores = list(Var1 = sort(unique(x)), Var2 = sort(unique(g))))
    z <- as.numeric(statistic(lt))
    put(name, "linear_by_linear", "statistic", z^2)
    put(name, "linear_by_linear", "z", z)
    put(name, "linear_by_linear", "pvalue", as.numeric(pvalue(lt)))
    put(name, "linear_by_linear", "m2_from_r", (length(x) - 1) * cor(x, g)^2)
    cs <- suppressWarnings(chisq.test(tab, correct = FALSE))
    put(name, "chi_square", "statistic", unname(cs$statistic))
    put(name, "chi_square", "pvalue", cs$p.value)
    put(name, "chi_square", "df", unname(cs$parameter))
  }
  if (startsWith(name, "sw_")) {
    sw <- shapiro.test(x)
    put(name, "shapiro_wilk", "statistic", unname(sw$statistic))
    put(name, "shapiro_wilk", "pvalue", sw$p.value)
  }
}

out <- do.call(rbind, results)
write.csv(data, file.path(out_dir, "trend_tests_data.csv"), row.names = FALSE)
out$value <- sprintf("%.17g", out$value)
write.csv(out, file.path(out_dir, "trend_tests.csv"), row.names = FALSE, quote = FALSE)
cat(R.version.string, "; coin", as.character(packageVersion("coin")), "\n", file = file.path(out_dir, "trend_tests.version"))
