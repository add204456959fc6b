"""The simulation stage: a compiled case and a seed -> the histories of a block of draws. `sample`
draws the uncertain inputs, `crisis` runs the crisis's rounds (events, effects, beliefs and the
bargaining engine's round), `rounds` computes each issue's round once per distinct state, and
`histories` holds and tallies what happened."""
