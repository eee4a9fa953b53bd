"""Price history charts as server-rendered SVG (pygal), readable without JavaScript and with no
external script: pygal links its tooltip script from a CDN unless told not to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

import pygal
from pygal.style import Style

CHART_COMPONENTS = ("input", "cached_input", "output")
STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#1f2937",
    foreground_strong="#111827",
    foreground_subtle="#6b7280",
    colors=("#1d4ed8", "#15803d", "#b91c1c"),
    font_family="system-ui, sans-serif",
    label_font_size=12,
    major_label_font_size=12,
    legend_font_size=13,
    title_font_size=14,
)


def history_steps(prices: Sequence[object], *, now: dt.datetime) -> dict[str, list[tuple[dt.datetime, float]]]:
    """Step-line points per component (standard mode, base tier, one currency): a price holds its value
    from ``valid_from`` until ``valid_to``. Floats only here, for drawing; labels print the Decimals."""
    series: dict[str, list[tuple[dt.datetime, float]]] = {}
    for component in CHART_COMPONENTS:
        lines = [
            p
            for p in prices
            if p.component == component and p.mode == "standard" and not p.tier_min_tokens  # type: ignore[attr-defined]
        ]
        if not lines:
            continue
        currency = lines[0].currency  # type: ignore[attr-defined]
        points: list[tuple[dt.datetime, float]] = []
        for price in sorted((p for p in lines if p.currency == currency), key=lambda p: p.valid_from):  # type: ignore[attr-defined]
            amount = float(Decimal(price.amount_per_mtok))  # type: ignore[attr-defined]
            points.append((price.valid_from, amount))  # type: ignore[attr-defined]
            points.append((price.valid_to or now, amount))  # type: ignore[attr-defined]
        series[component] = points
    return series


def price_history_svg(*, title: str, prices: Sequence[object], currency: str = "USD", now: dt.datetime) -> str:
    """An SVG document of an offering's input/cached/output price per 1M tokens over time."""
    chart = pygal.DateTimeLine(
        style=STYLE,
        js=[],  # no CDN script; the SVG is complete without it
        disable_xml_declaration=True,
        width=720,
        height=300,
        explicit_size=False,
        title=title,
        y_title=f"{currency} per 1M tokens",
        x_label_rotation=0,
        show_dots=False,
        fill=False,
        legend_at_bottom=True,
        truncate_legend=-1,
        x_value_formatter=lambda moment: moment.strftime("%Y-%m-%d"),
        value_formatter=lambda amount: f"{amount:g}",
        include_x_axis=True,
        show_minor_x_labels=False,
        x_labels_major_count=4,
    )
    for component, points in history_steps(prices, now=now).items():
        chart.add(component.replace("_", " "), points)
    return chart.render(is_unicode=True)
