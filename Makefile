# hearth: `make` builds the CLI and the core library; `make test` runs every test.
CC      ?= cc
CLANG   ?= clang
ARM64_CC ?= aarch64-linux-gnu-gcc
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -std=c11 -Wall -Wextra -Wshadow -Wno-unused-parameter
INC     := -Isrc -Inative
BUILD   ?= build
SAN     ?=

# The core, by folder: src/ the engine, generation and chat loops; src/model/ what a model file
# holds (GGUF, the type and architecture tables); src/tokenizer/, src/jinja/ (chat templates); src/grammar/ (constrained output);
# src/cpu/ the CPU backend (forward pass, kernels); src/gpu/ the WebGPU backend's plan.
CORE_SRC   := $(sort $(wildcard src/*.c src/model/*.c src/tokenizer/*.c src/jinja/*.c src/grammar/*.c src/cpu/*.c))
# The GPU backend's plan (src/gpu, docs/webgpu.md); its WGSL kernels are embedded by tools/embed_wgsl.mjs.
CORE_SRC   += $(sort $(filter-out src/gpu/wgsl_sources.c,$(wildcard src/gpu/*.c)) src/gpu/wgsl_sources.c)
NATIVE_SRC := $(filter-out native/main.c,$(sort $(wildcard native/*.c)))
# hearth serve needs libmicrohttpd; SERVE=0 builds the CLI without it (the ARM64 cross build: Debian has
# no ARM64 libmicrohttpd beside the cross compiler).
SERVE ?= 1
ifeq ($(SERVE),0)
NATIVE_SRC := $(filter-out native/serve_%.c native/cmd_serve.c,$(NATIVE_SRC))
CFLAGS_SERVE := -DHEARTH_NO_SERVE
LIBS_SERVE :=
else
LIBS_SERVE := -lmicrohttpd
endif
TEST_SRC   := $(sort $(wildcard tests/unit/test_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ   := $(call obj,$(CORE_SRC))
NATIVE_OBJ := $(call obj,$(NATIVE_SRC))
TESTS      := $(patsubst tests/unit/%.c,$(BUILD)/%,$(TEST_SRC))

# SIMD kernels are compiled for their instruction set and picked at run time;
# on other processors those files compile to stubs and the scalar code runs.
# The target is the compiler's (`$(CC) -dumpmachine`), so that a cross build (make arm64) gets its own.
CC_ARCH := $(firstword $(subst -, ,$(shell $(CC) -dumpmachine)))
ifneq ($(filter x86_64 amd64 i686 i386,$(CC_ARCH)),)
$(BUILD)/obj/src/cpu/%_avx2.o:   SIMD := -mavx2 -mfma -mf16c
$(BUILD)/obj/src/cpu/%_avx512.o: SIMD := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni -mavx512dq
endif
# ARM64: base NEON (every ARMv8-A), the dot-product level (ARMv8.2-A's optional SDOT), the i8mm level (SMMLA
# for prefill, with SDOT).
ifneq ($(filter aarch64 arm64,$(CC_ARCH)),)
$(BUILD)/obj/src/cpu/%_neon.o:         SIMD := -march=armv8-a
$(BUILD)/obj/src/cpu/%_neon_dotprod.o: SIMD := -march=armv8.2-a+dotprod
$(BUILD)/obj/src/cpu/%_neon_i8mm.o:    SIMD := -march=armv8.2-a+dotprod+i8mm
endif

.PHONY: all test unit asan fuzz clean bench wasm arm64
# Keep the objects of test programs between runs.
.SECONDARY:
all: $(BUILD)/hearth $(BUILD)/libhearth.a

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(CFLAGS_SERVE) $(SAN) $(SIMD) $(INC) -MMD -MP -c $< -o $@

$(BUILD)/libhearth.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# hearth serve's HTTP library (native/serve_http.c): Debian's libmicrohttpd-dev.
LIBS := $(LIBS_SERVE) -lm -lpthread
$(BUILD)/hearth: $(call obj,native/main.c) $(NATIVE_OBJ) $(BUILD)/libhearth.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

$(BUILD)/test_%: $(call obj,tests/unit/test_%.c) $(NATIVE_OBJ) $(BUILD)/libhearth.a
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LIBS)

unit: $(TESTS)

# The ARM64 build joins the tests where the cross compiler is installed (tools/setup.sh installs it).
ARM64_IF_TOOLCHAIN := $(if $(shell command -v $(ARM64_CC) 2>/dev/null),arm64)
test: all unit asan fuzz wasm $(ARM64_IF_TOOLCHAIN)
	bash tests/run.sh

# The ARM64 build (CLI and unit tests) with Debian's cross compiler, run under qemu-user
# (tests/e2e/arm64.test.mjs; `qemu-aarch64 -L /usr/aarch64-linux-gnu -cpu max|cortex-a53 build-arm64/hearth ...`).
arm64:
	$(MAKE) CC=$(ARM64_CC) BUILD=build-arm64 SERVE=0 build-arm64/hearth build-arm64/test_kernels

# Unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, in their own build tree.
asan:
	$(MAKE) BUILD=build/asan OPT=-O1 SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" unit build/asan/hearth

# libFuzzer targets: the GGUF reader (`make fuzz && build/fuzz_gguf tests/fuzz/gguf_corpus`) and the
# tokenizers (FUZZ_TOK_MODELS=a.gguf:b.gguf build/fuzz_tok tests/fuzz/tok_corpus; see tests/fuzz/fuzz_tok.c).
fuzz: $(BUILD)/fuzz_gguf $(BUILD)/fuzz_tok $(BUILD)/fuzz_template $(BUILD)/fuzz_control $(BUILD)/fuzz_serve $(BUILD)/fuzz_grammar
GRAMMAR_FUZZ_SRC := src/json_write.c src/think.c src/tool_calls.c src/grammar/grammar.c src/grammar/matcher.c \
	src/grammar/json_schema.c
TOK_SRC := $(filter src/error.c src/model/gguf.c src/model/ggml_types.c src/tokenizer/%,$(CORE_SRC))
HEADERS := $(wildcard src/*.h src/*/*.h)
$(BUILD)/fuzz_tok: tests/fuzz/fuzz_tok.c $(TOK_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(INC) -o $@ tests/fuzz/fuzz_tok.c $(TOK_SRC)
# chat templates and OpenAI-shaped requests: `build/fuzz_template -max_total_time=60` (see tests/fuzz/fuzz_template.c)
TPL_SRC := src/json.c src/error.c src/chat_request.c src/sampler.c $(wildcard src/jinja/*.c) $(GRAMMAR_FUZZ_SRC)
$(BUILD)/fuzz_template: tests/fuzz/fuzz_template.c $(TPL_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(INC) -o $@ tests/fuzz/fuzz_template.c $(TPL_SRC)
# no control token from request bytes, for every template and vocabulary (see tests/fuzz/fuzz_control.c)
$(BUILD)/fuzz_control: tests/fuzz/fuzz_control.c $(TPL_SRC) $(TOK_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined -DCONTROL_FUZZER $(INC) -o $@ tests/fuzz/fuzz_control.c \
		$(sort $(TPL_SRC) $(TOK_SRC))
# hearth serve's request path without the network: Host header and body -> chat request (see tests/fuzz/fuzz_serve.c)
$(BUILD)/fuzz_serve: tests/fuzz/fuzz_serve.c native/serve_request.c native/serve.h $(TPL_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(INC) -o $@ tests/fuzz/fuzz_serve.c native/serve_request.c \
		$(TPL_SRC)
# GBNF grammars, JSON Schemas and tool calls: `build/fuzz_grammar tests/fuzz/grammar_corpus -max_total_time=60`
# (see tests/fuzz/fuzz_grammar.c); the request parser above converts schemas with the same sources.
$(BUILD)/fuzz_grammar: tests/fuzz/fuzz_grammar.c $(GRAMMAR_FUZZ_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(INC) -o $@ tests/fuzz/fuzz_grammar.c src/json.c src/error.c \
		$(GRAMMAR_FUZZ_SRC)
# (with the CPU kernels, built without -m flags: the SIMD files compile to stubs and the scalar reference runs)
GGUF_FUZZ_SRC := src/model/gguf.c src/error.c src/model/ggml_types.c src/cpu/kernels.c $(wildcard src/cpu/quant_*.c)
$(BUILD)/fuzz_gguf: tests/fuzz/fuzz_gguf.c $(GGUF_FUZZ_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) -std=c11 -O1 -g -fsanitize=fuzzer,address,undefined $(INC) -o $@ tests/fuzz/fuzz_gguf.c $(GGUF_FUZZ_SRC)

# The same core for WebAssembly (wasm32-wasi, SIMD128; Debian's wasi-libc, no emscripten) with the
# JS-imported host of web/wasm/; web/hearth.mjs loads it, `node web/cli.mjs` runs it (docs/wasm.md).
WASM_SYSROOT ?= /usr
# Objects use atomics so that one set links both ways: hearth.wasm (own memory, one thread) and
# hearth-mt.wasm (imports a shared memory; Web Workers run the core's parallel regions on it).
# Debian's wasi-libc is not built with atomics, hence --no-check-features: its code only runs on the
# main thread (the workers run kernels, which call no libc that keeps state).
WASM_CFLAGS  := --target=wasm32-wasi --sysroot=$(WASM_SYSROOT) -msimd128 -matomics -mbulk-memory -O2 $(WARN) -Isrc -Iweb/wasm
WASM_LDFLAGS := -mexec-model=reactor -Wl,--max-memory=4294967296 -Wl,-z,stack-size=8388608
WASM_MT_LDFLAGS := $(WASM_LDFLAGS) -Wl,--shared-memory -Wl,--import-memory -Wl,--initial-memory=33554432 \
                   -Wl,--no-check-features -Wl,--export=__stack_pointer
WASM_OBJ     := $(patsubst %.c,$(BUILD)/wasm/%.o,$(CORE_SRC) $(sort $(wildcard web/wasm/*.c)))
# The WebGPU backend's imports and exports (only the wasm host implements the GPU interface).
WASM_OBJ     += $(patsubst %.c,$(BUILD)/wasm/%.o,$(sort $(wildcard web/gpu/*.c)))
src/gpu/wgsl_sources.c: $(wildcard src/gpu/*.wgsl) tools/embed_wgsl.mjs
	node tools/embed_wgsl.mjs
$(BUILD)/wasm/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG) $(WASM_CFLAGS) -MMD -MP -c $< -o $@
web/dist/hearth.wasm: $(WASM_OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(WASM_CFLAGS) $(WASM_LDFLAGS) -o $@ $^
web/dist/hearth-mt.wasm: $(WASM_OBJ)
	@mkdir -p $(dir $@)
	$(CLANG) $(WASM_CFLAGS) $(WASM_MT_LDFLAGS) -o $@ $^
# The relaxed-SIMD builds (hearth-relaxed*.wasm; web/hearth.mjs picks them where WebAssembly.validate
# accepts relaxed SIMD): the same objects but src/cpu/*_relaxed.c, compiled by a clang that has the
# relaxed builtins (Debian 12's clang-19; clang 14 has not) and linked by its wasm-ld.
CLANG_RELAXED ?= clang-19
RELAXED_SRC := $(sort $(wildcard src/cpu/*_relaxed.c))
RELAXED_OBJ := $(patsubst %.c,$(BUILD)/wasm-relaxed/%.o,$(RELAXED_SRC))
WASM_RELAXED_OBJ := $(filter-out $(patsubst %.c,$(BUILD)/wasm/%.o,$(RELAXED_SRC)),$(WASM_OBJ)) $(RELAXED_OBJ)
$(BUILD)/wasm-relaxed/%.o: %.c
	@mkdir -p $(dir $@)
	$(CLANG_RELAXED) $(WASM_CFLAGS) -mrelaxed-simd -MMD -MP -c $< -o $@
web/dist/hearth-relaxed.wasm: $(WASM_RELAXED_OBJ)
	$(CLANG_RELAXED) $(WASM_CFLAGS) $(WASM_LDFLAGS) -o $@ $^
web/dist/hearth-relaxed-mt.wasm: $(WASM_RELAXED_OBJ)
	$(CLANG_RELAXED) $(WASM_CFLAGS) $(WASM_MT_LDFLAGS) -o $@ $^
WASM_DIST := web/dist/hearth.wasm web/dist/hearth-mt.wasm web/dist/hearth-relaxed.wasm web/dist/hearth-relaxed-mt.wasm
wasm: $(WASM_DIST)
# Kernel unit tests for wasm32-wasi (the SIMD128 kernels against the scalar reference and llama.cpp's
# pinned bits; their exact arithmetic), run under Node's WASI by tests/e2e/wasm_kernels.test.mjs.
WASM_TEST_SRC := $(filter-out src/cpu/forward.c,$(filter src/cpu/% src/model/ggml_types.c,$(CORE_SRC)))
$(BUILD)/wasm-tests/%.wasm: tests/unit/%.c $(WASM_TEST_SRC) $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CLANG) $(WASM_CFLAGS) -Wl,-z,stack-size=1048576 -Itests/unit -o $@ $< $(WASM_TEST_SRC)
# The same with the relaxed build's objects (run with Node's --experimental-wasm-relaxed-simd).
WASM_TEST_RELAXED_OBJ := $(filter $(patsubst %.c,$(BUILD)/wasm/%.o,$(WASM_TEST_SRC)),$(WASM_RELAXED_OBJ)) $(RELAXED_OBJ)
$(BUILD)/wasm-tests/test_kernels_relaxed.wasm: tests/unit/test_kernels.c $(WASM_TEST_RELAXED_OBJ) $(HEADERS) $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CLANG_RELAXED) $(WASM_CFLAGS) -Wl,-z,stack-size=1048576 -Itests/unit -o $@ $< $(WASM_TEST_RELAXED_OBJ)
wasm: $(BUILD)/wasm-tests/test_kernels.wasm $(BUILD)/wasm-tests/wasm_simd128_exact.wasm $(BUILD)/wasm-tests/test_kernels_relaxed.wasm
# Single-thread timings of the quantized products in wasm (bench/kmatmul_wasm.c; run it with
# `node tests/e2e/wasm_kernels.test.mjs --wasi FILE`), baseline and relaxed builds; not part of `wasm`.
$(BUILD)/wasm-bench/kmatmul.wasm: bench/kmatmul_wasm.c $(WASM_TEST_SRC) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG) $(WASM_CFLAGS) -Wl,-z,stack-size=1048576 -o $@ $< $(WASM_TEST_SRC)
$(BUILD)/wasm-bench/kmatmul_relaxed.wasm: bench/kmatmul_wasm.c $(WASM_TEST_RELAXED_OBJ) $(HEADERS)
	@mkdir -p $(dir $@)
	$(CLANG_RELAXED) $(WASM_CFLAGS) -Wl,-z,stack-size=1048576 -o $@ $< $(WASM_TEST_RELAXED_OBJ)

bench: all
	node bench/bench.mjs

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD)/obj $(BUILD)/wasm $(BUILD)/wasm-relaxed -name '*.d' 2>/dev/null)

# The chat app (web/app, docs/app.md): `make serve` builds everything, copies the browser builds of its
# Markdown renderer and sanitizer (web/package.json, npm ci --prefix web) into web/app/vendor/ and the
# engine's browser files (web/*.mjs, web/dist/*.wasm, web/gpu/, web/vendor/) into web/app/engine/, so that the app's
# service worker (scope web/app/) covers the engine's workers too and the app works offline, then
# serves it on http://127.0.0.1:$(PORT)/ with the COOP/COEP headers threads need (web/serve.mjs).
PORT ?= 8080
APP_VENDOR := web/app/vendor/marked.esm.js web/app/vendor/purify.es.mjs
APP_NOT_ENGINE := web/cli.mjs web/bench.mjs web/serve.mjs
web/node_modules/.package-lock.json: web/package-lock.json
	npm ci --prefix web --ignore-scripts --no-audit --no-fund --loglevel=error
web/app/vendor/marked.esm.js: web/node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	cp web/node_modules/marked/lib/marked.esm.js $@
web/app/vendor/purify.es.mjs: web/node_modules/.package-lock.json
	@mkdir -p $(dir $@)
	cp web/node_modules/dompurify/dist/purify.es.mjs $@
# The npm package hearth-llm (docs/npm.md): what web/client.mjs loads (modules, workers, the wasm
# builds), its types, web/package/'s package.json and README, packed by npm pack into build/npm/.
.PHONY: npm
npm: $(WASM_DIST)
	node tools/make_npm.mjs
.PHONY: app serve
app: $(APP_VENDOR)
	@rm -rf web/app/engine && mkdir -p web/app/engine/dist
	cp $(filter-out $(APP_NOT_ENGINE),$(wildcard web/*.mjs)) web/app/engine/
	cp web/dist/*.wasm web/app/engine/dist/
	if [ -d web/gpu ]; then cp -r web/gpu web/app/engine/gpu && find web/app/engine/gpu -name "*.[ch]" -delete; fi
	cp -r web/vendor web/app/engine/vendor
	cd web/app && find engine -type f | sort > engine/files.txt
serve: all wasm
	$(MAKE) app
	node web/serve.mjs --port $(PORT)
