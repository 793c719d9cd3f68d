"""The model: a small Llama-style decoder (transformers' ``LlamaForCausalLM``).

Llama rather than GPT-2: rotary positions need no learned position table, RMSNorm and no biases
make it ~30% faster per token on this CPU at the same size, and ``save_pretrained`` gives the
standard HF checkpoint any tool can load.
"""

from __future__ import annotations

import functools
import inspect
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

CHECKPOINT = Path(__file__).resolve().parent / "checkpoint"


@dataclass(frozen=True)
class ModelConfig:
    # 192 wide x 4 layers is ~1.9M parameters. The budget is ~40 minutes on 2 shared CPU cores
    # (~5M tokens seen): at that compute a smaller model reaches a lower loss than a larger one
    # trained for fewer steps (and it samples 16 candidates faster). On a GPU, widen it.
    hidden: int = 192
    layers: int = 4
    heads: int = 6  # 32-dim heads: the smallest that train as well as 64 here, more of them
    ffn: int = 512  # ~2.7x hidden, SwiGLU (Llama's MLP has three matrices, so not 4x)
    # 16 bars of source + 16 bars of section at ~18 tokens a bar, with room
    context: int = 1024
    dropout: float = 0.0  # about one pass over the data: nothing is seen often enough to overfit
    tie_embeddings: bool = True  # the input and output tables agree on what a token is; -50k params

    def to_hf(self, vocab_size: int, pad_id: int, bos_id: int, eos_id: int) -> Any:
        from transformers import LlamaConfig

        return LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=self.hidden,
            intermediate_size=self.ffn,
            num_hidden_layers=self.layers,
            num_attention_heads=self.heads,
            num_key_value_heads=self.heads,
            max_position_embeddings=self.context,
            attention_dropout=self.dropout,
            tie_word_embeddings=self.tie_embeddings,
            pad_token_id=pad_id,
            bos_token_id=bos_id,
            eos_token_id=eos_id,
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def new_model(cfg: ModelConfig, vocab_size: int, pad_id: int, bos_id: int, eos_id: int) -> Any:
    import torch
    from transformers import LlamaForCausalLM

    torch.manual_seed(0)
    return LlamaForCausalLM(cfg.to_hf(vocab_size, pad_id, bos_id, eos_id))


# A checkpoint's config.json says how much memory the model takes before any weight is read: a
# crafted one (hidden_size: 10**6) would be killed for memory, so its size is checked first.
MAX_PARAMETERS = 1_000_000_000  # ~4 GB of float32; the shipped model has 1.8M
SIZE_FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
               "num_attention_heads", "max_position_embeddings")  # fmt: skip


def check_config(folder: Path) -> None:
    """ValueError unless ``folder/config.json`` describes a Llama of a size we can load."""
    path = folder / "config.json"
    if path.stat().st_size > 100_000:
        raise ValueError("config.json is over 100 kB")
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ValueError("config.json is not JSON") from None
    if not isinstance(cfg, dict):
        raise ValueError("config.json is not a mapping")
    bad = [k for k in SIZE_FIELDS if type(cfg.get(k)) is not int or not 0 < cfg[k] < 10**7]
    if bad:
        raise ValueError(f"config.json: {bad[0]} must be a positive whole number")
    size: dict[str, int] = {k: cfg[k] for k in SIZE_FIELDS}
    h, layers = size["hidden_size"], size["num_hidden_layers"]
    params = size["vocab_size"] * h * 2 + layers * (4 * h * h + 3 * h * size["intermediate_size"])
    if params > MAX_PARAMETERS:
        raise ValueError(
            f"config.json describes ~{params:.2g} parameters, at most {MAX_PARAMETERS:.0e}"
        )


def load_model(folder: Path = CHECKPOINT) -> Any:
    """The checkpoint in ``folder`` (HF format), in eval mode; never touches the network."""
    check_config(folder)
    from transformers import LlamaForCausalLM
    from transformers.utils import logging as hf_logging

    # `compose` prints its own progress; the library's "Loading weights" bar is noise there
    enabled = hf_logging.is_progress_bar_enabled()
    verbosity = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    # its load report (missing or unexpected weights, many lines) is not for a user: a bad
    # checkpoint is reported in one line by the caller (composer.generators.checkpoint)
    hf_logging.set_verbosity_error()
    try:
        loaded: Any = LlamaForCausalLM.from_pretrained(
            str(folder), local_files_only=True, output_loading_info=True
        )
        model, info = loaded
    finally:
        hf_logging.set_verbosity(verbosity)
        if enabled:
            hf_logging.enable_progress_bar()
    # transformers fills weights it does not find with random ones and goes on: that is a
    # model of noise, so a checkpoint whose weights do not all match is refused
    wrong = {k: list(info.get(k) or []) for k in ("missing_keys", "unexpected_keys")}
    wrong["mismatched_keys"] = [str(m[0] if isinstance(m, tuple) else m) for m in
                                info.get("mismatched_keys") or []]  # fmt: skip
    if any(wrong.values()):
        counts = ", ".join(f"{len(v)} {k.split('_')[0]}" for k, v in wrong.items() if v)
        first = next(v[0] for v in wrong.values() if v)
        raise ValueError(f"its weights do not match the model ({counts}, e.g. {first})")
    model.eval()
    return model


def cache_kwargs(model: Any, cache: Any) -> dict[str, Any]:
    """The key-value cache as ``forward`` takes it: ``cache=`` in transformers 5.x (where
    ``past_key_values=`` prints a FutureWarning on every call), ``past_key_values=`` before."""
    cls: Any = type(model)
    return {_cache_name(cls): cache, "use_cache": True}


@functools.cache
def _cache_name(cls: Any) -> str:
    params = inspect.signature(cls.forward).parameters
    return "cache" if "cache" in params else "past_key_values"


def parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())
