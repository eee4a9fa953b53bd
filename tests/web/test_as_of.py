"""Every price page can show the prices of a past day (``as_of``, as the API reads it), and says which day."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.utils import timezone

from tests.factories import PriceFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def repriced(priced):
    """deepseek-chat: $0.14 input until 30 days ago, $0.27 since; output $1.10 throughout."""
    offering = priced("deepseek", "deepseek-chat", "0.27", "1.10")
    changed = timezone.now() - dt.timedelta(days=30)
    first = changed - dt.timedelta(days=300)
    offering.prices.filter(component="input").update(valid_from=changed)
    offering.prices.filter(component="output").update(valid_from=first)
    PriceFactory(
        offering=offering,
        component="input",
        amount_per_mtok=Decimal("0.14"),
        source=offering.prices.first().source,
        valid_from=first,
        valid_to=changed,
    )
    other = priced("openai", "gpt-4o", "2.50", "10.00")
    other.prices.update(valid_from=first)
    return offering, (changed - dt.timedelta(days=10)).date().isoformat()


def test_the_leaderboard_shows_a_past_days_prices_and_says_so(client, repriced):
    _, day = repriced

    past = client.get(f"/?as_of={day}&sort=input").content.decode()
    today = client.get("/?sort=input").content.decode()

    assert "$0.14" in past and "$0.27" not in past
    assert "$0.27" in today
    assert f'Prices on <strong><time datetime="{day}">{day}</time></strong>' in past
    assert f'name="as_of" value="{day}"' in past
    # Sort links keep the day.
    assert re.search(rf'href="\?[^"]*as_of={day}[^"]*sort=', past)


def test_a_past_day_leaves_out_offerings_that_had_no_price_yet(client, repriced, priced):
    _, day = repriced
    priced("newco", "brand-new", "1", "2")  # priced from an hour ago only

    assert "brand-new" not in client.get(f"/?as_of={day}").content.decode()
    assert "brand-new" in client.get("/").content.decode()


def test_compare_shows_a_past_days_prices(client, repriced):
    offering, day = repriced
    other = offering.provider.offerings.model.objects.get(provider_model_id="gpt-4o")

    body = client.get(f"/compare/?compare={offering.id},{other.id}&as_of={day}&input=1000000&output=0").content.decode()

    assert "$0.14" in body
    assert f'Prices on <strong><time datetime="{day}">{day}</time></strong>' in body


@pytest.mark.parametrize("url", ["/", "/compare/", "/calculator/"])
@pytest.mark.parametrize("bad", ["2025-02-30", "soon", "2999-01-01"])
def test_a_bad_day_falls_back_to_today_with_a_notice(client, repriced, url, bad):
    response = client.get(f"{url}?as_of={bad}")

    assert response.status_code == 200
    body = response.content.decode()
    assert "Ignored as_of=" in body
    assert "(today)" in body


def test_switching_to_words_sends_the_heading_again_with_the_results(client, repriced):
    response = client.get("/?unit=mwords", headers={"HX-Request": "true", "HX-Target": "results"})
    body = response.content.decode()

    assert body.lstrip().startswith('<section id="results"')
    heading = re.search(r'<div id="page-heading" hx-swap-oob="true">(.*?)</div>', body, re.DOTALL)
    assert heading and "<h1>LLM prices per 1M words</h1>" in heading.group(1)
    assert "<title>Leaderboard: LLM prices per 1M words · Token prices</title>" in body
    assert "per 1M tokens" not in heading.group(1)


def test_a_full_page_has_the_heading_once_and_no_out_of_band_copy(client, repriced):
    body = client.get("/?unit=mwords").content.decode()

    assert body.count('id="page-heading"') == 1
    assert "hx-swap-oob" not in body


def test_links_to_a_model_page_keep_the_day(client, repriced, deepseek_model):
    offering, day = repriced
    offering.model = deepseek_model
    offering.save()

    for url in (f"/?as_of={day}", f"/calculator/?as_of={day}", f"/compare/?compare={offering.id}&as_of={day}"):
        assert f'href="/models/deepseek-v3/?as_of={day}"' in client.get(url).content.decode(), url


def test_the_best_price_per_model_view_also_resends_its_heading_and_says_the_day(client, repriced, deepseek_model):
    offering, day = repriced
    offering.model = deepseek_model
    offering.save()

    body = client.get(
        f"/?group=model&unit=mwords&as_of={day}", headers={"HX-Request": "true", "HX-Target": "results"}
    ).content.decode()

    assert "<h1>LLM prices per 1M words</h1>" in body and 'hx-swap-oob="true"' in body
    assert f'<time datetime="{day}">{day}</time>' in body
