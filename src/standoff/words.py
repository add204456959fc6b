"""Estimative language: the ICD 203 word for a probability.

Intelligence Community Directive 203, Analytic Standards (2015), section D.6.e(2)(a): almost no
chance (01-05%), very unlikely (05-20%), unlikely (20-45%), roughly even chance (45-55%), likely
(55-80%), very likely (80-95%), almost certain(ly) (95-99%). The directive's bands end at 1% and
99%; a probability outside them takes the nearest band's word. A probability on a boundary takes
the band below it, except 0.55 and 0.80 and 0.95, which take the band above (the directive lists
both ends; this choice keeps each band half-open towards even odds).
"""

from __future__ import annotations

BANDS: tuple[tuple[float, str], ...] = (
    (0.05, "almost no chance"),
    (0.20, "very unlikely"),
    (0.45, "unlikely"),
    (0.55, "roughly even chance"),
    (0.80, "likely"),
    (0.95, "very likely"),
    (1.00, "almost certain"),
)


def icd203(p: float) -> str:
    """The ICD 203 word for probability p (0 <= p <= 1).

    >>> icd203(0.03), icd203(0.3), icd203(0.5), icd203(0.7), icd203(0.99)
    ('almost no chance', 'unlikely', 'roughly even chance', 'likely', 'almost certain')

    On a boundary the band below, except at 0.55, 0.80 and 0.95, which take the band above:

    >>> icd203(0.45), icd203(0.55), icd203(0.8), icd203(0.95)
    ('unlikely', 'likely', 'very likely', 'almost certain')
    >>> icd203(1.5)
    Traceback (most recent call last):
    ...
    ValueError: a probability must be in [0, 1], got 1.5
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"a probability must be in [0, 1], got {p}")
    if p <= 0.45:
        for upper, word in BANDS[:3]:
            if p <= upper:
                return word
    if p < 0.55:
        return "roughly even chance"
    for upper, word in BANDS[4:]:
        if p < upper:
            return word
    return "almost certain"
