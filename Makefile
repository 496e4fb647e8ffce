# One verb per chore. The scripts are the source of truth; these are shortcuts.
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: dev release test test-all lint fmt stubtest bench layer quickstart

dev:            ## editable install, profiling build (fast to compile, release speed)
	. $(VENV)/bin/activate && maturin develop --profile profiling

release:        ## release wheel(s) into dist/ (zig keeps the wheel manylinux2014 / glibc 2.17)
	. $(VENV)/bin/activate && maturin build --release --locked --zig -o dist

quickstart:     ## install and run the main job on the built-in default
	scripts/quickstart

test:           ## fast tests (no services)
	$(PY) -m pytest -m "not integration and not slow"

test-all:       ## everything, services included (what CI runs)
	scripts/test-all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
	$(PY) -m ruff check python tests benches
	$(PY) -m ruff format --check python tests benches
	$(PY) -m mypy

fmt:
	cargo fmt --all
	$(PY) -m ruff format python tests benches
	$(PY) -m ruff check --fix python tests benches

stubtest:
	$(PY) -m mypy.stubtest recall_fast._native

bench:          ## benchmarks side by side with the baselines
	scripts/bench-smoke --full

layer:          ## Lambda layer zip, size budget checked
	$(PY) packaging/lambda_layer/build.py
