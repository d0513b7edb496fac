# Thin wrapper over meson/ninja. On a fresh Debian 12 machine `make run` and
# `make test` install what is missing (scripts/deps), build and run.
#
#   make          build (debug, AddressSanitizer + UBSan, -Werror) into build/
#   make test     build and run every test suite, the layering check and the
#                 benchmarks in their quick mode
#   make run      build and start the demonstration
#   make bench    optimised build into build-release/, full benchmarks,
#                 results in bench/results/latest.jsonl
#   make fuzz     clang/libFuzzer build into build-fuzz/, a short run of every
#                 harness over its seed corpus (FUZZ_SECONDS each, default 20)
#   make format   clang-format the C sources
#   make clean    remove the build directories

BUILD         ?= build
BUILD_RELEASE ?= build-release
BUILD_FUZZ    ?= build-fuzz
FUZZ_SECONDS  ?= 20
MESON_COMMON  = --werror

.PHONY: all build test run bench fuzz format clean

all: build

$(BUILD)/build.ninja:
	scripts/deps test
	meson setup $(BUILD) $(MESON_COMMON) -Dbuildtype=debugoptimized -Db_sanitize=address,undefined

build: $(BUILD)/build.ninja
	scripts/deps test
	ninja -C $(BUILD)

test: build
	scripts/check-layers
	meson test -C $(BUILD) --print-errorlogs --num-processes 2

run: build
	scripts/demo $(BUILD)

$(BUILD_RELEASE)/build.ninja:
	scripts/deps test
	meson setup $(BUILD_RELEASE) $(MESON_COMMON) -Dbuildtype=release -Db_ndebug=false

bench: $(BUILD_RELEASE)/build.ninja
	scripts/deps test
	ninja -C $(BUILD_RELEASE)
	scripts/bench $(BUILD_RELEASE)

$(BUILD_FUZZ)/build.ninja:
	scripts/deps fuzz test
	CC=clang meson setup $(BUILD_FUZZ) $(MESON_COMMON) -Dfuzz=true -Dbuildtype=debugoptimized

fuzz: $(BUILD_FUZZ)/build.ninja
	scripts/deps fuzz test
	ninja -C $(BUILD_FUZZ)
	scripts/fuzz-smoke $(BUILD_FUZZ) $(FUZZ_SECONDS)

format:
	scripts/deps dev
	git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(BUILD_RELEASE) $(BUILD_FUZZ)
