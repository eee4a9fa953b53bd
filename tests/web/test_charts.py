"""History charts follow the reader's currency and unit, say each step's value on hover and keep
every label inside the drawing."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from decimal import Decimal
from types import SimpleNamespace

from pricing import selectors, units
from pricing.web import charts

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
SVG = "{http://www.w3.org/2000/svg}"


def price(component, amount, start, end=None, *, currency="USD", tier_min=None, mode="standard", conditions=""):
    return SimpleNamespace(
        component=component,
        amount_per_mtok=Decimal(amount),
        currency=currency,
        mode=mode,
        tier_min_tokens=tier_min,
        conditions=conditions,
        valid_from=start,
        valid_to=end,
        recorded_at=start,
    )


def day(month, date=1, year=2025):
    return dt.datetime(year, month, date, tzinfo=dt.UTC)


def point_titles(svg: str) -> list[str]:
    root = ET.fromstring(svg)
    return [g.find(f"{SVG}title").text for g in root.iter(f"{SVG}g") if g.get("class") == "point"]


def test_each_step_has_a_title_with_its_value_dates_and_unit():
    history = [
        price("input", "0.14", day(1), day(3)),
        price("input", "0.27", day(3)),
        price("output", "1.10", day(1)),
    ]

    svg = charts.price_history_svg(title="DeepSeek: deepseek-chat", prices=history, now=NOW)

    assert point_titles(svg) == [
        "input: $0.14 per 1M tokens, 2025-01-01 to 2025-03-01",
        "input: $0.27 per 1M tokens, 2025-03-01 to now",
        "output: $1.10 per 1M tokens, 2025-01-01 to now",
    ]
    assert "USD per 1M tokens" in svg


def test_it_follows_the_readers_currency_and_words_in_their_language():
    rates = selectors.Rates(units_per_eur={"USD": Decimal("1.25"), "CNY": Decimal("8")})
    display = selectors.Display(unit="mwords", currency="EUR", language="zh")
    history = [price("input", "2", day(1), currency="CNY")]

    svg = charts.price_history_svg(
        title="x", prices=history, now=NOW, display=display, rates=rates, ratio=units.WordsRatio(Decimal("0.5"))
    )

    # 2 CNY = 0.25 EUR per 1M tokens; at 0.5 words per token, 0.50 EUR per 1M words.
    assert point_titles(svg) == ["input: €0.50 per 1M words (Chinese), 2025-01-01 to now"]
    assert "EUR per 1M words (Chinese)" in svg


def test_without_a_rate_it_keeps_the_sellers_currency_and_never_writes_a_bare_yen():
    history = [price("input", "2", day(1), currency="CNY")]

    svg = charts.price_history_svg(
        title="x", prices=history, now=NOW, display=selectors.Display(currency="USD"), rates=selectors.Rates()
    )

    assert point_titles(svg) == ["input: CN¥2.00 per 1M tokens, 2025-01-01 to now"]
    assert "¥" not in svg.replace("CN¥", "")


def test_tiny_amounts_are_plain_digits_and_every_label_fits_the_drawing():
    history = [price("input", "0.00000014", day(1)), price("output", "0.0000006", day(1))]

    svg = charts.price_history_svg(title="per-token seller", prices=history, now=NOW)

    assert not re.search(r"\d[eE]-?\d", svg)
    root = ET.fromstring(svg)
    y_labels = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert [t.text for t in y_labels][1:] == ["$0.0000002", "$0.0000004", "$0.0000006"]
    for label in y_labels:
        # Right-aligned at x: its left edge, at a generous 7.2px a character, stays inside the SVG.
        assert float(label.get("x")) - len(label.text) * charts.CHAR_PX > 0
    x_labels = [t for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "middle" and t.text[:2] == "20"]
    for label in x_labels:
        half = len(label.text) * charts.CHAR_PX / 2
        assert float(label.get("x")) - half >= 0
        assert float(label.get("x")) + half <= charts.WIDTH


def test_overlapping_lines_from_two_sources_make_one_step_line():
    history = [price("input", "1", day(1), day(5)), price("input", "2", day(3))]

    titles = point_titles(charts.price_history_svg(title="x", prices=history, now=NOW))

    assert titles == [
        "input: $1.00 per 1M tokens, 2025-01-01 to 2025-03-01",
        "input: $2.00 per 1M tokens, 2025-03-01 to now",
    ]


def test_long_prompt_tiers_and_conditional_prices_stay_out_of_the_headline_chart():
    history = [
        price("input", "1.25", day(1)),
        price("input", "2.50", day(1), tier_min=200_001),
        price("input", "9", day(1), conditions="thinking=on"),
    ]

    assert point_titles(charts.price_history_svg(title="x", prices=history, now=NOW)) == [
        "input: $1.25 per 1M tokens, 2025-01-01 to now"
    ]


def test_names_are_escaped_and_an_empty_history_says_so():
    svg = charts.price_history_svg(title="<script>alert(1)</script>", prices=[], now=NOW)

    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert "No standard-mode price history" in svg
    ET.fromstring(svg)


def test_it_draws_no_inline_style_for_the_content_security_policy():
    svg = charts.price_history_svg(title="x", prices=[price("input", "1", day(1))], now=NOW)

    assert "style=" not in svg and "<style" not in svg and "<script" not in svg


def test_the_chart_stylesheet_is_served_as_css(client):
    response = client.get("/charts.css")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert ".history-chart" in response.content.decode()
