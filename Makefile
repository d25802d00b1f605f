# scalelab — one entry point: make, make test, make bench, make asan, make clean.
#
# Workload files are compiled three times: once for their tables and set-up code, and
# twice for their kernels (SL_KERNEL_BUILD): scalar (auto-vectorisation off) and vector
# (-O3, omp simd, the host's widest vectors). The serial backend runs the scalar kernels,
# simd and the parallel backends the vector ones (scalar on request).

CC      ?= gcc
MARCH   ?= native
BUILD   ?= build
SAN     ?=
PKGS    := jansson hwloc

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

# MPI is optional: with OpenMPI's development files (pkg-config ompi-c) the mpi backend's rank
# program is built and the backend is compiled in as available; without them everything else
# builds and `mpi` is listed as unavailable, naming the packages to install.
HAVE_MPI := $(shell pkg-config --exists ompi-c 2>/dev/null && echo 1)
MPI_CFLAGS := $(if $(HAVE_MPI),$(shell pkg-config --cflags ompi-c))
MPI_LIBS   := $(if $(HAVE_MPI),$(shell pkg-config --libs ompi-c))
MPI_RANK   := $(if $(HAVE_MPI),$(BUILD)/bin/scalelab-mpi-rank)

WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes
VEC_FLAGS    := -O3 -march=$(MARCH) -mprefer-vector-width=512 -fopenmp-simd
SCALAR_FLAGS := -O2 -march=$(MARCH) -fno-tree-vectorize -fno-tree-slp-vectorize -Wno-unknown-pragmas

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -MMD -MP -pthread -fopenmp -Iengine $(PKG_CFLAGS) $(SAN) \
               -DSL_KERNEL_CFLAGS='"$(VEC_FLAGS)"'
CFLAGS  ?= -O2 -march=$(MARCH)
LDLIBS  := $(PKG_LIBS) -lm -pthread -fopenmp $(SAN)

ENGINE_SRC   := $(filter-out engine/main.c engine/mpirank.c,$(wildcard engine/*.c)) $(wildcard engine/backends/*.c)
WORKLOAD_SRC := $(wildcard engine/workloads/*.c)
# Files whose own loops must run at the hardware's limit (calibration kernels).
HOT_SRC      := engine/calibrate.c

LIB_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.scalar.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.vector.o)
LIB     := $(BUILD)/libscalelab.a
ENGINE  := $(BUILD)/bin/scalelab-engine

# The server: libmicrohttpd for HTTP, SQLite for the store (db/), the engine's library for
# jobs, catalogues and analysis. The SQL schema and the OpenAPI document are embedded as C
# strings generated from db/schema.sql and docs/openapi.json.
SERVER_PKGS   := libmicrohttpd sqlite3
SERVER_CFLAGS := $(shell pkg-config --cflags $(SERVER_PKGS)) -Iserver -Idb -I$(BUILD)/gen
SERVER_LIBS   := $(shell pkg-config --libs $(SERVER_PKGS))
SERVER_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard server/*.c))
STORE_OBJ     := $(BUILD)/db/store.o
GEN           := $(BUILD)/gen/schema_sql.h $(BUILD)/gen/openapi_json.h
SERVER        := $(BUILD)/bin/scalelab-server

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(BUILD)/tests/unit
BENCH_BIN := $(BUILD)/bench/bench_engine
BENCH_STORE := $(BUILD)/bench/bench_store
HELLO_MHD := $(BUILD)/bench/hello_mhd

# The dashboard's JavaScript libraries come from npm (package.json pins them, package-lock.json
# fixes the tree): `npm ci` fills node_modules when it is missing or older than the lock (the
# stamp records when it last did), and their browser builds are copied to static/vendor/
# (git-ignored), which the page loads with <script> tags: no CDN, no build step.
NPM_STAMP := node_modules/.installed
VENDOR    := static/vendor/chart.umd.js static/vendor/chartjs-chart-error-bars.umd.js
CHROMIUM  ?= /usr/bin/chromium

# The Python routes' compiled extensions (programs/python/ext/): the Cython + OpenMP kernel
# from its .pyx (cython3) and the pybind11 C++ kernel, for Debian's python3 (whose packages
# the routes use). Built when cython3 / pybind11 and the Python headers are there; otherwise
# those two routes are listed as unavailable, naming the package to install.
PYTHON     ?= /usr/bin/python3
PY_SUFFIX  := $(shell $(PYTHON)-config --extension-suffix 2>/dev/null)
PY_INC     := $(shell $(PYTHON)-config --includes 2>/dev/null)
PYBIND_INC := $(shell $(PYTHON) -m pybind11 --includes 2>/dev/null)
PY_EXT_DIR := programs/python/ext
PY_EXTS    := $(if $(PY_SUFFIX),$(if $(shell command -v cython3),$(PY_EXT_DIR)/pi_cython$(PY_SUFFIX)) \
              $(if $(PYBIND_INC),$(PY_EXT_DIR)/pi_pybind$(PY_SUFFIX)))

# Quiet by default; `make V=1` shows every command.
Q := $(if $(V),,@)
.PHONY: all programs run check vendor test test-unit test-api test-browser test-multihost test-fuzz fuzz test-fresh screenshots bench bench-engine bench-store bench-server bench-callgrind bench-programs bench-export asan clean calibrate \
        test-docker lint-docker
all: $(ENGINE) $(SERVER) $(MPI_RANK) vendor programs
vendor: $(VENDOR)
programs: $(PY_EXTS)

$(PY_EXT_DIR)/pi_cython$(PY_SUFFIX): programs/python/pi_cython.pyx
	@mkdir -p $(@D) $(BUILD)/python
	@$(if $(Q),echo "  CYTHON  $<")
	$(Q)cython3 -3 --fast-fail $< -o $(BUILD)/python/pi_cython.c 2>$(BUILD)/python/cython.log || { cat $(BUILD)/python/cython.log; exit 1; }
	$(Q)$(CC) -O2 -fPIC -shared -fopenmp -ffp-contract=off $(PY_INC) $(BUILD)/python/pi_cython.c -o $@
$(PY_EXT_DIR)/pi_pybind$(PY_SUFFIX): programs/python/pi_pybind.cpp
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CXX     $<")
	$(Q)$(CXX) -O2 -fPIC -shared -std=c++17 $(PYBIND_INC) $< -o $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@
static/vendor/chart.umd.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CP      $@")
	$(Q)cp node_modules/chart.js/dist/chart.umd.js $@
static/vendor/chartjs-chart-error-bars.umd.js: $(NPM_STAMP)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CP      $@")
	$(Q)cp node_modules/chartjs-chart-error-bars/build/index.umd.js $@

# A text file as a C string constant: $(call embed,NAME). '?' is escaped so that no "??x"
# becomes a trigraph under -std=c11; written to a temporary first, so an interrupted build
# cannot leave a half header that looks up to date.
define embed
	@mkdir -p $(@D)
	$(Q){ printf 'static const char $(1)[] =\n'; \
	  sed 's/\r$$//; s/\\/\\\\/g; s/"/\\"/g; s/?/\\?/g; s/^/    "/; s/$$/\\n"/' $<; \
	  printf '    ;\n'; } > $@.tmp && mv $@.tmp $@
endef
$(BUILD)/gen/schema_sql.h: db/schema.sql
	$(call embed,schema_sql)
$(BUILD)/gen/openapi_json.h: docs/openapi.json
	$(call embed,openapi_json)

$(SERVER_OBJ) $(STORE_OBJ) $(TEST_SRC:%.c=$(BUILD)/%.o) $(BUILD)/bench/bench_store.o \
  $(BUILD)/bench/hello_mhd.o: EXTRA_CFLAGS := $(SERVER_CFLAGS)
$(SERVER_OBJ) $(STORE_OBJ): $(GEN)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(if $(filter $<,$(HOT_SRC)),$(VEC_FLAGS)) -c $< -o $@

$(BUILD)/%.scalar.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (scalar kernels)")
	$(Q)$(CC) $(BASE_CFLAGS) $(SCALAR_FLAGS) -fno-openmp -DSL_KERNEL_BUILD -DSL_KERNEL_VECTOR=0 -c $< -o $@

$(BUILD)/%.vector.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (vector kernels)")
	$(Q)$(CC) $(BASE_CFLAGS) $(VEC_FLAGS) -DSL_KERNEL_BUILD -DSL_KERNEL_VECTOR=1 -c $< -o $@

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(AR) rcs $@ $^

$(ENGINE): $(BUILD)/engine/main.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(SERVER): $(SERVER_OBJ) $(STORE_OBJ) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS) $(SERVER_LIBS)

# One MPI rank of the mpi backend (engine/mpirank.c): the only program linked with MPI.
$(BUILD)/engine/mpirank.o: EXTRA_CFLAGS := $(MPI_CFLAGS)
$(BUILD)/engine/backends/mpi.o: EXTRA_CFLAGS := $(if $(HAVE_MPI),-DHAVE_MPI)
$(MPI_RANK): $(BUILD)/engine/mpirank.o $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS) $(MPI_LIBS)

# The server's pure request checks are unit-tested too (the rest of server/ through the API),
# and events.c, the live events hub.
TEST_SERVER_OBJ := $(addprefix $(BUILD)/server/,guard.o reply.o jsonin.o accesslog.o programs.o events.o)
$(TEST_BIN): $(TEST_SRC:%.c=$(BUILD)/%.o) $(TEST_SERVER_OBJ) $(STORE_OBJ) $(LIB)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS) $(SERVER_LIBS) $(shell pkg-config --libs criterion)

$(BUILD)/tests/%.o: tests/%.c $(GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(EXTRA_CFLAGS) $(shell pkg-config --cflags criterion) -c $< -o $@

$(BENCH_BIN): $(BUILD)/bench/bench_engine.o $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BENCH_STORE): $(BUILD)/bench/bench_store.o $(STORE_OBJ) $(LIB)
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS) $(SERVER_LIBS)

$(HELLO_MHD): $(BUILD)/bench/hello_mhd.o
	@mkdir -p $(@D)
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(SERVER_LIBS)

# Unit tests (one Criterion binary; tests that start the engine find it through
# SCALELAB_ENGINE), then the API tests against a real server (node --test), then the
# dashboard in a headless Chromium against a real server (node --test, playwright-core).
test: test-unit test-api test-browser test-fuzz
test-unit: $(TEST_BIN) $(ENGINE) $(MPI_RANK)
	SCALELAB_ENGINE=$(abspath $(ENGINE)) $(TEST_BIN) --jobs 1 $(TEST_ARGS)
test-api: $(ENGINE) $(SERVER) $(MPI_RANK)
	SCALELAB_ENGINE=$(abspath $(ENGINE)) SCALELAB_SERVER=$(abspath $(SERVER)) \
	  node --test tests/api/*.test.mjs
test-browser: $(ENGINE) $(SERVER) $(MPI_RANK) $(VENDOR)
	SCALELAB_ENGINE=$(abspath $(ENGINE)) SCALELAB_SERVER=$(abspath $(SERVER)) CHROMIUM=$(CHROMIUM) \
	  node --test tests/browser/*.test.mjs

# An mpi sweep across two hosts made for the test (network namespaces, veth, sshd; root).
test-multihost: $(ENGINE) $(MPI_RANK)
	SCALELAB_ENGINE=$(abspath $(ENGINE)) bash tests/multihost/run.sh

# Fuzzing with clang's libFuzzer (Debian: clang, libclang-rt-14-dev): the server's request
# path (raw bytes to a real daemon, tests/fuzz/fuzz_request.c) and the job parser behind the
# strict JSON entry (fuzz_job.c). The code they aim at is compiled here with clang, libFuzzer's
# coverage, ASan and UBSan; the rest links from the normal build. Each target runs FUZZ_TIME
# seconds from its committed seed corpus (tests/fuzz/corpus/NAME/); `make test` runs them for
# 20 s each, `make fuzz FUZZ_TIME=600` for longer. Findings go to $(FUZZ)/artifacts/.
FUZZ_CC     ?= clang
FUZZ        := build-fuzz
FUZZ_TIME   ?= 20
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -O1 -MMD -MP -pthread -Iengine $(PKG_CFLAGS) \
               $(SERVER_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link
# What each target runs of ours (instrumented); the rest links from the normal build.
FUZZ_JOB_OBJ := $(addprefix $(FUZZ)/,tests/fuzz/fuzz_job.o server/jsonin.o server/reply.o engine/job.o)
FUZZ_REQ_OBJ := $(addprefix $(FUZZ)/,tests/fuzz/fuzz_request.o server/http.o server/guard.o \
                  server/reply.o server/jsonin.o server/static.o server/accesslog.o \
                  server/metrics.o engine/job.o)
FUZZ_BINS   := $(FUZZ)/fuzz_job $(FUZZ)/fuzz_request
FUZZ_LINK    = $(Q)$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $^ -o $@ $(PKG_LIBS) $(SERVER_LIBS) -lgomp -lm -pthread
.SECONDARY: $(FUZZ_JOB_OBJ) $(FUZZ_REQ_OBJ)

$(FUZZ)/%.o: %.c $(GEN)
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $< (fuzz)")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
$(FUZZ)/fuzz_job: $(FUZZ_JOB_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(FUZZ_LINK)
$(FUZZ)/fuzz_request: $(FUZZ_REQ_OBJ) $(BUILD)/server/queue.o $(BUILD)/server/events.o $(STORE_OBJ) $(LIB)
	@$(if $(Q),echo "  LD      $@")
	$(FUZZ_LINK)
fuzz test-fuzz: $(FUZZ_BINS)
	bash tests/fuzz/run.sh $(FUZZ) $(FUZZ_TIME)

# Start the service (what ./setup.sh run does once the packages are there).
run: all
	$(SERVER) $(RUN_ARGS)

# Static checks: every shell script (shellcheck, when installed), both Dockerfiles, and the
# dashboard's modules parse.
SHELL_SCRIPTS := setup.sh .ci/run bench/bench_server.sh bench/callgrind_health.sh tests/fuzz/run.sh docker/test.sh tests/fresh/run.sh tools/debian-rootfs.sh \
                 tests/multihost/run.sh
check: lint-docker
	@if command -v shellcheck >/dev/null; then shellcheck $(SHELL_SCRIPTS) && echo "shellcheck: ok"; \
	 else echo "shellcheck: not installed (apt-get install shellcheck), skipped"; fi
	@# as .mjs copies: Node before 20.19 reads a .js file as CommonJS and trips on import
	@t=$$(mktemp -d); for f in static/app.js static/js/*.js; do \
	   cp $$f $$t/m.mjs && node --check $$t/m.mjs || { echo "in $$f"; rm -rf $$t; exit 1; }; \
	 done; rm -rf $$t; echo "node --check static/: ok"

# The README's set-up promise on a fresh Debian 12 root (debootstrap + chroot): ./setup.sh run
# and ./setup.sh test from the checkout as a clone has it. Needs root and the network; not in `test`.
test-fresh:
	bash tests/fresh/run.sh

# The browser tests again, refreshing the README's screenshots in docs/screenshots/.
screenshots:
	$(MAKE) test-browser SCALELAB_UPDATE_SCREENSHOTS=1

# Speed goals, each printed next to its target. bench-server needs wrk and curl.
bench: bench-engine bench-store bench-server bench-programs bench-export
bench-engine: $(BENCH_BIN) $(ENGINE) $(MPI_RANK)
	$(BENCH_BIN) $(BENCH_ARGS)
bench-store: $(BENCH_STORE)
	$(BENCH_STORE)
# Programs: scalelab's timing against hyperfine's on the same commands, and the Python pi
# group's speedups (needs hyperfine and Debian's python3 packages: ./setup.sh bench).
bench-programs: $(ENGINE) programs
	SCALELAB_ENGINE=$(abspath $(ENGINE)) $(PYTHON) bench/bench_programs.py
bench-server: $(SERVER) $(ENGINE) $(HELLO_MHD)
	SCALELAB_SERVER=$(abspath $(SERVER)) SCALELAB_ENGINE=$(abspath $(ENGINE)) \
	  HELLO_MHD=$(abspath $(HELLO_MHD)) bash bench/bench_server.sh

bench-export: $(SERVER) $(ENGINE)
	SCALELAB_SERVER=$(abspath $(SERVER)) SCALELAB_ENGINE=$(abspath $(ENGINE)) node bench/bench_export.mjs

# Instructions per GET /api/health, scalelab-server against bare libmicrohttpd, under
# valgrind's callgrind (repeatable where req/s on a shared machine is not). Built apart for
# x86-64-v3: valgrind 3.19 cannot decode the AVX-512 code -march=native may produce.
bench-callgrind:
	$(MAKE) BUILD=build-cg MARCH=x86-64-v3 build-cg/bin/scalelab-server build-cg/bin/scalelab-engine \
	    build-cg/bench/hello_mhd
	SCALELAB_SERVER=$(abspath build-cg/bin/scalelab-server) \
	  SCALELAB_ENGINE=$(abspath build-cg/bin/scalelab-engine) \
	  HELLO_MHD=$(abspath build-cg/bench/hello_mhd) bash bench/callgrind_health.sh

calibrate: $(ENGINE)
	$(ENGINE) calibrate

# The container image (docker/): test-docker builds docker/Dockerfile with podman from a local
# Debian 12 base and checks the running container (root, several minutes; not in `test`);
# lint-docker runs dockerfilelint (package.json pins it) on both Dockerfiles.
test-docker:
	bash docker/test.sh
lint-docker: $(NPM_STAMP)
	npx dockerfilelint docker/Dockerfile docker/Dockerfile.cuda

# ASan + UBSan builds (build-asan/) of everything, then the unit tests and the API suite
# against the sanitized server and engine. A sanitizer report ends the process that found
# it (UBSan included: halt_on_error), so it fails the test that drove it; the reports are in
# that test's output. The engine gets the *SAN_OPTIONS through its environment allow-list.
# handle_segv=0: the crash workload's deliberate SIGSEGV must stay a signal (what the tests
# check); memory bounds are not asserted under ASan (its quarantine holds freed memory).
ASAN_ENV := ASAN_OPTIONS=abort_on_error=0:detect_leaks=1:halt_on_error=1:handle_segv=0 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            LSAN_OPTIONS=suppressions=$(abspath tests/lsan.supp)
# -O1 makes gcc's -Wformat-truncation guess at sizes it cannot know: a warning, not an error.
ASAN_CFLAGS := -O1 -march=$(MARCH) -Wno-error=format-truncation
asan:
	$(MAKE) BUILD=build-asan SAN='-fsanitize=address,undefined -fno-omit-frame-pointer' \
	    CFLAGS='$(ASAN_CFLAGS)' all build-asan/tests/unit
	$(ASAN_ENV) $(MAKE) BUILD=build-asan SAN='-fsanitize=address,undefined -fno-omit-frame-pointer' \
	    CFLAGS='$(ASAN_CFLAGS)' test-unit test-api

clean:
	rm -rf build build-asan build-fuzz build-cg static/vendor $(PY_EXT_DIR)

-include $(shell find $(BUILD) $(FUZZ) -name '*.d' 2>/dev/null)
