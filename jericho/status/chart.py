"""The dashboard's activity chart: requests per bar, as stacked segments in SVG user units, and
each bar's words (worked out here once, not by the template for each bar).

Pure functions over plain values (no Flask, no queries).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, time, timedelta, timezone, tzinfo
from typing import Iterable

from markupsafe import Markup, escape

from ..text import clock, counted
from .cycles import Counted, Tally


@dataclass(frozen=True)
class Segment:
    kind: str  # changes, lookups, errors
    y: float
    height: float
    count: int


@dataclass(frozen=True)
class Bar:
    start: datetime
    end: datetime
    x: float
    width: float
    tally: Tally
    segments: tuple[Segment, ...]
    title: str  # what a bar with segments shows on hover, in words


# The chart's drawing area, in SVG user units: y labels left of LEFT, x labels below BOTTOM.
WIDTH, HEIGHT, LEFT, TOP, BOTTOM = 720, 200, 44, 8, 176
# An x label starts at its time and needs this much room before the chart's right edge.
LABEL_ROOM = 40


@dataclass(frozen=True)
class Chart:
    start: datetime
    end: datetime
    bars: tuple[Bar, ...]
    y_max: int
    y_ticks: tuple[tuple[float, int], ...]
    x_labels: tuple[tuple[float, str], ...]
    total: Tally
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    bottom: int = BOTTOM

    @property
    def empty(self) -> bool:
        return self.total.requests == 0

    def bars_svg(self) -> Markup:
        """The bars as SVG elements, each with its words on hover. Joined here: a template
        spends ten times as long on a chart's few hundred elements."""
        return Markup("".join(
            f'<g class="sync-chart__bar"><title>{escape(bar.title)}</title>'
            + "".join(f'<rect class="sync-chart__{segment.kind}" x="{bar.x}" y="{segment.y}" width="{bar.width}"'
                      f' height="{segment.height}"></rect>' for segment in bar.segments)
            + "</g>"
            for bar in self.bars if bar.segments
        ))


@dataclass(frozen=True)
class ChartRange:
    key: str
    label: str
    span: timedelta
    bucket: timedelta
    bar: str  # what one bar covers, in words
    label_every: timedelta  # between x labels, from midnight in the admin's time zone
    label_format: str


CHART_RANGES = {
    "24h": ChartRange("24h", "Last 24 hours", timedelta(hours=24), timedelta(minutes=30), "30 minutes",
                      timedelta(hours=3), "%H:%M"),
    "7d": ChartRange("7d", "Last 7 days", timedelta(days=7), timedelta(hours=4), "4 hours",
                     timedelta(days=1), "%a %d"),
}
SEGMENT_KINDS = ("changes", "lookups", "errors")


def chart_window(chart_range: ChartRange, now: datetime) -> tuple[datetime, datetime]:
    """Whole buckets ending with the one that holds `now`."""
    bucket = chart_range.bucket.total_seconds()
    epoch = datetime(1970, 1, 1, tzinfo=timezone.utc)
    end = epoch + timedelta(seconds=(math.floor((now - epoch).total_seconds() / bucket) + 1) * bucket)
    return end - chart_range.span, end


def chart_of(
    activity: Iterable[Counted], chart_range: ChartRange, *, now: datetime, zone: tzinfo = timezone.utc
) -> Chart:
    start, end = chart_window(chart_range, now)
    count = int(chart_range.span / chart_range.bucket)
    tallies = [Tally() for _ in range(count)]
    total = Tally()
    for item in activity:
        if start <= item.bucket < end:
            tallies[int((item.bucket - start) / chart_range.bucket)].add(item.tally)
            total.add(item.tally)
    y_max = _nice_ceiling(max((t.requests for t in tallies), default=0))
    plot_height = BOTTOM - TOP
    slot = (WIDTH - LEFT) / count
    bars = []
    for index, tally in enumerate(tallies):
        bar_start = start + index * chart_range.bucket
        bottom, segments = float(BOTTOM), []
        for kind, value in zip(SEGMENT_KINDS, (tally.changes, tally.lookups, tally.errors)):
            if not value:
                continue
            # At least 2 units high, so a quiet cycle beside the first sync's peak stays visible.
            height = max(plot_height * value / y_max, 2.0)
            bottom -= height
            segments.append(Segment(kind, round(bottom, 2), round(height, 2), value))
        title = (f"{clock(bar_start, now, zone)}, {chart_range.bar}: {counted(tally.changes, 'change')}, "
                 f"{counted(tally.lookups, 'lookup')}, {counted(tally.errors, 'error')}") if segments else ""
        bars.append(Bar(bar_start, bar_start + chart_range.bucket, round(LEFT + index * slot + 1, 2),
                        round(max(slot - 2, 1), 2), tally, tuple(segments), title))
    ticks = tuple((round(BOTTOM - plot_height * value / y_max, 2), value) for value in (0, y_max // 2, y_max))
    labels = []
    for moment in _label_times(start, end, chart_range.label_every, zone):
        x = LEFT + (WIDTH - LEFT) * ((moment - start) / (end - start))
        if x <= WIDTH - LABEL_ROOM:
            labels.append((round(x, 2), moment.strftime(chart_range.label_format)))
    return Chart(start, end, tuple(bars), y_max, ticks, tuple(labels), total)


def _label_times(start: datetime, end: datetime, every: timedelta, zone: tzinfo) -> Iterable[datetime]:
    """The times from `start` to `end` that the clocks in `zone` show as midnight or a whole
    `every` after it (the bars start at whole buckets in UTC, which may fall anywhere there)."""
    moment = datetime.combine(start.astimezone(zone).date(), time(), tzinfo=zone)
    while moment < end:
        if moment >= start:
            yield moment
        moment += every  # by the clock on the wall: midnight stays midnight across a change of offset


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten that is at least `value` (and at least 2)."""
    if value <= 2:
        return 2
    power = 10 ** math.floor(math.log10(value))
    return next(step * power for step in (1, 2, 5, 10) if step * power >= value)

