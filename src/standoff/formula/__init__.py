"""The formula language of crisis cases: one expression per formula, parsed and checked once and
evaluated on arrays of draws (`expr`), and the text of a formula placed back at its line in the
case file (`text`). Used by the crisis compiler and by games written into a case."""
