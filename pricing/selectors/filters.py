"""What the offering filters that every reader shares (``selectors.offerings_filter``: the leaderboard,
the calculator, compare's search and the API's offerings, prices, estimate and CSV lists) need beyond
a column: each creator once whatever its spelling, the regions offerings state, and the in-memory twins
of the rules for lists filtered in Python (changes).

Unknown is never a match: a minimum context excludes offerings whose context window nobody states,
``open_weights`` (either way) excludes models whose weights no rule or curator has decided
(:mod:`pricing.openweights`), a region excludes offerings sold with no stated region, and a price range
excludes offerings without the price it bounds. Lists filtered in memory (changes) use the same rules
through :func:`context_matches` and :func:`price_in_range`.
"""

from __future__ import annotations

from decimal import Decimal

from pricing.identity import creator_slug
from pricing.models import Model, Offering

# Spellings of one creator that sources use beyond pricing.identity's aliases (orgs of re-hosted ids such as
# "hf:deepseek-ai/…", catalogue names such as "Mistral AI"): the creator list shows each creator once.
EXTRA_CREATOR_SPELLINGS = {
    "mistral-ai": "mistralai",
    "ai21-labs": "ai21",
    "stepfun-ai": "stepfun",
    "kimi": "moonshotai",
    "xiaomimimo": "xiaomi",
}


def creator_canonical(name: str) -> str:
    """One spelling per creator: ``hf:deepseek-ai``, ``DeepSeek`` and ``deepseek`` are all ``deepseek``."""
    lowered = name.strip().lower().lstrip("~").removeprefix("hf:").replace(" ", "-")
    slug = creator_slug(lowered)
    return EXTRA_CREATOR_SPELLINGS.get(slug, slug)


def _creator_spellings_all() -> dict[str, set[str]]:
    """Every stored spelling of every creator (models' creators, unlinked offerings' hints), by canonical slug."""
    found: dict[str, set[str]] = {}
    stored = Model.objects.exclude(creator="").order_by().values_list("creator", flat=True).distinct()
    hints = (
        Offering.objects.filter(model__isnull=True)
        .exclude(creator_hint="")
        .order_by()
        .values_list("creator_hint", flat=True)
        .distinct()
    )
    for spelling in stored.union(hints):
        found.setdefault(creator_canonical(spelling), set()).add(spelling)
    return found


def creators_list() -> list[str]:
    """Each creator once, by its canonical slug, sorted (one query)."""
    return sorted(_creator_spellings_all())


def regions_list() -> list[str]:
    """Every region an offering states (``attributes.region``), sorted (one query)."""
    regions = (
        Offering.objects.filter(attributes__has_key="region")
        .order_by()
        .values_list("attributes__region", flat=True)
        .distinct()
    )
    return sorted({str(r) for r in regions if r})


def creator_spellings(creator: str) -> set[str]:
    """Every stored spelling of ``creator`` (any spelling of it), for a filter (one query)."""
    return _creator_spellings_all().get(creator_canonical(creator)) or {creator}


def context_matches(window: int | None, min_context: int | None) -> bool:
    """Whether a context window passes ``min_context``: unknown windows never pass a set minimum."""
    if not min_context:
        return True
    return window is not None and window >= min_context


def price_in_range(amount: Decimal | None, *, min_price: Decimal | None, max_price: Decimal | None) -> bool:
    """Whether an amount lies in the range, both ends inclusive; an unknown amount never passes a set bound."""
    if min_price is None and max_price is None:
        return True
    if amount is None:
        return False
    return (min_price is None or amount >= min_price) and (max_price is None or amount <= max_price)
