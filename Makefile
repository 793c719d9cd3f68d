# Two commands for a fresh machine: `make demo` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1

.PHONY: venv demo demo-render render-deps browser-deps test lint bench harmony-model reward-model eval-alignment model clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,studio,ray]'
	touch $(STAMP)

venv: $(STAMP)

# `compose warmup` compiles the numba kernels once (cached beside their sources), so neither the
# demo nor a user's first song waits for the compiler.
demo: $(STAMP)
	mkdir -p out
	$(BIN)/compose warmup
	$(BIN)/compose --force -o out/demo.mid
	@echo "Run compose yourself: .venv/bin/compose --help (or first: source .venv/bin/activate)"

# What the renderers need from Debian: FluidSynth and a General MIDI SoundFont (audio), cairo
# (PNG/PDF score pictures), DejaVu fonts (text in pictures). Needs root; skipped where present.
RENDER_DEBS := fluidsynth timgm6mb-soundfont libcairo2 fonts-dejavu-core
render-deps:
	@if dpkg -s $(RENDER_DEBS) >/dev/null 2>&1; then echo "render-deps: installed"; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $(RENDER_DEBS); fi

# The studio's browser test (tests/test_studio_browser.py): Chromium from Debian, driven by
# Playwright from PyPI (no browser download). Needs root; skipped where present.
BROWSER_DEBS := chromium
browser-deps:
	@if dpkg -s $(BROWSER_DEBS) >/dev/null 2>&1; then echo "browser-deps: installed"; else \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	    --no-install-recommends $(BROWSER_DEBS); fi

# A WAV, a MusicXML score, the lead sheet as PDF and PNG, and the plan picture of the demo song.
demo-render: $(STAMP) render-deps
	mkdir -p out
	$(BIN)/compose --force -o out/demo.mid --formats wav,musicxml,pdf,png,plan

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_pipeline.py
	$(BIN)/python benchmarks/bench_kernels.py
	$(BIN)/python benchmarks/bench_harmony.py

# Rebuild planners/data/harmony.json from music21's corpus (7-10 minutes on 2 cores; bit for bit).
harmony-model: $(STAMP)
	$(BIN)/python -m planners.learn.build

# Rebuild composer/reward_model/data/reward_model.json (the learned reward, ~4 minutes, bit for bit for a seed)
# and composer/eval/data/eval_reference.json (melody statistics of the held-out test pieces).
reward-model: $(STAMP)
	$(BIN)/compose train-reward --seed 0 --force
	$(BIN)/python -m composer.training.eval_reference

# Best-of-16 with lattice stitching against one candidate (the README's alignment table).
eval-alignment: $(STAMP)
	$(BIN)/python benchmarks/eval_alignment.py --output out/alignment

# Rebuild the `transformer` generator's checkpoint: parse music21's corpus (cached under
# ~/.cache/songc; ~8 min the first time), train (~13 min, the same bytes every run; one thread:
# on a shared 2-core machine a second torch thread waits for a busy core, 4x slower), measure
# (~8 min), write the model card.
CK := composer/generators/transformer/checkpoint
model: $(STAMP)
	$(BIN)/compose train --steps 600 --threads 1 --max-minutes 38 --no-resume --force
	$(BIN)/python benchmarks/bench_sampling.py --out $(CK)/bench_sampling.json
	$(BIN)/python benchmarks/eval_generators.py --out $(CK)/eval_generators.json
	$(BIN)/python -m composer.training.model_card

clean:
	rm -rf $(VENV) out .pytest_cache .mypy_cache .ruff_cache
