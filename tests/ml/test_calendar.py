"""Calendar features: 2026 from the official schedule, 2027 from the rule-based fallback."""

from __future__ import annotations

from datetime import date, timedelta

from ml.calendar import calendar_features, day_info, festival_dates


def _days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=offset) for offset in range(count)]


# The State Council's notice for 2026 (国办发明电〔2025〕7号).
HOLIDAYS_2026 = [
    *_days(date(2026, 1, 1), 3),
    *_days(date(2026, 2, 15), 9),
    *_days(date(2026, 4, 4), 3),
    *_days(date(2026, 5, 1), 5),
    *_days(date(2026, 6, 19), 3),
    *_days(date(2026, 9, 25), 3),
    *_days(date(2026, 10, 1), 7),
]
MAKEUP_WORKDAYS_2026 = [
    date(2026, 1, 4),
    date(2026, 2, 14),
    date(2026, 2, 28),
    date(2026, 5, 9),
    date(2026, 9, 20),
    date(2026, 10, 10),
]


def test_2026_public_holidays_and_makeup_workdays_are_exact():
    features = calendar_features(date(2026, 1, 1), date(2026, 12, 31))
    assert features.height == 365
    holidays = features.filter("is_public_holiday")["date"].to_list()
    makeup = features.filter("is_makeup_workday")["date"].to_list()
    assert holidays == HOLIDAYS_2026
    assert makeup == MAKEUP_WORKDAYS_2026
    assert features["is_makeup_workday"].null_count() == 0
    assert set(features["holiday_source"]) == {"chinese_calendar"}
    # a 调休 Saturday is a working day, an ordinary Saturday is not
    by_date = {row["date"]: row for row in features.iter_rows(named=True)}
    assert by_date[date(2026, 2, 14)]["is_day_off"] is False
    assert by_date[date(2026, 2, 7)]["is_day_off"] is True
    assert by_date[date(2026, 2, 16)]["is_day_off"] is True


def test_2027_has_public_holidays_and_unknown_makeup_days():
    spring = day_info(date(2027, 2, 6))
    assert spring.is_public_holiday is True
    assert spring.source == "holidays"
    assert spring.is_makeup_workday is None
    features = calendar_features(date(2026, 12, 28), date(2027, 1, 10))
    by_date = {row["date"]: row for row in features.iter_rows(named=True)}
    assert by_date[date(2026, 12, 31)]["holiday_source"] == "chinese_calendar"
    assert by_date[date(2027, 1, 1)]["is_public_holiday"] is True
    assert by_date[date(2027, 1, 1)]["holiday_source"] == "holidays"
    # 2027-01-09 is a Saturday: a working day or not is unknown until the notice
    assert by_date[date(2027, 1, 9)]["is_makeup_workday"] is None
    assert by_date[date(2027, 1, 9)]["is_day_off"] is None
    assert by_date[date(2027, 1, 6)]["is_day_off"] is False
    public_2027 = calendar_features(date(2027, 1, 1), date(2027, 12, 31)).filter(
        "is_public_holiday"
    )
    assert {date(2027, 2, 6), date(2027, 6, 9), date(2027, 9, 15), date(2027, 10, 1)} <= set(
        public_2027["date"]
    )


def test_festival_dates_2026_and_2027():
    assert festival_dates(2026) == {
        "spring_festival": date(2026, 2, 17),
        "lantern": date(2026, 3, 3),
        "dragon_boat": date(2026, 6, 19),
        "qixi": date(2026, 8, 19),
        "mid_autumn": date(2026, 9, 25),
        "christmas": date(2026, 12, 25),
        "day_520": date(2026, 5, 20),
        "day_618": date(2026, 6, 18),
        "double_11": date(2026, 11, 11),
    }
    assert festival_dates(2027) == {
        "spring_festival": date(2027, 2, 6),
        "lantern": date(2027, 2, 20),
        "dragon_boat": date(2027, 6, 9),
        "qixi": date(2027, 8, 8),
        "mid_autumn": date(2027, 9, 15),
        "christmas": date(2027, 12, 25),
        "day_520": date(2027, 5, 20),
        "day_618": date(2027, 6, 18),
        "double_11": date(2027, 11, 11),
    }


def test_festival_windows_and_weekday():
    features = calendar_features(date(2027, 1, 10), date(2027, 2, 25))
    by_date = {row["date"]: row for row in features.iter_rows(named=True)}
    # Spring Festival 2027-02-06: 21 days of lead, 14 of lag, crossing the year from 2026
    assert by_date[date(2027, 1, 16)]["days_to_spring_festival"] == -21
    assert by_date[date(2027, 1, 15)]["days_to_spring_festival"] is None
    assert by_date[date(2027, 2, 6)]["days_to_spring_festival"] == 0
    assert by_date[date(2027, 2, 20)]["days_to_spring_festival"] == 14
    assert by_date[date(2027, 2, 21)]["days_to_spring_festival"] is None
    assert by_date[date(2027, 2, 20)]["days_to_lantern"] == 0
    assert by_date[date(2027, 2, 6)]["weekday"] == 5  # a Saturday
    late_december = calendar_features(date(2026, 12, 24), date(2026, 12, 27))
    assert late_december["days_to_christmas"].to_list() == [-1, 0, 1, None]
