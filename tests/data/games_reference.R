# Reference numbers for standoff's crisis games (src/standoff/games), made by the R package
# `games` 1.1.2 (Kenkel & Signorino, JSS 56(8), 2014; github.com/brentonk/games), the reference
# implementation of Signorino's strategic probit/logit.
#
# Run from the repository root, with the package installed (R CMD INSTALL games):
#
#     Rscript tests/data/games_reference.R
#
# It fits each model below twice: with the package's defaults (maxLik's BFGS, reltol 1e-8), and
# with reltol 1e-14, which runs BFGS on until the log-likelihood stops changing: the maximum
# itself, the number an exact estimator must reproduce. It writes, beside this script:
#
#   games_reference_fits.csv     model, setting, formula, link, type, outcomes, n, loglik
#   games_reference_coef.csv     model, setting, name, estimate, se (the package's vcov)
#   games_reference_predict.csv  model, row (data row, 1-based), p1, p2, p3: predict() of the
#                                reltol 1e-14 fit at that row, to 12 digits (every other complete
#                                row of war1800; of leblang2003 every 50th row and every row
#                                with an attack)
#
# The data sets are the package's own (`data(war1800)`, `data(leblang2003)`), the same rows as
# ../shared/data/games/*.csv.

suppressMessages(library(games))
data("war1800")
data("leblang2003")

here <- "tests/data"

war <- "esc + war ~ s_wt_re1 + revis1 | 0 | regime1 | balanc + regime2"
leb <- paste(
  "outcome ~ capcont + lreserves + overval + creditgrow + USinterest + service",
  "+ contagion + prioratt - 1 | 1 | 1 | unifgov + lexports + preelec + postelec",
  "+ rightgov + realinterest + capcont + lreserves"
)
leb_outcomes <- paste(levels(leblang2003$outcome), collapse = "|")

models <- list(
  list(id = "war1800-probit", data = "war1800", formula = war, link = "probit",
       type = "agent", outcomes = ""),
  list(id = "war1800-logit", data = "war1800", formula = war, link = "logit",
       type = "agent", outcomes = ""),
  list(id = "war1800-private", data = "war1800", formula = war, link = "probit",
       type = "private", outcomes = ""),
  list(id = "leblang2003-private", data = "leblang2003", formula = leb, link = "probit",
       type = "private", outcomes = leb_outcomes),
  list(id = "leblang2003-probit", data = "leblang2003", formula = leb, link = "probit",
       type = "agent", outcomes = leb_outcomes),
  list(id = "leblang2003-logit", data = "leblang2003", formula = leb, link = "logit",
       type = "agent", outcomes = leb_outcomes)
)

num <- function(x) sprintf("%.17g", x)
num12 <- function(x) sprintf("%.12g", x)
fits <- list()
coefs <- list()
preds <- list()

for (m in models) {
  d <- get(m$data)
  f <- Formula::as.Formula(as.formula(m$formula))
  for (setting in c("default", "reltol-1e-14")) {
    fit <- if (setting == "default") {
      egame12(f, data = d, link = m$link, type = m$type)
    } else {
      egame12(f, data = d, link = m$link, type = m$type, reltol = 1e-14)
    }
    if (fit$convergence$code != 0) stop(m$id, " ", setting, ": did not converge")
    ll <- sum(fit$log.likelihood)
    fits[[length(fits) + 1]] <- data.frame(
      model = m$id, setting = setting, data = m$data, formula = m$formula, link = m$link,
      type = m$type, outcomes = m$outcomes, n = nrow(fit$model), loglik = num(ll),
      iterations = as.integer(fit$convergence$iter)
    )
    coefs[[length(coefs) + 1]] <- data.frame(
      model = m$id, setting = setting, name = names(coef(fit)),
      estimate = num(coef(fit)), se = num(sqrt(diag(fit$vcov)))
    )
    if (setting == "reltol-1e-14") {
      rows <- which(complete.cases(d[, all.vars(as.formula(m$formula))]))
      if (m$data == "war1800") {
        rows <- rows[seq(1, length(rows), by = 2)]
      } else {
        rows <- sort(union(rows[seq(1, length(rows), by = 50)],
                           which(d$outcome != "no attack")))
      }
      p <- predict(fit, newdata = d[rows, ])
      preds[[length(preds) + 1]] <- data.frame(
        model = m$id, row = rows, p1 = num12(p[, 1]), p2 = num12(p[, 2]),
        p3 = num12(p[, 3])
      )
    }
  }
}

write.csv(do.call(rbind, fits), file.path(here, "games_reference_fits.csv"), row.names = FALSE)
write.csv(do.call(rbind, coefs), file.path(here, "games_reference_coef.csv"), row.names = FALSE)
write.csv(do.call(rbind, preds), file.path(here, "games_reference_predict.csv"),
          row.names = FALSE, quote = FALSE)
