"""The ``transformer`` generator on a model folder of the user's (``--checkpoint DIR``,
``checkpoint:`` in a spec): the folder ``compose train --data ... --out DIR`` writes.

The registry builds the generator through :func:`transformer`, which checks the folder and
loads the model before any section is generated, so a wrong folder is one line naming the
checkpoint, not a failure half-way through a song. The files are checked before loading because
``from_pretrained`` on weights without their ``config.json`` does not fail: it builds a Llama of
the default size (billions of parameters) and is killed for memory.
"""

from __future__ import annotations

from pathlib import Path

from composer.generators.transformer.generator import TransformerGenerator, load, missing_files
from grammar.errors import GeneratorError
from grammar.paths import folder_problem

FIELD = "checkpoint"
HINT = "a model folder is written by `compose train --data DIR --out MODELDIR`"


def check_checkpoint(folder: Path) -> None:
    """GeneratorError naming the checkpoint unless ``folder`` holds a model the ``transformer``
    generator can load with this version's vocabulary (it is loaded, and cached, here)."""
    problem = folder_problem(folder)
    if problem is not None:
        raise GeneratorError(
            FIELD, problem if problem.startswith("no such") else f"{problem} ({HINT})"
        )
    missing = missing_files(folder)
    if missing:
        raise GeneratorError(FIELD, f"no {', '.join(missing)} in '{folder}' ({HINT})")
    try:
        load(folder)
    except GeneratorError as exc:  # the vocabulary does not match: keep its message
        raise GeneratorError(FIELD, exc.problem) from None
    except Exception as exc:  # the user's files, read by safetensors/transformers: bad input
        text = " ".join(str(exc).split())
        raise GeneratorError(
            FIELD, f"cannot load the model in '{folder}' ({type(exc).__name__}: {text})"
        ) from None


def transformer(checkpoint: Path | None = None) -> TransformerGenerator:
    """The ``transformer`` generator: on the shipped model, or on ``checkpoint`` once checked."""
    if checkpoint is None:
        return TransformerGenerator()
    check_checkpoint(checkpoint)
    return TransformerGenerator(checkpoint=checkpoint)
