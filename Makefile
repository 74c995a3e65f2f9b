# ck — user-facing entry points. The build itself is CMake (build/); this file only orchestrates.
#   make demo    set up, build, and run the pipeline on a tiny synthetic Qwen3-VL model
#   make test    set up, build, and run unit + CLI + golden-parity tests
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
export CK_DEPS_DIR ?= $(CURDIR)/$(BUILD)/deps
# Debian's interpreter (python3-numpy from make deps), not whatever python3 comes first on PATH
PYTHON ?= /usr/bin/python3

.PHONY: all deps build test demo clean asan test-v8-vision-kernels test-v8-qwen3vl llamacpp-parity-full \
        regen-fixtures bench bench-kernels bench-encode bench-decode bench-bridge oracles serve-rss serve-load serve-nginx

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

# ck's strict kernels vs the oracle's own ggml on the 2B shapes (AVX2 build = pinned numerics, AVX-512 = speed
# anchor): GFLOP/s, ratios, FMA peak; markdown on stdout, JSON in $(BUILD)/bench/. CK_BENCH_LONG=1: longer run.
# Then ck's kernels vs naive scalar loops (ck-bench-kernels).
bench-kernels: build oracles
	CK_ORACLE_ISA=avx2 CK_LIVE_TARGETS=bench_vs_ggml bash tests/parity/kernels/build_live.sh $(BUILD) > /dev/null
	CK_ORACLE_ISA=avx512 CK_LIVE_TARGETS=bench_vs_ggml bash tests/parity/kernels/build_live.sh $(BUILD) > /dev/null
	mkdir -p $(BUILD)/bench
	$(BUILD)/parity-live/bench_vs_ggml-avx2 --json $(BUILD)/bench/kernels_vs_ggml_avx2.json
	$(BUILD)/parity-live/bench_vs_ggml-avx512 --json $(BUILD)/bench/kernels_vs_ggml_avx512.json
	$(BUILD)/bin/ck-bench-kernels

# ck-encode / ck-decode vs llama.cpp (portable avx2 pin and avx512 speed anchor) on Qwen3-VL-2B dimensions, same run,
# median of CK_BENCH_RUNS (3); tables in build/bench/{encode,decode}.md and .json. Needs both oracle builds.
bench-encode: build oracles  # 2b rows (encode.md), then the 8B tower at full depth, 512² and 1400² (encode-8b.md)
	$(PYTHON) scripts/bench_encode.py --build $(BUILD)
	$(PYTHON) scripts/bench_encode.py --build $(BUILD) --preset 8b --types f16 --sizes 512,1400

bench-decode: build oracles
	$(PYTHON) scripts/bench_decode.py --build $(BUILD)

bench-bridge: build oracles
	$(PYTHON) scripts/bench_bridge.py --build $(BUILD)

oracles:  # the portable avx2 pin and the avx512 speed anchor (idempotent)
	CK_ORACLE_ISA=avx512 bash tests/parity/oracle/build.sh >/dev/null
	bash tests/parity/oracle/build.sh >/dev/null

clean:
	rm -rf $(BUILD) build-asan

# ck-serve gates outside make test (scripts/serve_bench.py, docs/SERVE.md): RSS flat over 1000 bad requests; a
# bounded load test (200 requests, 8 concurrent, tiny model: 0 failures, p50/p99, tokens/s); the same through
# nginx (Debian's, installed here only) in front of 2 replicas, plus the JSONL batch client over both.
serve-rss: build
	$(PYTHON) scripts/serve_bench.py rss --build $(BUILD)

serve-load: build
	$(PYTHON) scripts/serve_bench.py load --build $(BUILD)

serve-nginx: build
	CK_DEPS_EXTRA=nginx bash scripts/deps.sh
	$(PYTHON) scripts/serve_bench.py nginx --build $(BUILD)

# Fast mode vs strict on the fixture models and images (tests/parity/fast_gate.py; docs/KERNELS.md "Fast kernels"):
# prefix cosine >= 0.9999 and the stated max relative error per mmproj type, the first 32 greedy tokens equal
# (a divergence only as a near-tie below the stated logit margin). CK_FAST_GATE_ARGS=--smoke: a bounded subset.
.PHONY: test-fast
test-fast: build
	$(PYTHON) tests/parity/fast_gate.py --build $(BUILD) $(CK_FAST_GATE_ARGS)

# Coverage-guided fuzzing (tests/fuzz, libFuzzer + ASan + UBSan, clang; build-fuzz/). Each target FUZZ_SECONDS.
FUZZ_SECONDS ?= 60
.PHONY: fuzz fuzz-long fuzz-smoke
fuzz: deps
	CK_FUZZ_SECONDS=$(FUZZ_SECONDS) JOBS=$(JOBS) bash scripts/fuzz.sh
fuzz-long: deps
	CK_FUZZ_SECONDS=$${CK_FUZZ_SECONDS:-3600} JOBS=$(JOBS) nice -n 19 bash scripts/fuzz.sh
fuzz-smoke: deps  # bounded (CI): the committed inputs once, then 15 s per target (9 targets: 135 s of fuzzing)
	CK_FUZZ_SEEDS_ONLY=1 JOBS=$(JOBS) bash scripts/fuzz.sh
	CK_FUZZ_SECONDS=15 JOBS=$(JOBS) bash scripts/fuzz.sh
.PHONY: regen-fixtures-checkpoints
regen-fixtures-checkpoints: build  # tests/parity/fixtures-checkpoints (4B/8B/32B widths) from the oracle
	bash tests/parity/checkpoints.sh regen $(BUILD)
