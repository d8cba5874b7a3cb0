# Thin wrapper over CMake.  `make run` and `make test` are the README's two
# commands; both install what is missing first.

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CONFIG     ?=

.PHONY: all deps build build-asan run test test-release bench rpm format clean

all: build

deps:
	@./.ci/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

build-asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWEIR_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

# Starts the broker in the foreground on its embedded default config
# (PLAINTEXT on 127.0.0.1:9092, data under ./var), or on CONFIG=file.
run: build
	./$(BUILD)/weir $(if $(CONFIG),-c $(CONFIG),)

# Every test, under AddressSanitizer and UndefinedBehaviorSanitizer; the
# release build is compiled too so both configurations stay warning-free.
test: build build-asan
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j 2

test-release: build
	cd $(BUILD) && ctest --output-on-failure -j 2

bench: build
	./tests/bench/run $(BUILD)

# The binary and source RPMs (packaging/rpm/weir.spec), built from the working
# tree with rpmbuild (unit tests in %check) and checked with rpmlint:
# $(RPM_TOPDIR)/RPMS, /SRPMS.  RPM_FLAGS=--without-tests skips the tests.
RPM_TOPDIR ?= build-rpm
RPM_FLAGS  ?=
rpm: deps
	./packaging/rpm/build-rpm --topdir $(RPM_TOPDIR) $(RPM_FLAGS)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(RPM_TOPDIR)
