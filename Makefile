# The two commands a newcomer needs:  make lab  (the cookbook)  and  make test  (every test).
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin

OLDEST  = .venv-oldest
# The oldest SDK releases we support: they send through httpx (current ones through httpx2).
OLDEST_SDKS = 'openai==1.40.0' 'anthropic==0.40.0' 'httpx==0.27.2'

.PHONY: lab test test-newest test-oldest bench notebooks sandbox clean

# torch first, pinned to the CPU build this machine kind ships (unpinned, pip would fetch GBs of CUDA).
TORCH  ?= torch==2.13.0

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The cookbook alone: the package, both SDKs, the offline embedder, JupyterLab (no torch, no test tools).
$(BIN)/.lab-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cookbook]'
	touch $@

# Everything the tests need, LLMLingua's torch included.
$(BIN)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet '$(TORCH)'
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

## JupyterLab on the cookbook; runs on the offline sandbox when no API key is set.
lab: $(BIN)/.lab-installed
	$(BIN)/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

$(OLDEST)/bin/.installed: pyproject.toml
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --upgrade pip
	$(OLDEST)/bin/python -m pip install --quiet -e '.[semantic]' $(OLDEST_SDKS) pytest pytest-asyncio
	touch $@

## Every test: unit, real SDK clients against the sandbox over HTTP, real kernels running the notebooks,
## then the seam's tests again against the oldest supported SDK releases.
test: test-newest test-oldest

test-newest: $(BIN)/.installed
	$(BIN)/python -m pytest

test-oldest: $(OLDEST)/bin/.installed
	$(OLDEST)/bin/python -m pytest tests/test_seam.py -p no:cacheprovider

## Benchmarks: overhead ratios against a baseline measured in the same run.
bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks

## Re-execute the cookbook in place on the sandbox (committed outputs): every lesson, then its Korean twin (notebooks/ko/, regenerated from it).
notebooks: $(BIN)/.installed
	$(BIN)/python tools/execute_notebooks.py

## The sandbox provider as an HTTP service (prints its base URLs).
sandbox: $(BIN)/.installed
	$(BIN)/python -m llmcost_magic.sandbox

clean:
	rm -rf $(VENV) $(OLDEST) build *.egg-info .pytest_cache
