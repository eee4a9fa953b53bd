"""Source adapters. Adding one: a module here, one line in ``REGISTRY``, a fixture, a test."""

from __future__ import annotations

from providers.anthropic import Anthropic
from providers.base import Scraper
from providers.deepseek import DeepSeek
from providers.fireworks import Fireworks
from providers.google import Google
from providers.groq import Groq
from providers.litellm import LiteLLM
from providers.openai import OpenAI
from providers.openrouter import OpenRouter

REGISTRY: dict[str, type[Scraper]] = {
    Anthropic.slug: Anthropic,
    DeepSeek.slug: DeepSeek,
    Fireworks.slug: Fireworks,
    Google.slug: Google,
    Groq.slug: Groq,
    LiteLLM.slug: LiteLLM,
    OpenAI.slug: OpenAI,
    OpenRouter.slug: OpenRouter,
}


def get_scraper(slug: str) -> Scraper:
    try:
        return REGISTRY[slug]()
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source {slug!r}; known sources: {known}") from None
