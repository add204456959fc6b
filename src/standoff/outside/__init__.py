"""The outside view: reference-class base rates from the International Crisis Behavior data.

`icb` reads the data, `filters` turns plain-word filters into ICB codes, `rates` holds the
small-sample statistics, `view` computes a class's base rates and sets a case against them,
`case` ties a case's `reference_class:` block to a forecast, `commands` is `standoff baserates`.
"""
