# Thin wrapper over CMake: `make demo` and `make test` are the README's two
# commands; everything else is for developers.
BUILD ?= build
PREFIX ?= /usr/local
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=

.PHONY: all deps configure build test ctest pytest demo install docs clean interop fuzz coverage

all: build

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt:
	@scripts/install-deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

configure: $(BUILD)/CMakeCache.txt

build: configure
	cmake --build $(BUILD) -j $(JOBS)

# The C tests (ctest), then the Python package's (pytest in $(BUILD)/pyenv,
# created with pinned versions: scripts/python-tests).
test: ctest pytest

ctest: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS)

pytest: configure
	scripts/python-tests $(BUILD)

demo: build
	@scripts/demo $(BUILD)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

docs: configure
	cmake --build $(BUILD) --target docs
	@echo "API reference: $(BUILD)/docs/html/index.html"

# Interop with Arrow's JavaScript library and Polars (npm packages cached
# outside the clone); not part of make test.
interop: build
	bash tests/interop/run.sh $(BUILD)

# libFuzzer targets (clang), each for FUZZ_SECONDS (default 60).
fuzz:
	FUZZ_SECONDS=$(or $(FUZZ_SECONDS),60) scripts/fuzz

# Line and branch coverage of src/ (gcc --coverage + gcovr).
coverage:
	scripts/coverage

clean:
	rm -rf $(BUILD)
