"""Price history charts as server-rendered SVG: readable without JavaScript, no external script and no
inline style (colours come from presentation attributes the site's stylesheet may override, so a
Content-Security-Policy without 'unsafe-inline' holds). Each step of a line carries an SVG ``<title>``
with its value, dates and unit, which browsers show on hover and screen readers read.

The chart follows the reader: amounts in their currency (converted at the page's exchange rates) and
per 1M tokens or per 1M words at the offering's words-per-token ratio in their language. Margins are
measured from the longest label, so no label is cut off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from html import escape
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from pricing import selectors, units
from pricing.templatetags.pricing_format import money

CHART_COMPONENTS = ("input", "cached_input", "output")
COLORS = ("#1d4ed8", "#15803d", "#b91c1c")
# A narrow drawing with large type: a phone shows it at about 390 / 600 of its size, still legible.
WIDTH, HEIGHT = 600, 290
FONT_PX = 13
# Average advance of a character of the system font, generous so a label never overflows its room.
CHAR_PX = FONT_PX * 0.6
TITLE_PX = 15
NICE_STEPS = (Decimal(1), Decimal(2), Decimal("2.5"), Decimal(5), Decimal(10))
# What the charts' classes look like, served as a stylesheet (never inline, for the CSP): lighter lines
# on a dark page, and a visible dot for the step under the pointer.
STYLESHEET = """
.history-chart { color: inherit; }
.history-chart .grid { stroke-opacity: 0.35; }
.history-chart .point:hover circle { r: 6; }
@media (prefers-color-scheme: dark) {
  .history-chart .series-0, .history-chart .legend-0 line { stroke: #93c5fd; fill: #93c5fd; }
  .history-chart .series-1, .history-chart .legend-1 line { stroke: #86efac; fill: #86efac; }
  .history-chart .series-2, .history-chart .legend-2 line { stroke: #fca5a5; fill: #fca5a5; }
}
"""


@require_safe
def chart_stylesheet(request: HttpRequest) -> HttpResponse:
    """The charts' stylesheet (a page links it once, above its charts)."""
    return HttpResponse(
        STYLESHEET, content_type="text/css; charset=utf-8", headers={"Cache-Control": "public, max-age=86400"}
    )


@dataclass(frozen=True)
class Step:
    """One price holding from ``start`` to ``end`` (``open`` when it still applies)."""

    start: dt.datetime
    end: dt.datetime
    amount: Decimal
    open: bool


@dataclass(frozen=True)
class Series:
    component: str
    steps: list[Step]


def _text_px(text: str, size: float = FONT_PX) -> float:
    return len(text) * CHAR_PX * size / FONT_PX


def chart_currency(prices: Sequence[Any], *, wanted: str, rates: selectors.Rates | None) -> str:
    """The currency the chart speaks: the reader's when every line converts to it, else the lines' own."""
    currencies = {p.currency for p in prices}
    if rates is None:
        return wanted if wanted in currencies or not currencies else sorted(currencies)[0]
    if all(rates.convert(Decimal(1), from_currency=c, to_currency=wanted) is not None for c in currencies):
        return wanted
    return wanted if wanted in currencies else sorted(currencies)[0]


def history_steps(
    prices: Sequence[Any],
    *,
    now: dt.datetime,
    currency: str,
    mode: str = "standard",
    rates: selectors.Rates | None = None,
    words_per_token: Decimal | None = None,
) -> list[Series]:
    """Step series per component: the plain, shortest-prompt price in ``mode``, in ``currency`` (lines
    in another currency converted at ``rates``, or left out without rates) and per 1M words when
    ``words_per_token`` is given. Where two lines overlap in time the later one wins, so a component
    is one step line however many sources told us its price."""
    series = []
    for component in CHART_COMPONENTS:
        lines = [
            p
            for p in prices
            if p.component == component
            and p.mode == mode
            and not p.tier_min_tokens
            and not getattr(p, "conditions", "")
        ]
        # Lines stated in the chart's currency speak for themselves; others only when nothing does.
        native = [p for p in lines if p.currency == currency]
        chosen = native or lines
        converted: list[tuple[Any, Decimal]] = []
        for price in sorted(chosen, key=lambda p: (p.valid_from, p.recorded_at)):
            stated = Decimal(price.amount_per_mtok)
            amount = stated if price.currency == currency else None
            if amount is None and rates is not None:
                amount = rates.convert(stated, from_currency=price.currency, to_currency=currency)
            if amount is None:
                continue
            if words_per_token:
                amount = units.per_mwords(amount, words_per_token=words_per_token)
            converted.append((price, amount))
        steps: list[Step] = []
        for index, (price, amount) in enumerate(converted):
            following = converted[index + 1][0].valid_from if index + 1 < len(converted) else None
            end = price.valid_to or now
            if following is not None and following < end:
                end = following
            if end <= price.valid_from:
                continue
            steps.append(Step(price.valid_from, end, amount, price.valid_to is None and following is None))
        if steps:
            series.append(Series(component, steps))
    return series


def nice_ticks(top: Decimal) -> list[Decimal]:
    """0 and round steps (1, 2, 2.5 or 5 × a power of ten) up to at least ``top``, four or five of them."""
    if top <= 0:
        return [Decimal(0), Decimal(1)]
    raw = top / 4
    magnitude = Decimal(1).scaleb(raw.adjusted())
    step = next(n * magnitude for n in NICE_STEPS if n * magnitude >= raw)
    count = int((top / step).to_integral_value(rounding=ROUND_CEILING))
    return [step * i for i in range(max(count, 1) + 1)]


def _months_after(moment: dt.datetime, months: int) -> dt.datetime:
    month = moment.month - 1 + months
    return moment.replace(year=moment.year + month // 12, month=month % 12 + 1, day=1)


def date_ticks(start: dt.datetime, end: dt.datetime, *, most: int = 6) -> list[tuple[dt.datetime, str]]:
    """Calendar ticks between two moments: days, weeks, months or years, at most ``most`` of them."""
    span_days = (end - start).total_seconds() / 86400
    for days in (1, 2, 7, 14):
        if span_days / days <= most:
            first = dt.datetime.combine(start.date() + dt.timedelta(days=1), dt.time(), tzinfo=start.tzinfo)
            ticks = []
            moment = first
            while moment <= end:
                ticks.append((moment, moment.strftime("%Y-%m-%d")))
                moment += dt.timedelta(days=days)
            return ticks
    for months in (1, 2, 3, 6, 12, 24, 60):
        if span_days / (months * 30.4) <= most:
            moment = _months_after(start, 1)
            while (moment.month - 1) % months:
                moment = _months_after(moment, 1)
            label = "%Y" if months >= 12 else "%Y-%m"
            ticks = []
            while moment <= end:
                ticks.append((moment, moment.strftime(label)))
                moment = _months_after(moment, months)
            return ticks
    return [(start, start.strftime("%Y")), (end, end.strftime("%Y"))]


def price_history_svg(
    *,
    title: str,
    prices: Sequence[object],
    now: dt.datetime,
    display: selectors.Display | None = None,
    rates: selectors.Rates | None = None,
    ratio: units.WordsRatio | None = None,
    currency: str | None = None,
) -> str:
    """An SVG of an offering's input, cached input and output price over time in the reader's
    ``display`` (currency, per 1M tokens or words at ``ratio``, mode). Without ``rates`` the chart
    keeps the lines' own currency (``currency`` if given)."""
    display = display or selectors.Display(currency=currency or selectors.BASE_CURRENCY)
    shown_currency = chart_currency(prices, wanted=currency or display.currency, rates=rates)
    per_words = display.unit == "mwords"
    words_per_token = (ratio or units.ASSUMED_RATIO).words_per_token if per_words else None
    series = history_steps(
        prices, now=now, currency=shown_currency, mode=display.mode, rates=rates, words_per_token=words_per_token
    )
    unit = "per 1M words" if per_words else "per 1M tokens"
    if per_words and display.language != "en":
        unit += f" ({selectors.LANGUAGES.get(display.language, display.language)})"
    axis_title = f"{shown_currency} {unit}"
    return _render(title=title, series=series, currency=shown_currency, unit=unit, axis_title=axis_title)


def _render(*, title: str, series: list[Series], currency: str, unit: str, axis_title: str) -> str:
    shown_title = title if _text_px(title, TITLE_PX) <= WIDTH - 20 else title[: int((WIDTH - 40) / CHAR_PX)] + "…"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" class="history-chart" '
        f'role="img" aria-label="{escape(title)}: price history, {escape(axis_title)}">'
        f"<title>{escape(title)}: price history, {escape(axis_title)}</title>"
        f'<text x="{WIDTH / 2:.0f}" y="18" text-anchor="middle" font-size="{TITLE_PX}" font-weight="600" '
        f'fill="currentColor" class="chart-title">{escape(shown_title)}</text>'
    )
    if not series:
        return (
            head + f'<text x="{WIDTH / 2:.0f}" y="{HEIGHT / 2:.0f}" text-anchor="middle" font-size="{FONT_PX}" '
            f'fill="currentColor">No standard-mode price history in {escape(currency)}.</text></svg>'
        )
    top = max(step.amount for s in series for step in s.steps)
    ticks = nice_ticks(top)
    tick_labels = [money(t, currency) for t in ticks]
    start = min(step.start for s in series for step in s.steps)
    end = max(step.end for s in series for step in s.steps)
    if end - start < dt.timedelta(days=1):
        start -= dt.timedelta(hours=12)
        end += dt.timedelta(hours=12)
    x_ticks = date_ticks(start, end)

    # Legend rows first: their number sets the bottom margin.
    legend_items = [(i, s.component.replace("_", " ")) for i, s in enumerate(series)]
    rows: list[list[tuple[int, str, float]]] = [[]]
    row_width = 0.0
    for index, name in legend_items:
        item_width = 28 + _text_px(name) + 18
        if rows[-1] and row_width + item_width > WIDTH - 20:
            rows.append([])
            row_width = 0
        rows[-1].append((index, name, item_width))
        row_width += item_width

    left = 10 + FONT_PX + 8 + max(_text_px(label) for label in tick_labels) + 8
    longest_x = max((_text_px(label) for _, label in x_ticks), default=0)
    right = max(16.0, longest_x / 2 + 6)
    top_margin = 34
    bottom = 8 + FONT_PX + 10 + len(rows) * 20 + 6
    plot_w = WIDTH - left - right
    plot_h = HEIGHT - top_margin - bottom
    span = (end - start).total_seconds()
    y_top = ticks[-1]

    def x_of(moment: dt.datetime) -> float:
        return left + plot_w * (moment - start).total_seconds() / span

    def y_of(amount: Decimal) -> float:
        return top_margin + plot_h * (1 - float(amount / y_top))

    parts = [head]
    axis_x, axis_y = 10 + FONT_PX / 2, top_margin + plot_h / 2
    parts.append(
        f'<text x="{axis_x:.1f}" y="{axis_y:.1f}" transform="rotate(-90 {axis_x:.1f} {axis_y:.1f})" '
        f'text-anchor="middle" font-size="{FONT_PX}" fill="currentColor" class="axis-title">{escape(axis_title)}</text>'
    )
    parts.append(f'<g class="axis y-axis" font-size="{FONT_PX}" fill="currentColor">')
    for tick, label in zip(ticks, tick_labels, strict=True):
        y = y_of(tick)
        parts.append(
            f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke="#9ca3af" '
            f'stroke-opacity="0.4" class="grid"/>'
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    parts.append("</g>")
    parts.append(f'<g class="axis x-axis" font-size="{FONT_PX}" fill="currentColor">')
    baseline = top_margin + plot_h
    parts.append(
        f'<line x1="{left:.1f}" x2="{left + plot_w:.1f}" y1="{baseline:.1f}" y2="{baseline:.1f}" stroke="#6b7280"/>'
    )
    for moment, label in x_ticks:
        x = x_of(moment)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{baseline:.1f}" y2="{baseline + 4:.1f}" stroke="#6b7280"/>'
            f'<text x="{x:.1f}" y="{baseline + 8 + FONT_PX:.1f}" text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</g>")

    for index, line in enumerate(series):
        color = COLORS[index % len(COLORS)]
        name = line.component.replace("_", " ")
        path = []
        for number, step in enumerate(line.steps):
            command = "M" if number == 0 or line.steps[number - 1].end != step.start else "V"
            y = y_of(step.amount)
            path.append(f"{command}{x_of(step.start):.1f} {y:.1f}" if command == "M" else f"V{y:.1f}")
            path.append(f"H{x_of(step.end):.1f}")
        parts.append(
            f'<g class="series series-{index} series-{escape(line.component)}" stroke="{color}" fill="{color}">'
            f'<path d="{" ".join(path)}" fill="none" stroke-width="2"/>'
        )
        for step in line.steps:
            until = "now" if step.open else step.end.strftime("%Y-%m-%d")
            value = f"{name}: {money(step.amount, currency)} {unit}, {step.start:%Y-%m-%d} to {until}"
            x1, x2, y = x_of(step.start), x_of(step.end), y_of(step.amount)
            # A wide transparent band over each step makes the whole step hoverable, not only its dot.
            parts.append(
                f'<g class="point"><title>{escape(value)}</title>'
                f'<line x1="{x1:.1f}" x2="{max(x2, x1 + 1):.1f}" y1="{y:.1f}" y2="{y:.1f}" stroke-width="12" '
                f'stroke-opacity="0" class="hit"/>'
                f'<circle cx="{x1:.1f}" cy="{y:.1f}" r="3.5"/></g>'
            )
        parts.append("</g>")

    legend_top = baseline + 8 + FONT_PX + 14
    for row_number, row in enumerate(rows):
        row_width = sum(width for _, _, width in row)
        x = max(10.0, (WIDTH - row_width) / 2)
        y = legend_top + row_number * 20
        for index, name, width in row:
            color = COLORS[index % len(COLORS)]
            parts.append(
                f'<g class="legend legend-{index}"><line x1="{x:.1f}" x2="{x + 22:.1f}" y1="{y:.1f}" y2="{y:.1f}" '
                f'stroke="{color}" stroke-width="3"/><text x="{x + 28:.1f}" y="{y + 4:.1f}" font-size="{FONT_PX}" '
                f'fill="currentColor">{escape(name)}</text></g>'
            )
            x += width
    parts.append("</svg>")
    return "".join(parts)
