# Two commands do everything: `make run` and `make test`. Both start with an idempotent `make setup`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test bench bench-confidence lint format migrate seed clean

setup: $(STAMP)

# torch is installed first and on its own: it resolves to the CPU wheel, so nothing pulls in CUDA.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

run: setup
	$(BIN)/orchestrator serve --seed-demo

test: setup
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(BIN)/python -m bench.turn_latency

bench-confidence: setup
	$(BIN)/python -m bench.confidence

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff check --fix . && $(BIN)/ruff format .

migrate: setup
	$(BIN)/orchestrator migrate

seed: setup
	$(BIN)/orchestrator seed-demo

clean:
	rm -rf .data
