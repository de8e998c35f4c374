# Two commands do everything: `make run` and `make test`. Both start with an idempotent `make setup`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser run test screenshots bench bench-load bench-confidence soak lint format migrate seed clean

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

# The browser tests drive Debian's Chromium; Playwright cannot download a browser here.
browser:
	@command -v chromium >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "The browser tests need Chromium: sudo apt-get install chromium"; exit 1; fi; }

test: setup browser
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

screenshots: setup browser
	ORCH_SCREENSHOTS=docs $(BIN)/python -m pytest -q tests/test_browser.py

# Every performance benchmark three times, against its target (bench/suite.py); langgraph-cli for the comparison.
bench: setup
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,bench]'
	$(BIN)/python -m bench.suite

bench-load: setup
	$(BIN)/python -m bench.load --workers 1 && $(BIN)/python -m bench.load --workers 2

bench-confidence: setup
	$(BIN)/python -m bench.confidence

# 70% path C, 20% path A, 10% escalations for 10 minutes at the highest rate a ramp finds with p99 < 500 ms.
soak: setup
	$(BIN)/python -m bench.soak

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
