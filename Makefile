# `make run` and `make test` each set everything up on a fresh machine.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
BENCH_STAMP := $(VENV)/.bench-installed-stamp

.PHONY: install run test lint typecheck unit clean bench bench-quick

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/incidents serve

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# worksteal: an idle worker takes half of the other's remaining tests, so a file of slow
# tests (a browser's, a server's) no longer runs alone at the end as whole files did.
test: lint typecheck
	$(BIN)/pytest -n 2 --dist worksteal

unit: $(STAMP)
	$(BIN)/pytest tests/domain -q

$(BENCH_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	@touch $(BENCH_STAMP)

# The benchmark suite (bench/README.md): full sizes, 3 runs each; about 20 minutes here.
# Then the incident page's render time beside the JSON timeline (bench/web_render.py).
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench.suite
	$(BIN)/python -m bench.web_render

# The same workloads at small sizes, 3 runs each: figures printed, never asserted.
bench-quick: $(BENCH_STAMP)
	$(BIN)/python -m bench.suite --quick
	$(BIN)/python -m bench.web_render --quick

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
