"""The forecast's pipeline over the simulation: the picklable tasks the executor runs on each
block of draws (`tasks`), the forecast itself (`forecast`: tallies merged into scenarios,
questions, the settlement, the timeline, `summary` and `indicators`), the drivers (`sensitivity`,
Morris screening), the outside view beside a forecast (`outside`), and the diagnostics of a case's
formulas (`lint`, `ablation`, `bounds`)."""
