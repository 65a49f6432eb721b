# The two commands a newcomer needs:  make lab  (the cookbook)  and  make test  (every test).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

.PHONY: lab test bench sandbox clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## JupyterLab on the cookbook; runs on the offline sandbox when no API key is set.
lab: $(BIN)/.installed
	$(BIN)/jupyter lab notebooks/

## Every test: unit, real SDK clients against the sandbox over HTTP, real kernels running the notebooks.
test: $(BIN)/.installed
	$(BIN)/python -m pytest

## Benchmarks: overhead ratios against a baseline measured in the same run.
bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

## The sandbox provider as an HTTP service (prints its base URLs).
sandbox: $(BIN)/.installed
	$(BIN)/python -m llmcost_magic.sandbox

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
