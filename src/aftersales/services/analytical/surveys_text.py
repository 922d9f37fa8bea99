"""What comments talk about: themes (``core/surveys/themes.py``) and sentiment per comment (VADER).

The engine selects the comments (the ``overall`` rows of ``survey_responses`` that carry one, of one
survey or kind, in a window); themes are found in Python on that text. Per theme: its top terms, how
many comments and what share, the average score of their responses (one kind only: scales differ),
the average sentiment, representative comments, and its count per calendar period (the trend).

**Sentiment** is VADER's compound score (Hutto & Gilbert 2014), from −1 (most negative) to +1, a
lexicon and rules tuned for short social-media English that ships inside the ``vaderSentiment``
package (nothing is downloaded). Other languages score near 0: read it for English comments only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
import pandas as pd

from aftersales.core.errors import ValidationError
from aftersales.core.metrics.periods import custom_period, period_floor, period_index
from aftersales.core.surveys.model import OVERALL
from aftersales.core.surveys.themes import DEFAULT_THEMES, find_themes
from aftersales.services.ports import AnalyticalSource

__all__ = ["ThemeSummary", "ThemesReport", "comment_themes", "sentiment_scores"]


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # type: ignore[import-untyped]

    return SentimentIntensityAnalyzer()


def sentiment_scores(texts: Sequence[str]) -> npt.NDArray[np.float64]:
    """VADER's compound score of each text (−1 to +1).

    >>> [round(float(x), 2) for x in sentiment_scores(["Great machine, love it!", "Arrived broken."])]
    [0.86, -0.48]
    """
    analyzer = _analyzer()
    return np.array([analyzer.polarity_scores(t)["compound"] for t in texts], dtype=np.float64)


@dataclass(frozen=True)
class ThemeSummary:
    """One theme of the comments."""

    index: int
    label: str
    terms: tuple[str, ...]
    comments: int
    share: float
    average_score: float | None
    sentiment: float | None
    representatives: tuple[str, ...]
    trend: tuple[tuple[date, int], ...]


@dataclass(frozen=True)
class ThemesReport:
    """The themes (largest first), and each comment's theme, strength and sentiment (``assignments``:
    response_id, survey_id, kind, score, responded_at, theme, strength, sentiment; theme -1: none)."""

    comments: int
    unthemed: int
    themes: tuple[ThemeSummary, ...]
    assignments: pd.DataFrame


def _comments(
    source: AnalyticalSource, survey: str | None, kind: str | None, start: date | None, end: date | None, tz: str
) -> pd.DataFrame:
    t = source.table("survey_responses")
    t = t.filter((t.dimension == OVERALL) & t.comment.notnull())
    if survey is not None:
        t = t.filter(t.survey_id == survey)
    if kind is not None:
        t = t.filter(t.kind == kind)
    if start is not None and end is not None:
        t = t.filter(period_index(t.responded_at, custom_period(start, end, tz)).notnull())
    t = t.select("response_id", "survey_id", "kind", "score", "comment", "responded_at").order_by("response_id")
    frame: pd.DataFrame = source.to_arrow(t).to_pandas()
    return frame


def _trend(
    stamps: pd.Series, labels: npt.NDArray[np.int64], k: int, period: str, tz: str
) -> list[list[tuple[date, int]]]:
    local = pd.to_datetime(stamps, utc=True).dt.tz_convert(ZoneInfo(tz)).dt.date
    floors = {d: period_floor(d, period) for d in set(local)}
    bucket = local.map(floors)
    every = sorted(set(floors.values()))
    counts = pd.crosstab(bucket, labels).reindex(index=every, columns=range(k), fill_value=0)
    table = counts.to_numpy(dtype=np.int64)
    return [[(d, int(table[i, t])) for i, d in enumerate(every)] for t in range(k)]


def comment_themes(
    source: AnalyticalSource,
    *,
    survey: str | None = None,
    kind: str | None = None,
    start: date | None = None,
    end: date | None = None,
    tz: str = "UTC",
    n_themes: int = DEFAULT_THEMES,
    seed: int = 0,
    period: str = "month",
    sentiment: bool = True,
) -> ThemesReport:
    """The themes of the comments of ``survey`` (or ``kind``, or all) in ``[start, end)`` (see the module)."""
    frame = _comments(source, survey, kind, start, end, tz)
    if frame.empty:
        raise ValidationError("no comments to find themes in (check --survey, --kind and the dates)")
    fit = find_themes(frame["comment"].tolist(), n_themes, seed=seed)
    frame["theme"] = fit.labels
    frame["strength"] = fit.strength
    frame["sentiment"] = sentiment_scores(frame["comment"].tolist()) if sentiment else np.nan
    one_kind = frame["kind"].nunique() == 1
    trends = _trend(frame["responded_at"], fit.labels, len(fit.themes), period, tz)
    themes = []
    for theme in fit.themes:
        members = frame[frame["theme"] == theme.index]
        themes.append(
            ThemeSummary(
                theme.index,
                theme.label,
                theme.terms,
                len(members),
                len(members) / len(frame),
                float(members["score"].mean()) if one_kind and len(members) else None,
                float(members["sentiment"].mean()) if sentiment and len(members) else None,
                tuple(str(frame["comment"].iat[i]) for i in theme.representatives),
                tuple(trends[theme.index]),
            )
        )
    themes.sort(key=lambda s: (-s.comments, s.index))
    return ThemesReport(len(frame), int((fit.labels < 0).sum()), tuple(themes), frame.drop(columns=["comment"]))
