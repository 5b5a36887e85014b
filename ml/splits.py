"""Time splits shared by the ML evaluations.

Every evaluation trains on what happened before a cutoff and is scored on what happened
after it, never the other way round: a random split of transactions would leak a
customer's future into training.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class TimeSplit:
    """A calibration window ``[start, cutoff)`` followed by a holdout ``[cutoff, end)``."""

    start: pd.Timestamp
    cutoff: pd.Timestamp
    end: pd.Timestamp

    @property
    def calibration_days(self) -> float:
        return (self.cutoff - self.start) / pd.Timedelta(days=1)

    @property
    def holdout_days(self) -> float:
        return (self.end - self.cutoff) / pd.Timedelta(days=1)

    def calibration(self, frame: pd.DataFrame, ts: str = "ts") -> pd.DataFrame:
        return frame[(frame[ts] >= self.start) & (frame[ts] < self.cutoff)]

    def holdout(self, frame: pd.DataFrame, ts: str = "ts") -> pd.DataFrame:
        return frame[(frame[ts] >= self.cutoff) & (frame[ts] < self.end)]


def file_window(frame: pd.DataFrame, ts: str = "ts") -> tuple[pd.Timestamp, pd.Timestamp]:
    """The observed window of a transaction file: first day 00:00 to the day after the last.

    Whole days keep the models' "days since" features on the same grid as the data.
    """
    start = frame[ts].min().normalize()
    end = frame[ts].max().normalize() + pd.Timedelta(days=1)
    return start, end


def last_days_split(
    frame: pd.DataFrame, holdout_days: int, ts: str = "ts", *, end: pd.Timestamp | None = None
) -> TimeSplit:
    """Hold out the last ``holdout_days`` whole days of the file (or before ``end``).

    Raises:
        ValueError: the calibration window left would be shorter than the holdout.
    """
    start, file_end = file_window(frame, ts)
    end = file_end if end is None else end
    cutoff = end - pd.Timedelta(days=holdout_days)
    if cutoff - start < pd.Timedelta(days=holdout_days):
        raise ValueError(
            f"a {holdout_days}-day holdout needs at least {2 * holdout_days} days of history, "
            f"the data spans {(end - start).days}"
        )
    return TimeSplit(start=start, cutoff=cutoff, end=end)
