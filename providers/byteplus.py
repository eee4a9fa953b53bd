"""BytePlus ModelArk pricing, in USD: the international Ark prices (Seed, DeepSeek, GLM, gpt-oss).

The same doc page as Volcano Engine's, read by the shared ``providers.ark``; model ids carry their
version dates (``seed-2-0-lite-260428``) and are kept as printed.
"""

from __future__ import annotations

from providers.ark import parse_ark_page
from providers.base import OFFICIAL_TRUST, Document, ScrapedPrice, Scraper


class BytePlus(Scraper):
    slug = "byteplus"
    name = "BytePlus ModelArk pricing page"
    kind = "official"
    provider = "byteplus"
    provider_name = "BytePlus"
    provider_website = "https://www.byteplus.com"
    urls = ("https://docs.byteplus.com/en/docs/ModelArk/1544106",)
    hosts = ("docs.byteplus.com",)
    trust_rank = OFFICIAL_TRUST

    def parse(self, document: Document) -> list[ScrapedPrice]:
        return parse_ark_page(document, provider=self.provider, currency="USD")
