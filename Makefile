# gprof-id: `make run` records a built-in workload and summarises it; `make test` runs every test.
# Both install missing Debian packages first (as root), so a fresh Debian 12 machine needs nothing else.

BUILD      ?= build
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?= -DCMAKE_BUILD_TYPE=RelWithDebInfo
DEB_PACKAGES := g++ cmake make libcli11-dev libspdlog-dev nlohmann-json3-dev doctest-dev jq \
                libprotobuf-dev protobuf-compiler zlib1g-dev golang-go

.PHONY: all deps build run test test-unit test-tsan test-asan clean format

all: build

deps:
	@bash scripts/install-deps.sh $(DEB_PACKAGES)

$(BUILD)/build.ninja $(BUILD)/Makefile: CMakeLists.txt
	cmake -S . -B $(BUILD) $(CMAKE_ARGS)

build: deps
	cmake -S . -B $(BUILD) $(CMAKE_ARGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/cli/gprof-id demo

test: build test-unit test-tsan test-asan
	@echo "all test suites passed"

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The runtime's concurrency under ThreadSanitizer, and everything under ASan+UBSan.
test-tsan: deps
	cmake -S . -B $(BUILD)-tsan -DCMAKE_BUILD_TYPE=Debug -DGPROFID_SANITIZE=thread -DGPROFID_BUILD_CLI=OFF >/dev/null
	cmake --build $(BUILD)-tsan -j $(JOBS) --target runtime_tests
	cd $(BUILD)-tsan && TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ctest --output-on-failure -R runtime_tests

test-asan: deps
	cmake -S . -B $(BUILD)-asan -DCMAKE_BUILD_TYPE=Debug -DGPROFID_SANITIZE=address >/dev/null
	cmake --build $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS="detect_leaks=1" UBSAN_OPTIONS="print_stacktrace=1" ctest --output-on-failure -j $(JOBS)

format:
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

clean:
	rm -rf $(BUILD) $(BUILD)-tsan $(BUILD)-asan
