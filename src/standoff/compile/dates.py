"""The rounds of a crisis and their dates: a step of a week, a month or a quarter from the case's
as-of date to its horizon, the last round ending at the horizon."""

from __future__ import annotations

import datetime as dt

STEP_DAYS = {"week": 7}
STEP_MONTHS = {"month": 1, "quarter": 3}
MAX_ROUNDS = 1_000  # the most rounds a crisis may have (as_of to horizon in steps)


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole calendar months; a day past the target month's end becomes its last.

    >>> add_months(dt.date(2018, 8, 15), 3)
    datetime.date(2018, 11, 15)
    >>> add_months(dt.date(2019, 1, 31), 1), add_months(dt.date(2020, 1, 31), 1)
    (datetime.date(2019, 2, 28), datetime.date(2020, 2, 29))
    >>> add_months(dt.date(2018, 11, 30), 3)
    datetime.date(2019, 2, 28)
    """
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        raise OverflowError(f"{day} + {months} months is past the last date, 9999-12-31")
    for d in range(day.day, 0, -1):
        try:
            return dt.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(f"no day of {year}-{month:02d}")  # pragma: no cover (day 1 always exists)


def round_count(as_of: dt.date, horizon: dt.date, step: str) -> int:
    """How many rounds as_of to horizon makes, without listing them (a bound on the work).

    >>> round_count(dt.date(2018, 8, 15), dt.date(2018, 12, 31), "month")
    5
    >>> round_count(dt.date(2018, 1, 1), dt.date(9999, 12, 31), "week")
    416481
    """
    if horizon <= as_of:
        return 1
    if step in STEP_DAYS:
        return -(-(horizon - as_of).days // STEP_DAYS[step])
    months = (horizon.year - as_of.year) * 12 + horizon.month - as_of.month
    months += 1 if horizon.day > as_of.day else 0
    return max(1, -(-months // STEP_MONTHS[step]))


def round_dates(as_of: dt.date, horizon: dt.date, step: str) -> list[dt.date]:
    """The date at the end of each round: as_of + t steps, up to and including the horizon.

    A horizon between two steps ends a last, shorter round:

    >>> round_dates(dt.date(2018, 8, 15), dt.date(2018, 12, 31), "month")
    [datetime.date(2018, 9, 15), datetime.date(2018, 10, 15), datetime.date(2018, 11, 15),
     datetime.date(2018, 12, 15), datetime.date(2018, 12, 31)]
    >>> round_dates(dt.date(2018, 1, 31), dt.date(2018, 7, 31), "quarter")
    [datetime.date(2018, 4, 30), datetime.date(2018, 7, 31)]
    >>> round_dates(dt.date(2018, 1, 1), dt.date(2018, 1, 15), "week")
    [datetime.date(2018, 1, 8), datetime.date(2018, 1, 15)]
    """
    dates: list[dt.date] = []
    t = 1
    while True:
        try:
            if step in STEP_DAYS:
                day = as_of + dt.timedelta(days=STEP_DAYS[step] * t)
            else:
                day = add_months(as_of, STEP_MONTHS[step] * t)
        except OverflowError:  # past 9999-12-31: past any horizon
            day = dt.date.max
        if day > horizon or day == dt.date.max:
            if not dates or dates[-1] < horizon:
                dates.append(horizon)
            return dates
        dates.append(day)
        t += 1
