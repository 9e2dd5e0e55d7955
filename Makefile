# Make targets a consultant can guess. Everything installs into .venv/ (python3 -m venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CASE   ?= case_studies/clinic_group
OUT    ?= out/$(notdir $(CASE))
# JupyterLab refuses to run as root unless told (containers, CI machines)
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

.PHONY: help install install-test demo test lab bench validate clean

help:
	@echo "make demo    - install, then run the demo engagement ($(CASE) -> $(OUT))"
	@echo "make test    - install with test extras, then run the test suite"
	@echo "make lab     - JupyterLab on the project's own kernel, opened in notebooks/"
	@echo "make bench   - benchmarks (scaled data generated once, cached in benchmarks/data/)"
	@echo "make validate CASE=case_studies/<case> - data-quality check of one case"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

demo: install
	$(BIN)/cjm validate $(CASE)
	$(BIN)/cjm run $(CASE) --out $(OUT)

validate: install
	$(BIN)/cjm validate $(CASE)

test: install-test
	$(BIN)/python -m pytest -q

lab: install
	$(BIN)/python -m ipykernel install --sys-prefix --name cjm-toolkit --display-name "CJM toolkit"
	$(BIN)/jupyter lab --notebook-dir=notebooks $(LAB_ARGS)

bench: install
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf out .pytest_cache
