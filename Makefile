# Two commands on a fresh machine: `make demo` and `make test`. Everything else builds on `install`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo test lint format bench eval sandbox serve reference clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	# pip 23 backtracks into an unbuildable httpx with this stack (STACK_NOTES 0): upgrade first.
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: install
	$(VENV)/bin/icims-agents demo

test: install
	LANGSMITH_TEST_TRACKING=false $(VENV)/bin/pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	# The layers (docs/ARCHITECTURE.md): server > graphs > agents > tools, imports inside functions included.
	$(VENV)/bin/lint-imports

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

bench: install
	$(PY) -m evals.bench

eval: install
	$(PY) -m evals.retrieval

sandbox: install
	$(VENV)/bin/icims-agents sandbox --env-file .env.sandbox

serve: install
	$(VENV)/bin/icims-agents serve

# Regenerate the committed reference tables from ../shared/data (needs that folder).
reference: install
	$(PY) -m tools.reference.build

clean:
	rm -rf $(VENV) results var
