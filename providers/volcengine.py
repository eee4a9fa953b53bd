"""Volcano Engine Ark (火山方舟) model pricing, in CNY: Doubao and the models Ark hosts (DeepSeek, GLM).

The page's large-language-model tables (online standard, online low-latency, batch) are read by
``providers.ark``, which BytePlus's international copy of the page shares.
"""

from __future__ import annotations

from providers.ark import parse_ark_page
from providers.base import OFFICIAL_TRUST, Document, ScrapedPrice, Scraper


class Volcengine(Scraper):
    slug = "volcengine"
    name = "Volcano Engine Ark pricing page"
    kind = "official"
    provider = "volcengine"
    provider_name = "Volcano Engine (火山引擎)"
    provider_website = "https://www.volcengine.com"
    urls = ("https://docs.volcengine.com/docs/82379/1544106?lang=zh",)
    # The doc site answers on both names and redirects between them.
    hosts = ("docs.volcengine.com", "www.volcengine.com")
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        return parse_ark_page(document, provider=self.provider, currency="CNY")
