"""The forecast's work, as the executor runs it: the picklable tasks that sample, simulate and
tally one block of draws (`tasks`)."""
