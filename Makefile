# ck — user-facing entry points. The build itself is CMake (build/); this file only orchestrates.
#   make demo    set up, build, and run the pipeline on a tiny synthetic Qwen3-VL model
#   make test    set up, build, and run unit + CLI + golden-parity tests
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
export CK_DEPS_DIR ?= $(CURDIR)/$(BUILD)/deps

.PHONY: all deps build test demo clean asan test-v8-vision-kernels test-v8-qwen3vl llamacpp-parity-full \
        regen-fixtures bench bench-kernels

all: build

deps: $(CK_DEPS_DIR)/.stamp
$(CK_DEPS_DIR)/.stamp: scripts/deps.sh
	bash scripts/deps.sh
	@touch $@

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCK_DEPS_DIR=$(CK_DEPS_DIR) $(CMAKE_FLAGS)

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

demo: build
	bash scripts/demo.sh $(BUILD)

# Sanitizer build (ASan + UBSan) of everything, then the whole test suite.
asan:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DCK_SANITIZE=address,undefined"

test-v8-vision-kernels: build
	bash tests/parity/gate.sh kernels $(BUILD)

test-v8-qwen3vl: build
	bash tests/parity/gate.sh qwen3vl $(BUILD)

llamacpp-parity-full: build
	bash tests/parity/parity_full.sh $(BUILD)

regen-fixtures: build
	bash tests/parity/regen_fixtures.sh $(BUILD)

bench: build
	bash scripts/bench.sh $(BUILD)

# ck's strict kernels vs a naive scalar loop, GB/s and GFLOP/s (not yet vs the oracle's ggml in the same run).
bench-kernels: build
	$(BUILD)/bin/ck-bench-kernels

clean:
	rm -rf $(BUILD) build-asan
