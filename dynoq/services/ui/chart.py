"""Small line charts as inline SVG drawing data (pure): the last hour of a queue, a point per
minute. What is drawn is a polyline per series with a labelled y axis; the template writes it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

WIDTH = 600
HEIGHT = 150
LEFT = 44  # room for the y labels
BOTTOM = 18  # room for the x labels
TOP = 8


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    colour: str
    points: str  # "x,y x,y ..." for <polyline points>
    last: int | None
    end: tuple[float, float] | None  # the latest point, drawn as a dot


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    series: list[Series]
    y_ticks: list[tuple[float, str]]  # (y, label)
    x_ticks: list[tuple[float, str]]
    plot: tuple[int, int, int, int]  # left, top, right, bottom


def nice_ceiling(value: float) -> int:
    """The smallest of 4, 8, 20, 40, 80, 200, ... (4 times 1, 2 or 5 times a power of ten) at
    least ``value``: a top whose quarters are whole, round numbers."""
    scale = 1
    while True:
        for top in (4 * scale, 8 * scale, 20 * scale):
            if top >= value:
                return top
        scale *= 10


def line_chart(
    minutes: Sequence[int],
    values: Mapping[str, Sequence[int | None]],
    colours: Mapping[str, str],
    now_minute: int,
) -> Chart:
    """``minutes`` are minute numbers (Unix seconds // 60), oldest first, the last being
    ``now_minute``; ``values[name][i]`` is that series at ``minutes[i]`` (None: no sample)."""
    span = max(1, len(minutes) - 1)
    right, bottom = WIDTH - 6, HEIGHT - BOTTOM
    peak = max((v for vs in values.values() for v in vs if v is not None), default=0)
    top_value = nice_ceiling(peak)

    def x(i: int) -> float:
        return round(LEFT + (right - LEFT) * i / span, 1)

    def y(v: int) -> float:
        return round(bottom - (bottom - TOP) * v / top_value, 1)

    series = []
    for name, vs in values.items():
        drawn = [(x(i), y(v)) for i, v in enumerate(vs) if v is not None]
        points = " ".join(f"{px},{py}" for px, py in drawn)
        last = next((v for v in reversed(vs) if v is not None), None)
        end = drawn[-1] if drawn else None
        series.append(Series(name, colours.get(name, "#333"), points, last, end))
    y_ticks = [(y(top_value * k // 4), f"{top_value * k // 4:,}") for k in range(5)]
    x_ticks = []
    for i, minute in enumerate(minutes):
        ago = now_minute - minute
        if ago % 15 == 0:
            x_ticks.append((x(i), "now" if ago == 0 else f"-{ago} min"))
    return Chart(WIDTH, HEIGHT, series, y_ticks, x_ticks, (LEFT, TOP, right, bottom))
