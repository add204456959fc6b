"""The outside view: reference-class base rates from the International Crisis Behavior data.

`icb` reads the data, `filters` turns plain-word filters into ICB codes, `rates` holds the
small-sample statistics, `view` computes a class's base rates and sets a case against them,
`commands` is `standoff baserates`. A case's `reference_class:` block is read by
`case/reference_class.py`, and set beside a forecast by `pipeline/outside.py`.
"""
