"""Chinese calendar features for demand models: public holidays, 调休, festivals, shopping days.

Sources:

- Public holidays and 调休 make-up working days (weekend days that are working days) come
  from `chinese-calendar`, which transcribes the State Council's yearly notices. It covers
  2004-2026 and raises `NotImplementedError` for later years, because the notice for a
  year is published in November of the year before.
- For years it does not cover, the `holidays` package's China calendar gives the public
  holidays by rule (statutory days plus its rule-based "observed" days off); whether a
  weekend is a 调休 working day is then *unknown* (null), never guessed.
- Lunar festivals (Spring Festival, Lantern, Dragon Boat, Qixi, Mid-Autumn) are converted
  with `lunar-python`; the fixed-date shopping days are Christmas (12-25), 520 (05-20),
  618 (06-18) and Double-11 (11-11).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import polars as pl

#: Lunar (month, day) of each festival.
LUNAR_FESTIVALS: dict[str, tuple[int, int]] = {
    "spring_festival": (1, 1),
    "lantern": (1, 15),
    "dragon_boat": (5, 5),
    "qixi": (7, 7),
    "mid_autumn": (8, 15),
}
#: Gregorian (month, day) of the shopping days.
FIXED_FESTIVALS: dict[str, tuple[int, int]] = {
    "christmas": (12, 25),
    "day_520": (5, 20),
    "day_618": (6, 18),
    "double_11": (11, 11),
}
#: Days before (lead) and after (lag) a festival during which `days_to_<festival>` is set.
#: Pre-Spring-Festival shopping starts about three weeks ahead; gift festivals a week ahead.
FESTIVAL_WINDOWS: dict[str, tuple[int, int]] = {
    "spring_festival": (21, 14),
    "lantern": (7, 2),
    "dragon_boat": (10, 2),
    "qixi": (7, 1),
    "mid_autumn": (14, 2),
    "christmas": (7, 1),
    "day_520": (3, 1),
    "day_618": (7, 1),
    "double_11": (7, 1),
}


@dataclass(frozen=True)
class DayInfo:
    """Holiday status of one day.

    `is_makeup_workday` is True/False where the official schedule is known and None
    (unknown) for years only the rule-based fallback covers. `source` is
    "chinese_calendar" or "holidays".
    """

    day: date
    is_public_holiday: bool
    holiday_name: str | None
    is_makeup_workday: bool | None
    source: str


@cache
def _fallback_china(year: int) -> dict[date, str]:
    import holidays

    return dict(holidays.China(years=year).items())


def day_info(day: date) -> DayInfo:
    """Holiday status of `day`: official schedule if known, else the rule-based fallback."""
    import chinese_calendar

    try:
        on_holiday, name = chinese_calendar.get_holiday_detail(day)
        is_workday = chinese_calendar.is_workday(day)
    except NotImplementedError:
        name = _fallback_china(day.year).get(day)
        return DayInfo(day, name is not None, name, None, "holidays")
    public = bool(on_holiday and name is not None)
    makeup = bool(is_workday and day.weekday() >= 5)
    return DayInfo(day, public, name if public else None, makeup, "chinese_calendar")


@cache
def festival_dates(year: int) -> dict[str, date]:
    """Gregorian date of each lunar festival and shopping day in `year`."""
    from lunar_python import Lunar

    dates: dict[str, date] = {}
    for festival, (month, day_of_month) in LUNAR_FESTIVALS.items():
        solar = Lunar.fromYmd(year, month, day_of_month).getSolar()
        dates[festival] = date(solar.getYear(), solar.getMonth(), solar.getDay())
    for festival, (month, day_of_month) in FIXED_FESTIVALS.items():
        dates[festival] = date(year, month, day_of_month)
    return dates


def _days_to(day: date, festival: str) -> int | None:
    """Signed days from the festival (negative before it) inside its window, else None."""
    lead, lag = FESTIVAL_WINDOWS[festival]
    for year in (day.year - 1, day.year, day.year + 1):
        offset = (day - festival_dates(year)[festival]).days
        if -lead <= offset <= lag:
            return offset
    return None


def calendar_features(start: date, end: date) -> pl.DataFrame:
    """One row per day from `start` to `end` (inclusive) with the calendar features.

    Columns: `date` (Date), `weekday` (0 = Monday), `day_of_year`, `is_public_holiday`
    (bool), `is_makeup_workday` (bool, null = unknown), `is_day_off` (bool, null when a
    weekend's 调休 status is unknown), `holiday_source`, and for each festival in
    `FESTIVAL_WINDOWS` a `days_to_<festival>` (Int16, negative before the day, null
    outside its window). Raises ValueError when `end` is before `start`.
    """
    if end < start:
        raise ValueError(f"calendar_features: end {end} is before start {start}")
    rows = []
    day = start
    while day <= end:
        info = day_info(day)
        if info.is_makeup_workday is None:
            day_off = True if info.is_public_holiday else (None if day.weekday() >= 5 else False)
        else:
            day_off = info.is_public_holiday or (day.weekday() >= 5 and not info.is_makeup_workday)
        row = {
            "date": day,
            "weekday": day.weekday(),
            "day_of_year": day.timetuple().tm_yday,
            "is_public_holiday": info.is_public_holiday,
            "is_makeup_workday": info.is_makeup_workday,
            "is_day_off": day_off,
            "holiday_source": info.source,
        }
        for festival in FESTIVAL_WINDOWS:
            row[f"days_to_{festival}"] = _days_to(day, festival)
        rows.append(row)
        day += timedelta(days=1)
    schema = {
        "date": pl.Date,
        "weekday": pl.Int8,
        "day_of_year": pl.Int16,
        "is_public_holiday": pl.Boolean,
        "is_makeup_workday": pl.Boolean,
        "is_day_off": pl.Boolean,
        "holiday_source": pl.String,
        **{f"days_to_{festival}": pl.Int16 for festival in FESTIVAL_WINDOWS},
    }
    return pl.DataFrame(rows, schema=schema)
