# gprof-id: `make run` records a built-in workload and summarises it; `make test` runs every test.
# Both install missing Debian packages first (as root), so a fresh Debian 12 machine needs nothing else.

BUILD      ?= build
JOBS       ?= $(shell nproc)
PREFIX     ?= /usr/local
# make test builds the main tree with -Werror (GPROFID_WERROR); `make WERROR=OFF test` to look
# past a warning. The sanitizer trees (Debug -O1 with instrumentation, whose warnings can differ
# from the main tree's) take SANITIZER_WERROR, off unless asked, so a warning there cannot hide
# what the sanitizers say.
WERROR           ?= ON
SANITIZER_WERROR ?= OFF
# ccache, when installed, makes rebuilds of the three trees cheap.
LAUNCHER   := $(if $(shell command -v ccache),-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPROFID_BUILD_BENCH=ON -DGPROFID_WERROR=$(WERROR) $(LAUNCHER)
DEB_PACKAGES := g++ cmake make python3 python3-jsonschema pkg-config libcli11-dev libspdlog-dev \
                nlohmann-json3-dev doctest-dev jq libprotobuf-dev protobuf-compiler zlib1g-dev libzstd-dev \
                golang-go libncurses-dev tmux libcpp-httplib-dev curl

.PHONY: all deps consumers build run test test-unit test-tsan test-asan clean format bench fuzz stress install

all: build

deps:
	@bash scripts/install-deps.sh $(DEB_PACKAGES)

# The real tools that read our exports (DevTools' trace engine, speedscope), pinned by
# tests/consumers/package-lock.json and installed from it into tests/consumers/node_modules.
CONSUMERS := tests/consumers
consumers: $(CONSUMERS)/node_modules/.package-lock.json

$(CONSUMERS)/node_modules/.package-lock.json: $(CONSUMERS)/package.json $(CONSUMERS)/package-lock.json
	@command -v npm >/dev/null || bash scripts/install-deps.sh nodejs npm
	cd $(CONSUMERS) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

$(BUILD)/build.ninja $(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

# Records the default workload (http) for a few seconds, then shows what changed between samples.
run: build
	$(BUILD)/cli/gprof-id record --workload http --duration 4s --interval 250ms --output $(BUILD)/run.jsonl --force
	$(BUILD)/cli/gprof-id diff $(BUILD)/run.jsonl --summary --format text

test: build test-unit test-tsan test-asan
	@echo "all test suites passed"

test-unit: build consumers
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The concurrent code (runtime, sampler) under ThreadSanitizer, and everything under ASan+UBSan.
test-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=Debug -DGPROFID_SANITIZE=thread -DGPROFID_BUILD_CLI=OFF -DGPROFID_WERROR=$(SANITIZER_WERROR) $(LAUNCHER) >/dev/null
	cmake --build $(BUILD)-tsan -j $(JOBS) --target runtime_tests recorder_tests
	cd $(BUILD)-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -R '^(runtime|recorder)_tests$$'

test-asan: deps consumers
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DGPROFID_SANITIZE=address -DGPROFID_WERROR=$(SANITIZER_WERROR) $(LAUNCHER) >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" ctest --output-on-failure -j $(JOBS) -E '^packaging_'

# Installs the headers, libraries, CMake package and pkg-config file a program needs (README).
install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

# Our benchmark suite side by side with Go's (bench/, docs/performance.md): -O2 build, both suites,
# one table, bench/results.json. BENCH_QUICK=1: a ~1-minute smoke run (results in build-bench/).
BENCH_OUT := $(if $(BENCH_QUICK),build-bench/results-quick.json,bench/results.json)
# The switch-heavy families also run from a build with -DGPROFID_TRACKING=OFF (build-bench-untracked),
# so the report shows what tracking costs, measured (rows *_untracked and tracking_*).
UNTRACKED_FAMILIES := spawn_park pingpong worker_pool
bench: deps
	cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPROFID_BUILD_BENCH=ON -DGPROFID_BUILD_CLI=OFF >/dev/null
	cmake -S . -B build-bench-untracked -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGPROFID_BUILD_BENCH=ON -DGPROFID_BUILD_CLI=OFF -DGPROFID_TRACKING=OFF >/dev/null
	cmake --build build-bench -j $(JOBS) --target gprofid_bench gprofid_bench_report
	cmake --build build-bench-untracked -j $(JOBS) --target gprofid_bench
	build-bench/bench/gprofid_bench $(if $(BENCH_QUICK),--quick) >build-bench/cpp.jsonl
	for f in $(UNTRACKED_FAMILIES); do \
	  build-bench-untracked/bench/gprofid_bench $(if $(BENCH_QUICK),--quick) --only $$f >>build-bench/cpp.jsonl || exit 1; done
	cd bench/go && GOPROXY=off go run . $(if $(BENCH_QUICK),-quick) >../../build-bench/go.jsonl
	build-bench/bench/gprofid_bench_report --cpp build-bench/cpp.jsonl --go build-bench/go.jsonl --out $(BENCH_OUT)

# libFuzzer (clang) over the recording readers (v1, v2), diff and export, FUZZ_SECONDS each, one at a time;
# new inputs go to build-fuzz/corpus/, crashes to build-fuzz/crash-* (docs/guarantees.md).
FUZZ_SECONDS ?= 60
fuzz:
	@bash scripts/install-deps.sh clang libclang-rt-14-dev nlohmann-json3-dev libprotobuf-dev protobuf-compiler zlib1g-dev cmake make
	cmake -S fuzz -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build-fuzz -j $(JOBS)
	for t in reader reader_v2 diff export; do mkdir -p build-fuzz/corpus/$$t && \
	  build-fuzz/$${t}_fuzzer -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -timeout=10 -rss_limit_mb=2048 \
	    -print_final_stats=1 -dict=fuzz/recording.dict -artifact_prefix=build-fuzz/ build-fuzz/corpus/$$t fuzz/corpus/$$t fuzz/regressions \
	    || exit 1; done

# The long stress: 1M goroutines spawned and retired across all workers while sampled at 1 kHz.
stress: build
	$(BUILD)/tests/reliability/reliability_stress --goroutines 1000000 --seconds 10

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD)-tsan $(BUILD)-asan build-bench build-bench-untracked build-fuzz
