"""The Chinese retail calendar as demand multipliers.

Bakery demand follows the official calendar (public holidays and the 调休 make-up
workdays that move weekends around), the lunar festivals that drive seasonal products
(mooncakes before Mid-Autumn, zongzi before Dragon Boat, gift boxes before Spring
Festival), Christmas cakes, and the e-commerce peaks (618, Double 11). Models trained on
the simulator's output can only learn these effects if they are in the data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache

import chinese_calendar
from lunar_python import Lunar


@dataclass(frozen=True, slots=True)
class DayContext:
    """Everything about a calendar day that shifts demand."""

    day: date
    is_workday: bool
    holiday_name: str | None
    store_traffic: float
    online_boost: float
    season_boost: dict[str, float]

    @property
    def yyyymmdd(self) -> str:
        return self.day.strftime("%Y%m%d")


@lru_cache(maxsize=64)
def _lunar_festivals(year: int) -> dict[str, date]:
    """Solar dates of the lunar festivals the chain sells seasonal products for."""

    def solar(lunar_year: int, month: int, day_of_month: int) -> date:
        s = Lunar.fromYmd(lunar_year, month, day_of_month).getSolar()
        return date(s.getYear(), s.getMonth(), s.getDay())

    return {
        "spring_festival": solar(year, 1, 1),
        "dragon_boat": solar(year, 5, 5),
        "mid_autumn": solar(year, 8, 15),
    }


def _workday_and_holiday(day: date) -> tuple[bool, str | None]:
    """Official workday status, falling back to Mon-Fri outside chinese-calendar's years."""
    try:
        is_holiday, name = chinese_calendar.get_holiday_detail(day)
        return (not is_holiday), name
    except NotImplementedError:
        return day.weekday() < 5, None


def _ramp(day: date, peak: date, lead_days: int) -> float:
    """0 outside the selling season, rising linearly to 1 on the festival itself."""
    days_before = (peak - day).days
    if 0 <= days_before <= lead_days:
        return 1.0 - days_before / (lead_days + 1)
    return 0.0


def day_context(day: date) -> DayContext:
    """Demand multipliers for ``day`` (pure function of the date)."""
    is_workday, holiday_name = _workday_and_holiday(day)
    festivals = _lunar_festivals(day.year) | {
        f"next_{k}": v for k, v in _lunar_festivals(day.year + 1).items()
    }
    spring = min(
        (festivals["spring_festival"], festivals["next_spring_festival"]),
        key=lambda d: abs((d - day).days),
    )
    days_to_spring = (spring - day).days

    traffic = 1.0 if is_workday else 1.25
    if holiday_name is not None and not is_workday:
        traffic = 1.35
    if -1 <= days_to_spring <= 3:
        traffic = 0.55  # shops thin out around New Year's Eve and the first days
    if day.month == 12 and day.day in (24, 25):
        traffic *= 1.2

    online = 1.0
    if date(day.year, 6, 15) <= day <= date(day.year, 6, 18):
        online = 1.5
    if date(day.year, 11, 9) <= day <= date(day.year, 11, 11):
        online = 1.8

    season = {
        "mooncake": _ramp(day, festivals["mid_autumn"], 30),
        "zongzi": _ramp(day, festivals["dragon_boat"], 20),
        "christmas": _ramp(day, date(day.year, 12, 25), 14),
        "new_year_gift": _ramp(day, spring, 21),
    }
    return DayContext(
        day=day,
        is_workday=is_workday,
        holiday_name=holiday_name,
        store_traffic=traffic,
        online_boost=online,
        season_boost=season,
    )
