"""Source adapters. Adding one: a module here, one line in ``REGISTRY``, a fixture, a test."""

from __future__ import annotations

from providers.alibaba import Alibaba
from providers.anthropic import Anthropic
from providers.azure import Azure
from providers.base import Scraper
from providers.byteplus import BytePlus
from providers.deepinfra import DeepInfra
from providers.deepseek import DeepSeek
from providers.fireworks import Fireworks
from providers.google import Google
from providers.groq import Groq
from providers.litellm import LiteLLM
from providers.minimax import MiniMax
from providers.modelsdev import ModelsDev
from providers.moonshot import Moonshot
from providers.openai import OpenAI
from providers.openrouter import OpenRouter
from providers.tencent import Tencent
from providers.together import Together
from providers.volcengine import Volcengine
from providers.zai import ZAI
from providers.zhipu import Zhipu

REGISTRY: dict[str, type[Scraper]] = {
    Alibaba.slug: Alibaba,
    Anthropic.slug: Anthropic,
    Azure.slug: Azure,
    BytePlus.slug: BytePlus,
    DeepInfra.slug: DeepInfra,
    DeepSeek.slug: DeepSeek,
    Fireworks.slug: Fireworks,
    Google.slug: Google,
    Groq.slug: Groq,
    LiteLLM.slug: LiteLLM,
    MiniMax.slug: MiniMax,
    ModelsDev.slug: ModelsDev,
    Moonshot.slug: Moonshot,
    OpenAI.slug: OpenAI,
    OpenRouter.slug: OpenRouter,
    Tencent.slug: Tencent,
    Together.slug: Together,
    Volcengine.slug: Volcengine,
    ZAI.slug: ZAI,
    Zhipu.slug: Zhipu,
}


def get_scraper(slug: str) -> Scraper:
    try:
        return REGISTRY[slug]()
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"unknown source {slug!r}; known sources: {known}") from None
