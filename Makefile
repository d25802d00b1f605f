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
PKGS    := jansson

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS))
PKG_LIBS   := $(shell pkg-config --libs $(PKGS))

WARN     := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes
VEC_FLAGS    := -O3 -march=$(MARCH) -mprefer-vector-width=512 -fopenmp-simd
SCALAR_FLAGS := -O2 -march=$(MARCH) -fno-tree-vectorize -fno-tree-slp-vectorize -Wno-unknown-pragmas

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) -g -MMD -MP -pthread -fopenmp -Iengine $(PKG_CFLAGS) $(SAN) \
               -DSL_KERNEL_CFLAGS='"$(VEC_FLAGS)"'
CFLAGS  ?= -O2 -march=$(MARCH)
LDLIBS  := $(PKG_LIBS) -lm -pthread -fopenmp $(SAN)

ENGINE_SRC   := $(filter-out engine/main.c,$(wildcard engine/*.c)) $(wildcard engine/backends/*.c)
WORKLOAD_SRC := $(wildcard engine/workloads/*.c)
# Files whose own loops must run at the hardware's limit (calibration kernels).
HOT_SRC      := engine/calibrate.c

LIB_OBJ := $(ENGINE_SRC:%.c=$(BUILD)/%.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.scalar.o) \
           $(WORKLOAD_SRC:%.c=$(BUILD)/%.vector.o)
LIB     := $(BUILD)/libscalelab.a
ENGINE  := $(BUILD)/bin/scalelab-engine

TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(BUILD)/tests/unit
BENCH_BIN := $(BUILD)/bench/bench_engine

# Quiet by default; `make V=1` shows every command.
Q := $(if $(V),,@)
.PHONY: all test bench asan clean calibrate
all: $(ENGINE)

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(if $(filter $<,$(HOT_SRC)),$(VEC_FLAGS)) -c $< -o $@

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
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(TEST_BIN): $(TEST_SRC:%.c=$(BUILD)/%.o) $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS) $(shell pkg-config --libs criterion)

$(BUILD)/tests/%.o: tests/%.c
	@mkdir -p $(@D)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) $(shell pkg-config --cflags criterion) -c $< -o $@

$(BENCH_BIN): $(BUILD)/bench/bench_engine.o $(LIB)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The unit tests run in one Criterion binary; tests that start the engine CLI find it
# through SCALELAB_ENGINE.
test: $(TEST_BIN) $(ENGINE)
	SCALELAB_ENGINE=$(abspath $(ENGINE)) $(TEST_BIN) --jobs 1 $(TEST_ARGS)

bench: $(BENCH_BIN) $(ENGINE)
	$(BENCH_BIN) $(BENCH_ARGS)

calibrate: $(ENGINE)
	$(ENGINE) calibrate

asan:
	$(MAKE) BUILD=build-asan SAN='-fsanitize=address,undefined -fno-omit-frame-pointer' \
	    CFLAGS='-O1 -march=$(MARCH)' test

clean:
	rm -rf build build-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
