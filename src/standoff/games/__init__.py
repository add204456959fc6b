"""Crisis games estimated from history: the statistical strategic models of Signorino (1999,
2003) and Lewis & Schultz (2003), as the R package `games` (Kenkel & Signorino 2014) fits them.

- `formula`: the model formula (`esc + war ~ x1 | 0 | x2 | z`);
- `io`: the data (CSV) and the fitted game (JSON);
- `design`: regressor matrices with R's coding of factors and intercepts;
- `model`: the deterrence game and its equilibrium choice probabilities;
- `likelihood`: the log-likelihood, its analytic gradient and the Hessian;
- `fit`: maximum likelihood and standard errors;
- `predict`: outcome probabilities, at the estimates or at drawn coefficients;
- `crossval`: out-of-sample scores against a multinomial logit and the base rates;
- `commands`: `standoff games fit | predict | cv`.
"""
