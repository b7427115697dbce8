#!/usr/bin/env bash
# Builds llama.cpp's llama-quantize from the exact llama.cpp that node-llama-cpp ships
# (tools/reference/node_modules/node-llama-cpp/llama/gitRelease.bundle, release v0.5.0 as
# node-llama-cpp 3.22.1 names it) into a cache directory, and prints the binary's path.
#
# A test tool only (tools/check_quantize.mjs proves make_test_model's K-quant mixtures
# byte-identical to what llama-quantize writes); never a runtime or CI dependency.
#
#   tools/build_llama_quantize.sh            # build (once; later runs just print the path)
#   HEARTH_CACHE=/somewhere tools/build_llama_quantize.sh
#   JOBS=4 tools/build_llama_quantize.sh
#
# Cache: ${HEARTH_CACHE:-$HOME/.cache/hearth}/llama.cpp-<bundle commit>/{src,build}.
# Flags (Debian 12's cmake 3.25 + g++ 12):
#   -DCMAKE_BUILD_TYPE=Release   ggml's own flags (-O3); the reference quantizers it runs
#                                (quantize_row_*_ref, ggml-base) get no -march, so on x86-64
#                                gcc can't contract a*b+c into FMAs (no FMA in baseline x86-64):
#                                every float op is rounded to f32, as the JS ports do
#   -DGGML_NATIVE=OFF            no -march=native (a binary whose results don't depend on the box)
#   -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF   no network code (LLAMA_CURL is gone in this release,
#                                kept for older ones)
#   -DGGML_OPENMP=OFF            plain threads; quantization results do not depend on threads
#   -DBUILD_SHARED_LIBS=OFF      one static binary, nothing to find at run time
#   -DLLAMA_BUILD_{TESTS,EXAMPLES,SERVER,APP}=OFF -DLLAMA_BUILD_TOOLS=ON, and only the
#                                llama-quantize target is built (it links llama, ggml, llama-common)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
bundle=""
for d in "$root/tools/reference/node_modules" "${NODE_LLAMA_CPP_DIR:-/nonexistent}" /tmp/ref/node_modules; do
    if [ -f "$d/node-llama-cpp/llama/gitRelease.bundle" ]; then bundle="$d/node-llama-cpp/llama/gitRelease.bundle"; break; fi
done
[ -n "$bundle" ] || { echo "node-llama-cpp's gitRelease.bundle not found (npm ci in tools/reference)" >&2; exit 1; }
commit="$(git bundle list-heads "$bundle" | awk '$2 == "HEAD" {print $1; exit}')"
[ -n "$commit" ] || commit="$(git bundle list-heads "$bundle" | awk '{print $1; exit}')"
cache="${HEARTH_CACHE:-$HOME/.cache/hearth}/llama.cpp-${commit:0:12}"
bin="$cache/build/bin/llama-quantize"
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi
mkdir -p "$cache"
if [ ! -d "$cache/src/.git" ]; then
    rm -rf "$cache/src"
    git clone -q "$bundle" "$cache/src" >&2
    git -C "$cache/src" checkout -q "$commit" >&2
fi
cmake -S "$cache/src" -B "$cache/build" -DCMAKE_BUILD_TYPE=Release \
    -DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_OPENMP=OFF -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_APP=OFF \
    -DLLAMA_BUILD_TOOLS=ON >&2
cmake --build "$cache/build" --target llama-quantize -j "${JOBS:-2}" >&2
echo "$bin"
