"""Whether a model's weights are published: pure rules on its creator and canonical key, no Django.

No source we read states it for every model, so the rankings' open/closed filter would match nothing.
These rules say what each creator publishes, family by family, as far as the creators' own model
cards and licences tell (Meta's Llama licence, DeepSeek's MIT weights, Google's Gemma terms...). A
model no rule speaks for stays unknown (None), and an unknown model matches neither "open" nor
"closed": a filter never guesses. A curator's value in the admin always wins (:func:`models_open_weights_fill`
only fills models that have none).

"Open weights" means the weights can be downloaded, whatever the licence's terms of use (some are
research-only or non-commercial, e.g. Cohere's Command R, Mistral's Codestral 22B).
"""

from __future__ import annotations

import re

# A parameter count in a key ("qwen-2.5-72b-instruct", "ernie-4.5-21b-a-3b"): sellers only state it for
# models whose weights someone can run.
_SIZE = r"(^|-)\d+(\.\d+)?b(-|$)"

# (creator, pattern on the canonical key, open?) — the first rule of the model's creator that matches decides.
RULES: tuple[tuple[str, re.Pattern[str], bool], ...] = tuple(
    (creator, re.compile(pattern), is_open)
    for creator, pattern, is_open in (
        ("openai", r"^(gpt-oss|whisper)", True),
        ("openai", r"", False),
        ("anthropic", r"", False),
        ("google", r"(^|-)(gemma|codegemma|paligemma|t5|flan)", True),
        ("google", r"^(gemini|palm|text-bison|chat-bison|code-bison|code-gecko|learnlm|lyria|imagen|veo|nano-banana)", False),  # noqa: E501
        ("x-ai", r"^grok-(1|2\.5)(-|$)", True),
        ("x-ai", r"^grok-", False),
        ("amazon", r"^(nova|titan)-", False),
        ("perplexity", r"", False),
        ("meta-llama", r"^(llama|code-llama|codellama)", True),
        ("deepseek", r"", True),
        ("qwen", r"(^|-)(max|plus|turbo|flash|long|doc|deep|mt|omni-turbo)(-|$)", False),
        ("qwen", _SIZE, True),
        ("qwen", r"^qwq-32b", True),
        ("mistralai", r"^(mistral-7b|mistral-tiny|open-|mixtral|mistral-nemo|pixtral-12b|codestral-mamba|ministral-)", True),  # noqa: E501
        ("mistralai", r"^(magistral-small|devstral-small|voxtral-)", True),
        ("mistralai", r"^(mistral-medium|magistral-medium|devstral-medium|mistral-saba|mistral-embed|codestral-embed)", False),  # noqa: E501
        ("cohere", r"^(command-r|command-a|c4ai|aya)", True),
        ("cohere", r"^(command-light|command-nightly|command-text|embed|north)", False),
        ("z-ai", r"^glm-4-(plus|air|airx|flash|flashx|long|assistant|0520)(-|$)|^glm-4v-plus|^glm-4$|^charglm|^emohaa", False),  # noqa: E501
        ("z-ai", r"^glm-4(\.[1567]v?)?(-|$)|^glm-4\.[1567]v|^codegeex-4|^autoglm", True),
        ("moonshotai", r"^(moonshot-)?kimi-k-2(\.\d+)?(-|$)", True),
        ("moonshotai", r"^(moonshot-v-1|kimi-latest|kimi-thinking)", False),
        ("minimax", r"^minimax-(01|text-01|m-1|m-2)", True),
        ("minimax", r"^abab", False),
        ("microsoft", r"^(phi|wizardlm|mai-ds)", True),
        ("nvidia", r"nemotron|^llama", True),
        ("ibm-granite", r"^granite", True),
        ("01-ai", _SIZE, True),
        ("01-ai", r"^yi-(large|lightning|medium)", False),
        ("ai21", r"^jamba", True),
        ("ai21", r"^j-2", False),
        ("baidu", _SIZE, True),
        ("baidu", r"^ernie-(x|4\.5-turbo|4\.5-8k)", False),
        ("tencent", r"^hunyuan-(a-13b|mt-7b)", True),
        ("tencent", r"^hunyuan-(turbos|t-1|2\.0)", False),
        ("bytedance", r"^(seed-oss|ui-tars)", True),
        ("bytedance", r"^(doubao|seed-1|seed-2)", False),
        ("nousresearch", r"", True),
        ("allenai", r"", True),
        ("bigcode", r"", True),
    )
)  # fmt: skip


def open_weights(*, creator: str, key: str) -> bool | None:
    """True if the creator publishes this model's weights, False if it keeps them, None if no rule knows."""
    for rule_creator, pattern, is_open in RULES:
        if rule_creator == creator and pattern.search(key):
            return is_open
    return None
