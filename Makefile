# Two commands do everything: `make book` and `make test`. Both set up .venv first when it is missing or
# older than pyproject.toml, the single source of truth for dependencies.
PYTHON ?= python3
PARAMS ?= params/default.yml
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# The project's own bytecode, written before a build or a test run: where PYTHONDONTWRITEBYTECODE is set (as in
# some containers) every kernel, worker and build would otherwise compile each helper it imports again.
COMPILE := $(BIN)/python -m compileall -q src tests _ext

.PHONY: book test test-fast pdf data validate clean env notebooks

book: $(STAMP)
	$(COMPILE)
	$(BIN)/mg-book --params $(PARAMS)

# The whole book as one PDF (a single-page HTML build printed by Debian's Chromium).
pdf: $(STAMP)
	$(COMPILE)
	$(BIN)/mg-book --params $(PARAMS) --pdf

test: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest

# Each chapter as an .ipynb for plain papermill (parameters cell generated from the schema), in _build/ipynb.
notebooks: $(STAMP)
	$(BIN)/python -m helpers.pipeline.execute _build/ipynb

# The contributor's inner loop: every test but the book builds and the slow ones (R re-runs, clusters,
# generators; tests/conftest.py lists them). `make test` before asking for review.
test-fast: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m pytest -m "not book and not slow"

# Validate the input data named by the parameters file, without building.
validate: $(STAMP)
	$(BIN)/mg-validate --params $(PARAMS)

# Regenerate the synthetic cohort (deterministic: the committed file must not change).
data: $(STAMP)
	$(BIN)/python -m helpers.synthetic.cohort

env: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf _build
