"""Server-side SVG charts for the monitoring dashboards: no JavaScript, nothing from a
CDN, a few kilobytes each.

* ``bar_chart`` — horizontal bars (one per commune, agency, procedure …), coloured by
  traffic light, with the target as a dashed vertical line;
* ``line_chart`` — a time series (one point per month …) with the target as a dashed
  step line (a target is per year, so it may step at a new year).

Each returns a :class:`Chart` whose ``svg`` is ready-to-insert markup: coordinates are
written with plain ``f"{x:.1f}"`` (never localised: Django would write ``216,0`` in
Vietnamese and break the drawing), labels are HTML-escaped, and the numbers drawn as
text are localised for the reader. Every chart is paired on the page with a data table
(``Chart.rows``) for screen readers and for copying.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

from django.utils.formats import number_format
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

Measure = Literal["percent", "count", "score"]
Light = Literal["green", "amber", "red", "none"]

# Fill colours meet the 3:1 contrast of graphical objects on white (WCAG 1.4.11).
COLOURS: dict[str, str] = {
    "green": "#00703c",
    "amber": "#b35900",
    "red": "#b10e1e",
    "none": "#0b4f9c",
}
MARKS: dict[str, str] = {"green": "●", "amber": "▲", "red": "■", "none": ""}
GRID = "#d0d4d9"
INK = "#1b1b1b"
MUTED = "#505a5f"
TARGET = "#1b1b1b"

WIDTH = 720
LABEL_WIDTH = 210  # bar chart: the row labels' column
VALUE_WIDTH = 76  # bar chart: room right of the longest bar for its value
ROW_HEIGHT = 24
LINE_HEIGHT = 260
LINE_LEFT = 56
LINE_RIGHT = 16
LINE_TOP = 12
LINE_BOTTOM = 40
MAX_LABEL_CHARS = 30


@dataclass(frozen=True)
class Datum:
    """One bar or one point: its label, its value (None: no data) and traffic light."""

    label: str
    value: Decimal | int | None
    light: str = "none"
    target: Decimal | None = None  # line chart: the target at this point


@dataclass(frozen=True)
class Chart:
    svg: SafeString
    title: str
    rows: list[Datum] = field(default_factory=list)
    measure: Measure = "percent"


def fmt(value: Decimal | int | None, measure: str) -> str:
    """A value as the reader reads it: ``42,5 %`` in Vietnamese, ``1.234`` for counts."""
    if value is None:
        return "—"
    if measure == "count":
        return str(number_format(int(value), 0, force_grouping=True))
    number = Decimal(value)
    places = 0 if number == number.to_integral_value() else (1 if number * 10 % 1 == 0 else 2)
    text = str(number_format(number, places, force_grouping=True))
    return f"{text} %" if measure == "percent" else text


def _n(x: float) -> str:
    """A coordinate: plain, never localised."""
    return f"{x:.1f}"


def _short(label: str, limit: int = MAX_LABEL_CHARS) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def nice_max(top: float, measure: str) -> float:
    """The axis maximum: 100 for a rate (more if a value exceeds it), else a round
    number at or above ``top`` (1, 2, 2.5 or 5 × 10^n)."""
    if measure == "percent" and top <= 100:
        return 100.0
    if top <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(top))
    for step in (1, 2, 2.5, 5, 10):
        if step * magnitude >= top:
            return float(step * magnitude)
    return float(10 * magnitude)  # pragma: no cover -- the loop ends at 10 × magnitude


def _open(chart_id: str, width: int, height: float, title: str, desc: str) -> list[str]:
    return [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
            f'viewBox="0 0 {width} {_n(height)}" width="100%" '
            f'preserveAspectRatio="xMinYMin meet" '
            f'aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d">'
        ),
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>',
        f'<desc id="{escape(chart_id)}-d">{escape(desc)}</desc>',
    ]


def bar_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    measure: Measure = "percent",
    target: Decimal | None = None,
) -> Chart:
    """Horizontal bars in the order given (rank them first), the target as a line."""
    values = [float(d.value) for d in data if d.value is not None]
    top = max([*values, float(target) if target is not None else 0.0, 0.0])
    scale = nice_max(top, measure)
    plot_left = LABEL_WIDTH
    plot_width = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    axis_top = 18.0
    height = axis_top + ROW_HEIGHT * max(len(data), 1) + 8
    desc = _("Biểu đồ cột ngang; số liệu đầy đủ ở bảng ngay sau biểu đồ.")
    out = _open(chart_id, WIDTH, height, title, desc)
    # Grid at 0, 25, 50, 75, 100 % of the scale, labelled on top.
    for step in range(5):
        x = plot_left + plot_width * step / 4
        tick = Decimal(str(scale * step / 4))
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(axis_top)}" y2="{_n(height - 8)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{_n(x)}" y="12" font-size="11" text-anchor="middle" '
            f'fill="{MUTED}">{escape(fmt(tick, measure))}</text>'
        )
    for index, datum in enumerate(data):
        y = axis_top + ROW_HEIGHT * index
        label = escape(_short(datum.label))
        out.append(
            f'<text x="{_n(plot_left - 6)}" y="{_n(y + ROW_HEIGHT / 2)}" font-size="12" '
            f'text-anchor="end" dominant-baseline="middle" fill="{INK}">{label}</text>'
        )
        shown = fmt(datum.value, measure)
        mark = MARKS.get(datum.light, "")
        if datum.value is None:
            out.append(
                f'<text x="{_n(plot_left + 4)}" y="{_n(y + ROW_HEIGHT / 2)}" font-size="11" '
                f'dominant-baseline="middle" fill="{MUTED}">{escape(_("không có số liệu"))}'
                "</text>"
            )
            continue
        length = max(plot_width * float(datum.value) / scale, 0.0)
        length = min(length, plot_width)
        colour = COLOURS.get(datum.light, COLOURS["none"])
        out.append(
            f'<rect x="{_n(plot_left)}" y="{_n(y + 4)}" width="{_n(length)}" '
            f'height="{_n(ROW_HEIGHT - 8)}" fill="{colour}">'
            f"<title>{escape(datum.label)}: {escape(shown)}</title></rect>"
            f'<text x="{_n(plot_left + length + 4)}" y="{_n(y + ROW_HEIGHT / 2)}" '
            f'font-size="11" dominant-baseline="middle" fill="{INK}">'
            f"{escape(shown)}{(' ' + mark) if mark else ''}</text>"
        )
    if target is not None:
        x = plot_left + plot_width * min(float(target), scale) / scale
        target_label = _("Mục tiêu %(v)s") % {"v": fmt(target, measure)}
        out.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{_n(axis_top - 2)}" y2="{_n(height - 4)}" '
            f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 3">'
            f"<title>{escape(target_label)}</title></line>"
        )
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 -- every label above is escaped
        title=title,
        rows=list(data),
        measure=measure,
    )


def line_chart(
    data: Sequence[Datum],
    *,
    chart_id: str,
    title: str,
    measure: Measure = "percent",
) -> Chart:
    """A time series left to right; gaps where a point has no value; each point's
    ``target`` drawn as a dashed step line."""
    values = [float(d.value) for d in data if d.value is not None]
    targets = [float(d.target) for d in data if d.target is not None]
    scale = nice_max(max([*values, *targets, 0.0]), measure)
    plot_w = WIDTH - LINE_LEFT - LINE_RIGHT
    plot_h = LINE_HEIGHT - LINE_TOP - LINE_BOTTOM
    count = max(len(data), 1)
    slot = plot_w / count

    def x_of(index: int) -> float:
        return LINE_LEFT + slot * index + slot / 2

    def y_of(value: float) -> float:
        return LINE_TOP + plot_h - plot_h * min(value, scale) / scale

    desc = _("Biểu đồ đường theo thời gian; đường nét đứt là mục tiêu; số liệu ở bảng sau.")
    out = _open(chart_id, WIDTH, LINE_HEIGHT, title, desc)
    for step in range(5):
        y = LINE_TOP + plot_h - plot_h * step / 4
        tick = Decimal(str(scale * step / 4))
        out.append(
            f'<line x1="{LINE_LEFT}" x2="{WIDTH - LINE_RIGHT}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{GRID}" stroke-width="1"/>'
            f'<text x="{LINE_LEFT - 6}" y="{_n(y)}" font-size="11" text-anchor="end" '
            f'dominant-baseline="middle" fill="{MUTED}">{escape(fmt(tick, measure))}</text>'
        )
    every = max(1, math.ceil(len(data) / 12))
    for index, datum in enumerate(data):
        if index % every == 0 or index == len(data) - 1:
            out.append(
                f'<text x="{_n(x_of(index))}" y="{LINE_HEIGHT - LINE_BOTTOM + 18}" '
                f'font-size="11" text-anchor="middle" fill="{MUTED}">'
                f"{escape(_short(datum.label, 12))}</text>"
            )
    # The target: a horizontal segment across each point's slot.
    for index, datum in enumerate(data):
        if datum.target is None:
            continue
        y = y_of(float(datum.target))
        left = LINE_LEFT + slot * index
        out.append(
            f'<line x1="{_n(left)}" x2="{_n(left + slot)}" y1="{_n(y)}" y2="{_n(y)}" '
            f'stroke="{TARGET}" stroke-width="2" stroke-dasharray="6 3"/>'
        )
    # The values: one polyline per run of consecutive points with data.
    runs: list[list[tuple[float, float]]] = [[]]
    for index, datum in enumerate(data):
        if datum.value is None:
            runs.append([])
            continue
        runs[-1].append((x_of(index), y_of(float(datum.value))))
    for run in runs:
        if len(run) > 1:
            points = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{COLOURS["none"]}" '
                'stroke-width="2.5"/>'
            )
    for index, datum in enumerate(data):
        if datum.value is None:
            continue
        colour = COLOURS.get(datum.light, COLOURS["none"])
        shown = fmt(datum.value, measure)
        out.append(
            f'<circle cx="{_n(x_of(index))}" cy="{_n(y_of(float(datum.value)))}" r="4" '
            f'fill="{colour}"><title>{escape(datum.label)}: {escape(shown)}</title></circle>'
        )
    out.append("</svg>")
    return Chart(
        svg=mark_safe("".join(out)),  # noqa: S308 -- every label above is escaped
        title=title,
        rows=list(data),
        measure=measure,
    )
