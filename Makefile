# Two commands set everything up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.docs-installed

.PHONY: demo seed-example native lint test test-fast bench docs install clean

$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e ".[test,data,onnx,explain,native]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/lstmkit forecast

seed-example: $(STAMP)
	$(PY) examples/seed_next_value.py

native: $(STAMP)
	$(PY) -m lstmkit.nn.fused.build

# ruff (lint and format) and mypy, configured in pyproject.toml
lint: $(STAMP)
	$(VENV)/bin/ruff check src tests bench examples docs
	$(VENV)/bin/ruff format --check src tests bench examples docs
	$(VENV)/bin/mypy

test: $(STAMP) native lint
	$(PY) -m pytest -q

test-fast: $(STAMP) native
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP) native
	$(PY) bench/layers.py
	$(PY) bench/variants.py --threads 1

$(DOCS_STAMP): $(STAMP)
	$(PIP) install --quiet -c constraints.txt -e ".[docs]"
	touch $(DOCS_STAMP)

# the site (guides, architecture, API reference from the docstrings) in site/; any warning fails
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --site-dir site

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache site
