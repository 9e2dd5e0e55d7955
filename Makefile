# Make targets a consultant can guess. Everything installs into .venv/ (python3 -m venv).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CASE   ?= case_studies/clinic_group
OUT    ?= out/$(notdir $(CASE))
LAB_ARGS ?=
# the three sizes of the issue: 1M, 10M and (out of core, built once from tx_10m) 100M rows
BENCH_ARGS ?= --sets tx_1m tx_10m tx_100m

.PHONY: help install install-test demo test lab bench validate clean

help:
	@echo "make demo    - install, then run the demo engagement ($(CASE) -> $(OUT))"
	@echo "make test    - install with test extras, then run the test suite"
	@echo "make lab CASE=case_studies/<case> - JupyterLab on a workspace of that case's notebooks ($(OUT)/lab/)"
	@echo "make bench   - benchmarks on 1M, 10M and 100M rows (data generated once, cached in benchmarks/data/; BENCH_ARGS=... to choose)"
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

# cjm lab: workspace <out>/lab/ prepared for the case, JupyterLab rooted at the run folder
lab: install
	$(BIN)/cjm lab $(CASE) --out $(OUT) $(LAB_ARGS)

bench: install
	$(BIN)/python benchmarks/run.py $(BENCH_ARGS)

clean:
	rm -rf out .pytest_cache
