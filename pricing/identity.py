"""Which model a seller's id names: pure rules, no Django, no database.

Sellers spell one model many ways: ``meta-llama/Llama-3.3-70B-Instruct``, ``llama3.3-70b``,
``accounts/fireworks/models/llama-v3p3-70b-instruct``, ``us.meta.llama3-3-70b-instruct-v1:0``,
``@cf/meta/llama-3.3-70b-instruct-fp8-fast``. :func:`identify` turns each into the model's creator and
one canonical key, and keeps what differs between sellers (region, deployment scope, quantisation,
a free or fast variant, a dated API version) as attributes of the offering, never as a new model.

Precision comes first, so the rules only *remove* what is known to be packaging, and only where it is
known to be packaging:
- seller and router prefixes (``accounts/<x>/models/``, ``@cf/``, ``vertex_ai/``, ``databricks-``),
  Bedrock's cross-region (``us.``, ``eu.``, ``apac.``, ``global.`` ...) and ``<aws-region>/`` prefixes,
  Azure's deployment scopes (``eu/``, ``global-standard/``), the creator's org (``meta-llama/``);
- Bedrock's API version (``-v1:0``, ``:200k``) but not Mistral's own ``v0:2`` (= v0.2);
- spellings of one version: ``v3p1`` = ``v3.1`` = ``3-1`` (between single digits), ``llama3.3`` =
  ``llama-3.3``, ``gpt-35`` = ``gpt-3.5``, ``2024-08-06`` = ``20240806``, ``@20250514`` = ``-20250514``;
  Claude's ``claude-3-5-sonnet`` = ``claude-sonnet-3.5`` (Anthropic changed the word order at Claude 4);
- packaging words at the end: ``:free`` and other ``:variants``, ``fp8``/``bf16``/``awq``..., ``hf``,
  and, only after a parameter size (``70b``), ``turbo``, ``fast``, ``long``, ``versatile``...;
- ``instruct`` (the hosted models are the instruction-tuned ones); a Hugging Face repo id of a family
  that publishes bare-named *base* weights (``meta-llama/Meta-Llama-3.1-405B``) gets a ``base`` marker
  instead, so base and instruct never meet;
- Anthropic's snapshot date: Anthropic states one snapshot per model name (the alias names that
  snapshot), except Claude 3.5 Sonnet, whose two snapshots are two models. Every other creator's
  dates, ``-0324``/``-2411`` versions and ``-latest`` aliases stay in the key: a dated snapshot is its
  own model.

Everything else stays in the key, which is what keeps different models apart: ``terminus``,
``distill``, ``search-preview``, ``ft``, ``0324``, ``k2.5``/``k2.6``, a fine-tuner's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# --- creators ---------------------------------------------------------------------------------------

# Org spellings (Hugging Face orgs, sellers' vendor prefixes, OpenRouter's) -> one creator slug.
# OpenRouter's spellings are the canonical ones, since it names the most creators.
CREATOR_ALIASES: dict[str, str] = {
    "meta": "meta-llama",
    "meta-llama": "meta-llama",
    "llama": "meta-llama",
    "codellama": "meta-llama",
    "deepseek-ai": "deepseek",
    "deepseek": "deepseek",
    "mistral": "mistralai",
    "mistralai": "mistralai",
    "qwen": "qwen",
    "alibaba": "qwen",
    "alibaba-cloud": "qwen",
    "dashscope": "qwen",
    "xai": "x-ai",
    "x-ai": "x-ai",
    "moonshot": "moonshotai",
    "moonshotai": "moonshotai",
    "zai": "z-ai",
    "z-ai": "z-ai",
    "zai-org": "z-ai",
    "thudm": "z-ai",
    "zhipu": "z-ai",
    "zhipuai": "z-ai",
    "minimaxai": "minimax",
    "minimax": "minimax",
    "amazon": "amazon",
    "amazon-nova": "amazon",
    "ibm": "ibm-granite",
    "ibm-granite": "ibm-granite",
    "google": "google",
    "gemini": "google",
    "openai": "openai",
    "anthropic": "anthropic",
    "cohere": "cohere",
    "cohereforai": "cohere",
    "coherelabs": "cohere",
    "microsoft": "microsoft",
    "nvidia": "nvidia",
    "ai21": "ai21",
    "ai21labs": "ai21",
    "nousresearch": "nousresearch",
    "baidu": "baidu",
    "tencent": "tencent",
    "bytedance": "bytedance",
    "bytedance-seed": "bytedance",
    "perplexity": "perplexity",
    "01-ai": "01-ai",
    "sao10k": "sao10k",
}

# Sellers that are model makers: a bare id on their own API that no family rule knows is their model.
FIRST_PARTY_SELLERS: dict[str, str] = {
    "ai21": "ai21", "aleph_alpha": "aleph-alpha", "gigachat": "sber", "inception": "inception",
    "sarvam": "sarvamai", "v0": "vercel", "morph": "morph", "meta": "meta-llama", "volcengine": "bytedance",
    "mistral": "mistralai", "cohere": "cohere", "xai": "x-ai", "moonshot": "moonshotai", "zai": "z-ai",
    "minimax": "minimax", "dashscope": "qwen", "amazon_nova": "amazon", "openai": "openai",
    "anthropic": "anthropic", "google": "google", "deepseek": "deepseek", "perplexity": "perplexity",
    "reka": "reka", "writer": "writer", "upstage": "upstage", "liquid": "liquid", "lambda_ai": "",
}  # fmt: skip

# Orgs in an id that name a router or seller, not the model's creator.
NOT_CREATORS = frozenset({"openrouter", "together", "together_ai", "fireworks", "deepinfra", "novita", "ps", "azure"})

_KNOWN_CREATORS = frozenset(CREATOR_ALIASES.values())

# A model family (the key's first words) -> its creator, for ids that name no org.
FAMILY_CREATORS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), creator)
    for pattern, creator in (
        (r"^claude-", "anthropic"),
        (r"^(gpt|chatgpt|o-[134]|codex|text-embedding|davinci|babbage|computer-use|omni-moderation)(-|$)", "openai"),
        (r"^(gemini|gemma|learnlm|text-bison|chat-bison|code-bison|code-gecko)(-|$)", "google"),
        (r"^(llama|code-llama|codellama)-", "meta-llama"),
        (r"^deepseek-", "deepseek"),
        (r"^(qwen|qwq|qvq)-", "qwen"),
        (
            r"^(mistral|mixtral|codestral|ministral|pixtral|magistral|devstral|voxtral|open-mistral|open-mixtral)-",
            "mistralai",
        ),
        (r"^grok-", "x-ai"),
        (r"^(command|c4ai|aya)(-|$)", "cohere"),
        (r"^nova-", "amazon"),
        (r"^(kimi|moonshot)-", "moonshotai"),
        (r"^(glm|chatglm)-", "z-ai"),
        (r"^(minimax|abab)-", "minimax"),
        (r"^phi-", "microsoft"),
        (r"^jamba-", "ai21"),
        (r"^ernie-", "baidu"),
        (r"^doubao-", "bytedance"),
        (r"^granite-", "ibm-granite"),
        (r"^(sonar|pplx)(-|$)", "perplexity"),
        (r"^hermes-", "nousresearch"),
        (r"^hunyuan-", "tencent"),
        (r"^(codegemma)-", "google"),
        (r"^(code-qwen)-", "qwen"),
        (r"^(nemotron|nvidia-nemotron)-", "nvidia"),
        (r"^yi-", "01-ai"),
        (r"^(starcoder|starcoder-2)-", "bigcode"),
        (r"^dbrx-", "databricks"),
        (r"^mpt-", "mosaicml"),
        (r"^luminous-", "aleph-alpha"),
        (r"^j-2-", "ai21"),
        (r"^mai-ds-", "microsoft"),
        (r"^codegeex", "z-ai"),
    )
)

# --- prefixes a seller adds -------------------------------------------------------------------------

_SELLER_PREFIXES = re.compile(
    r"^(?:accounts/[^/]+/(?:models|routers)/|@cf/|@hf/|vertex_ai/|databricks-|bedrock/|azure_ai/|azure/|openrouter/)",
    re.IGNORECASE,
)
_AWS_REGION = re.compile(r"^((?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-[a-z]+-\d)/", re.IGNORECASE)
_BEDROCK_SCOPE = re.compile(r"^(us|eu|apac|au|jp|ca|global|us-gov)\.(?=[a-z])", re.IGNORECASE)
_AZURE_SCOPE = re.compile(r"^(global-standard|global|datazone|data-zone|eu|us)/", re.IGNORECASE)
# Bedrock's ``vendor.model`` form; the vendor is the creator.
_VENDOR_DOT = re.compile(r"^([a-z0-9-]+)\.(?=[a-z])", re.IGNORECASE)
_BEDROCK_VERSION = re.compile(r"-v(\d+)(?::(\d+))?(?::\d+k)?$", re.IGNORECASE)

# Words at the end of an id that say how it is served, not what it is.
_PACKAGING = frozenset({"fp8", "fp4", "fp16", "bf16", "int4", "int8", "awq", "gptq", "dynamic", "hf", "maas", "free"})
# Serving words that are also parts of real model names (gpt-3.5-turbo, grok-4-fast): packaging only
# after a parameter size (``70b``) or on DeepSeek's V/R models.
_SERVING = frozenset({"turbo", "fast", "long", "versatile", "specdec", "lite-throughput"})
_SIZE = re.compile(r"^\d+(\.\d+)?[bm]$|^\d+x\d+b$|^\d+b-a\d+b$")
# Families whose Hugging Face repos name base weights with no suffix (the instruct repo says Instruct/it).
_BARE_BASE_FAMILIES = re.compile(r"^(llama|mistral|mixtral|gemma|qwen-(1|1\.5|2|2\.5)(-|$)|qwen-(1|1\.5|2|2\.5)$)")
# Sellers whose catalogues name base weights by their bare repo names (and the instruct ones "-instruct").
SELLERS_NAMING_BASE_BARE = frozenset(
    {"fireworks", "replicate", "together", "deepinfra", "hyperbolic", "novita", "nebius", "anyscale", "baseten",
     "featherless", "huggingface", "crusoe", "nscale", "tensormesh", "wandb"}
)  # fmt: skip
_INSTRUCT_WORDS = frozenset({"instruct", "it", "chat"})
# Anthropic snapshots that are distinct models (two Claude 3.5 Sonnets): keep their dates.
_ANTHROPIC_DATED_MODELS = frozenset({"claude-sonnet-3.5-20240620"})
# API names that follow the creator's newest model (DeepSeek's own documentation says so).
MOVING_ALIASES = frozenset({"deepseek-chat", "deepseek-reasoner"})
_DATE = re.compile(r"^(19|20)\d{6}$")


@dataclass(frozen=True)
class Identity:
    """What an id names: ``creator`` and ``key`` (``""`` when unknown), the offering's attributes the
    id carried, and whether the evidence is certain enough to link (else a curator decides)."""

    creator: str
    key: str
    attributes: dict[str, str] = field(default_factory=dict, compare=False)
    certain: bool = True
    reason: str = ""

    @property
    def pair(self) -> tuple[str, str]:
        return (self.creator, self.key)


def creator_slug(name: str) -> str:
    """A creator as sources spell it (``Meta-Llama``, ``deepseek-ai``) -> its canonical slug."""
    lowered = name.strip().lower().lstrip("~")
    return CREATOR_ALIASES.get(lowered, lowered)


def identify(
    model_id: str,
    *,
    seller: str = "",
    name: str = "",
    creator_hint: str = "",
    hugging_face_id: str = "",
) -> Identity:
    """The model ``model_id`` names, as seen by one seller.

    ``hugging_face_id`` (OpenRouter states one for open-weights models) is the creator's own repo id
    and wins over the seller's id. ``name`` is used only when the id is a display name itself
    (Anthropic's page says "Claude Sonnet 4"). ``creator_hint`` is the source's statement of the creator.
    """
    if hugging_face_id and "/" in hugging_face_id:
        identity = _identify_id(hugging_face_id, bare_is_base=True)
        if identity.creator and identity.key:
            seller_side = _identify_id(model_id, bare_is_base=False)
            return Identity(identity.creator, identity.key, seller_side.attributes, True, "hugging_face_id")
    identity = _identify_id(model_id, bare_is_base=seller in SELLERS_NAMING_BASE_BARE)
    own_creator = FIRST_PARTY_SELLERS.get(seller, "")
    if identity.creator not in _KNOWN_CREATORS and own_creator and _family_creator(identity.key) == own_creator:
        # Mistral's "codestral/codestral-latest": a routing prefix on the creator's own API.
        identity = Identity(own_creator, identity.key, identity.attributes, identity.certain, "first-party seller")
    if identity.certain and is_moving_alias(identity.key) and seller and creator_slug(seller) != identity.creator:
        # Another seller's "deepseek-chat" may be pinned to whatever the alias meant when it was listed.
        return Identity(identity.creator, identity.key, identity.attributes, False, "moving alias at another seller")
    if not identity.creator and identity.key and FIRST_PARTY_SELLERS.get(seller):
        return Identity(FIRST_PARTY_SELLERS[seller], identity.key, identity.attributes, True, "first-party seller")
    if not identity.creator and creator_hint and creator_slug(creator_hint) not in NOT_CREATORS:
        return Identity(creator_slug(creator_hint), identity.key, identity.attributes, bool(identity.key), "hint")
    return identity


def _identify_id(model_id: str, *, bare_is_base: bool = False) -> Identity:
    attributes: dict[str, str] = {}
    rest = model_id.strip()
    # ``ft:gpt-4o-mini:org::id`` is a customer's fine-tune: its own model, never its base's.
    fine_tune = rest.lower().startswith("ft:")
    if fine_tune:
        rest = rest[3:]
    # OpenRouter-style ``:free`` / ``:beta`` / ``:thinking`` variants; Bedrock's ``-v1:0`` is handled below.
    if (variant := re.search(r":([a-z][a-z-]*)$", rest, re.IGNORECASE)) and not re.search(r"-v\d+:", rest):
        attributes["variant"] = variant.group(1).lower()
        rest = rest[: variant.start()]
    rest = _SELLER_PREFIXES.sub("", rest)
    if region := _AWS_REGION.match(rest):
        attributes["region"] = region.group(1).lower()
        rest = rest[region.end() :]
    if scope := _AZURE_SCOPE.match(rest):
        attributes["deploy_scope"] = scope.group(1).lower()
        rest = rest[scope.end() :]
    if scope := _BEDROCK_SCOPE.match(rest):
        attributes["deploy_scope"] = scope.group(1).lower()
        rest = rest[scope.end() :]
    rest = _SELLER_PREFIXES.sub("", rest)
    creator = ""
    org = ""
    hf_form = False
    if "/" in rest:
        org, rest = rest.rsplit("/", 1)
        org = org.rsplit("/", 1)[-1]
        if creator_slug(org) not in NOT_CREATORS:
            creator = creator_slug(org)
        hf_form = any(ch.isupper() for ch in rest)
    elif (vendor := _VENDOR_DOT.match(rest)) and creator_slug(vendor.group(1)) in set(CREATOR_ALIASES.values()) | {
        "meta",
        "writer",
        "twelvelabs",
    }:
        creator = creator_slug(vendor.group(1))
        rest = rest[vendor.end() :]
    if api_version := _BEDROCK_VERSION.search(rest):
        major, minor = api_version.group(1), api_version.group(2)
        if minor is not None and major == "0":  # Mistral's own v0:2 is its model version 0.2
            rest = rest[: api_version.start()] + f"-v0.{minor}"
        elif minor is not None or creator in {"amazon", "anthropic", "meta-llama", "cohere", "ai21"}:
            attributes["api_version"] = api_version.group(0).lstrip("-")
            rest = rest[: api_version.start()]
    words, base_marker = _words(rest, bare_is_base=hf_form or bare_is_base)
    if not words:
        return Identity("", "", attributes, False, "empty id")
    key = "-".join(words)
    if not creator:
        creator = _family_creator(key)
    if not creator and len(words) > 1 and words[0] in CREATOR_ALIASES:
        # "anthropic-claude-3.5-sonnet", "zai-glm-4.6": a creator's name before its own family.
        rest_key = "-".join(words[1:])
        if _family_creator(rest_key) == creator_slug(words[0]):
            creator, key = creator_slug(words[0]), rest_key
    if creator == "anthropic" or key.startswith("claude-"):
        key = _anthropic_undated(key, attributes)
    if base_marker:
        key += "-base"
    if fine_tune:
        key = "ft-" + key
    if not creator:
        return Identity("", key, attributes, False, "creator unknown")
    return Identity(creator, key, attributes, True, "id")


def is_moving_alias(key: str) -> bool:
    """An id that names whatever its creator points it at today (``deepseek-chat``, ``*-latest``)."""
    return key in MOVING_ALIASES or "latest" in key.split("-")


def _family_creator(key: str) -> str:
    for pattern, family_creator in FAMILY_CREATORS:
        if pattern.search(key):
            return family_creator
    return ""


def model_key(model_id: str) -> str:
    """Just the canonical key of an id (a Model's slug or a curator's spelling)."""
    return _identify_id(model_id).key


def _words(rest: str, *, bare_is_base: bool) -> tuple[list[str], bool]:
    text = rest.lower().replace("_", "-").replace(" ", "-")
    text = re.sub(r"@(\d{8})$", r"-\1", text)  # Vertex: claude-sonnet-4@20250514
    text = re.sub(r"(?<!\d)((?:19|20)\d\d)-(\d\d)-(\d\d)(?!\d)", r"\1\2\3", text)  # 2024-08-06 -> 20240806
    text = re.sub(r"(?<=\d)p(?=\d)", ".", text)  # Fireworks: v3p1, qwen2p5
    text = re.sub(r"(?<![\d.])(\d)-(\d)(?=-|$)", r"\1.\2", text)  # llama3-3-70b, claude-3-5-sonnet
    text = re.sub(r"(?<![\d.])(\d)-(\d)(?=-|$)", r"\1.\2", text)
    text = re.sub(r"\bgpt-?35\b", "gpt-3.5", text)  # Azure
    text = re.sub(r"(?<![a-z])(fp|bf|int)-?(4|8|16)(?![0-9])", r"\1\2", text)  # FP8 is one word, not "fp 8"
    words: list[str] = []
    for chunk in re.split(r"[^a-z0-9.]+|(?<!\d)\.|\.(?!\d)", text):
        # llama3.3 -> llama 3.3, v3.1 -> v 3.1, qwen2.5 -> qwen 2.5; 70b, 4o, 8x7b, fp8 stay whole.
        if re.fullmatch(r"(fp|bf|int)(4|8|16)", chunk):
            words.append(chunk)
            continue
        words.extend(part for part in re.split(r"(?<=[a-z])(?=\d)", chunk) if part)
    if len(words) > 1 and words[0] == "meta" and words[1] == "llama":
        words = words[1:]
    if len(words) > 2 and words[0] == "llama" and words[1] == "v":  # Fireworks: llama-v3p3-70b
        words = [words[0], *words[2:]]
    if len(words) > 3 and words[:3] == ["deepseek", "chat", "v"]:  # OpenRouter: deepseek-chat-v3-0324
        words = [words[0], *words[2:]]
    if words and words[0] == "codellama":
        words = ["code", "llama", *words[1:]]
    _drop_packaging(words)
    instruct = any(w in _INSTRUCT_WORDS for w in words)
    # OpenAI's gpt-3.5-turbo-instruct is a model of its own, not a packaging of gpt-3.5-turbo.
    if "instruct" in words and words[0] not in {"gpt", "chatgpt"}:
        words = [w for w in words if w != "instruct"]
    if words and words[0] == "gemma" and words[-1] == "it":
        words = words[:-1]
    joined = "-".join(words)
    base_marker = bare_is_base and not instruct and bool(_BARE_BASE_FAMILIES.match(joined)) and "base" not in words
    return words, base_marker


def _drop_packaging(words: list[str]) -> None:
    has_size = any(_SIZE.match(w) for w in words)
    deepseek_vr = len(words) >= 3 and words[0] == "deepseek" and words[1] in {"v", "r"}
    while len(words) > 1:
        last = words[-1]
        if last in _PACKAGING or (last in _SERVING and (has_size or deepseek_vr)):
            words.pop()
        else:
            break


def _anthropic_undated(key: str, attributes: dict[str, str]) -> str:
    # claude-3.5-sonnet -> claude-sonnet-3.5: one word order for every Claude.
    key = re.sub(r"^claude-(\d(?:\.\d)?)-(opus|sonnet|haiku|instant)(?=-|$)", r"claude-\2-\1", key)
    words = key.split("-")
    if words and _DATE.match(words[-1]) and key not in _ANTHROPIC_DATED_MODELS:
        attributes["snapshot"] = words[-1]
        key = "-".join(words[:-1])
    return key


# --- never merge ------------------------------------------------------------------------------------

# Words that make a different model when one id has them and the other does not. Linking never
# relaxes a match across one of these, even for a curator suggestion.
DIFFERENT_MODEL_WORDS = frozenset(
    {
        "terminus", "distill", "search", "preview", "ft", "base", "exp", "thinking", "reasoning", "mini", "nano",
        "audio", "realtime", "vision", "coder", "code", "guard", "speciale", "latest", "pro", "flash", "lite",
        "max", "plus", "turbo", "online", "nemotron", "hermes", "euryale", "abliterated", "uncensored",
    }
)  # fmt: skip


def may_share_model(a: Identity, b: Identity) -> bool:
    """Whether two identities could possibly be one model: same creator (or one unknown) and no
    model-making word or version number on one side only. Used to vet curator suggestions."""
    if a.creator and b.creator and a.creator != b.creator:
        return False
    wa, wb = set(a.key.split("-")), set(b.key.split("-"))
    if (wa ^ wb) & DIFFERENT_MODEL_WORDS:
        return False
    numbers_a = {w for w in wa if any(ch.isdigit() for ch in w)}
    numbers_b = {w for w in wb if any(ch.isdigit() for ch in w)}
    return numbers_a == numbers_b
