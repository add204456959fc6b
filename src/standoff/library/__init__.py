"""The library of history: cases written as of a date before their outcome, each with a
resolution file, forecast and scored beside simple baselines (`standoff library score`)."""
