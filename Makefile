# bzmine — `make demo` runs the pipeline offline on the bundled sample; `make test` runs the tests.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SAMPLE := data/sample
DEMO_DB := data/demo.duckdb

.DEFAULT_GOAL := help
.PHONY: help venv demo test test-load lint fmt bench sample report clean notebooks docs mutate

help: ## List targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,notebooks]'
	touch $(STAMP)

venv: $(STAMP) ## Create the virtual environment and install bzmine with dev extras

demo: $(STAMP) ## Run the whole pipeline offline on the bundled sample (local server)
	$(BIN)/bzmine demo --corpus $(SAMPLE) --db $(DEMO_DB)

test: $(STAMP) ## Run the test suite (and list the 15 slowest tests)
	$(BIN)/python -m pytest -q --durations=15 $(PYTEST_ARGS)

test-load: $(STAMP) ## Run the test suite beside one CPU-bound process per core (as CI does)
	$(BIN)/python -m pytest -q --durations=15 --load $(PYTEST_ARGS)

notebooks: $(STAMP) ## Open the notebooks in JupyterLab (on the demo database unless BZMINE_DB is set)
	@test -f $(DEMO_DB) || $(MAKE) demo
	$(BIN)/jupyter lab notebooks/

docs: $(STAMP) ## Regenerate docs/review.md, docs/data-dictionary.md and the README's command examples (demo database)
	$(BIN)/python -c "import pathlib; from bzmine.parse.review import rules_doc; pathlib.Path('docs/review.md').write_text(rules_doc(), encoding='utf-8')"
	$(BIN)/python -m bzmine.dictionary --write docs/data-dictionary.md
	@test -f $(DEMO_DB) || $(MAKE) demo
	$(BIN)/bzmine upgrade --db $(DEMO_DB)
	$(BIN)/python -m tests.docs_examples --db $(DEMO_DB)

mutate: $(STAMP) ## Mutation testing: operator mutations one at a time against each file's tests (docs/testing.md)
	$(BIN)/python -m tests.mutate -j 2

lint: $(STAMP) ## ruff (lint and format check) + mypy
	$(BIN)/ruff check bzmine tests benchmarks
	$(BIN)/ruff format --check bzmine tests benchmarks
	$(BIN)/mypy bzmine

fmt: $(STAMP) ## Format code with ruff
	$(BIN)/ruff format bzmine tests benchmarks

bench: $(STAMP) ## Run benchmarks and rewrite benchmarks/RESULTS.md
	$(BIN)/python -m benchmarks.run

sample: $(STAMP) ## Regenerate the bundled sample corpus (deterministic)
	$(BIN)/bzmine synth --bugs 80 --seed 2024 --out $(SAMPLE)

clean: ## Remove the venv and generated databases (named files only)
	rm -f $(DEMO_DB) $(DEMO_DB).wal data/http_cache.sqlite
	rm -rf $(VENV) data/report
