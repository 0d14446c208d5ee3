# The two commands of the README. Both set everything up first and are quick the second time.
#   make run    set up .venv with the demo models, then start llmbench
#   make test   set up .venv, then lint (ruff, ruff format --check, mypy) and run the test suite
# GPU builds: make run LLAMA_BACKEND=cuda   (or metal); see README.md.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
LLAMA_BACKEND ?= cpu
STAMP := $(VENV)/.installed-$(LLAMA_BACKEND)

ifeq ($(LLAMA_BACKEND),cuda)
  LLAMA_CMAKE_ARGS := -DGGML_CUDA=on
else ifeq ($(LLAMA_BACKEND),metal)
  LLAMA_CMAKE_ARGS := -DGGML_METAL=on
else ifeq ($(LLAMA_BACKEND),cpu)
  LLAMA_CMAKE_ARGS :=
else
  $(error LLAMA_BACKEND must be cpu, cuda or metal, not '$(LLAMA_BACKEND)')
endif

.PHONY: setup run test lint clean llama-tools

setup: $(STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstalls only when pyproject.toml changes or the backend changes. A GPU backend forces
# llama-cpp-python to be rebuilt from source once with the matching CMAKE_ARGS.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	rm -f $(VENV)/.installed-*
	@if [ -n "$(LLAMA_CMAKE_ARGS)" ]; then \
	  echo "Building llama-cpp-python with CMAKE_ARGS=$(LLAMA_CMAKE_ARGS)"; \
	  CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" $(BIN)/python -m pip install --force-reinstall --no-deps \
	    --no-binary llama-cpp-python --no-cache-dir "llama-cpp-python>=0.3.36,<0.4"; \
	fi
	$(BIN)/python -m pip install --quiet -e '.[demo,dev]'
	touch $@

run: setup
	$(BIN)/llmbench $(ARGS)

lint: setup
	$(BIN)/ruff check tui engines profiles tests benchmarks
	$(BIN)/ruff format --check tui engines profiles tests benchmarks
	$(BIN)/mypy engines profiles tui

# pytest exits 5 when it collects no tests: that alone is not a failure.
test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS) || [ $$? -eq 5 ]

# llama.cpp's own tools (llama-bench, llama-perplexity, llama-server) in .llama-tools/bin,
# built from the vendored llama.cpp of the installed llama-cpp-python (about 10 minutes).
llama-tools: setup
	bash benchmarks/build_llama_tools.sh $(BIN)/python

clean:
	rm -rf $(VENV)
