"""Diagnostics of a compiled crisis case: the model terms of its formulas that stop changing
(`lint`, for `standoff check`), the forecast with every model term frozen at its mean
(`ablation`, for `standoff ablate`), and the ranges a formula can take (`bounds`)."""
