#!/usr/bin/env bash
# Installs what building and testing hearth needs on Debian 12 (idempotent).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
need=()
command -v make >/dev/null || need+=(make)
command -v cc >/dev/null || need+=(build-essential)
command -v clang >/dev/null || need+=(clang)
# libFuzzer and the sanitizer runtimes for clang.
dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || need+=(libclang-rt-14-dev)
# the WebAssembly build (make wasm): libc for wasm32-wasi, clang's wasm32 builtins, the linker
dpkg -s wasi-libc >/dev/null 2>&1 || need+=(wasi-libc)
dpkg -s libclang-rt-14-dev-wasm32 >/dev/null 2>&1 || need+=(libclang-rt-14-dev-wasm32)
command -v wasm-ld >/dev/null || command -v wasm-ld-14 >/dev/null || need+=(lld)
# the relaxed-SIMD WebAssembly build (hearth-relaxed*.wasm): clang 14 lacks the relaxed builtins
command -v clang-19 >/dev/null || need+=(clang-19)
command -v wasm-ld-19 >/dev/null || need+=(lld-19)
dpkg -s libclang-rt-19-dev-wasm32 >/dev/null 2>&1 || need+=(libclang-rt-19-dev-wasm32)
# the ARM64 build (make arm64) and its tests under emulation (tests/e2e/arm64.test.mjs)
command -v aarch64-linux-gnu-gcc >/dev/null || need+=(gcc-aarch64-linux-gnu)
dpkg -s libc6-dev-arm64-cross >/dev/null 2>&1 || need+=(libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null || need+=(qemu-user)
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# a real terminal for the interactive chat test
command -v tmux >/dev/null || need+=(tmux)
# hearth serve's HTTP library (native/serve_http.c)
dpkg -s libmicrohttpd-dev >/dev/null 2>&1 || need+=(libmicrohttpd-dev)
# curl drives hearth serve beside the openai client (tests/e2e/hearth_serve.test.mjs)
command -v curl >/dev/null || need+=(curl)
# headless Chromium (WebGPU through SwiftShader) for the browser tests, driven by playwright-core;
# libvulkan1 lets the npm package webgpu (Dawn) find SwiftShader's Vulkan driver in Node
command -v chromium >/dev/null || need+=(chromium)
dpkg -s libvulkan1 >/dev/null 2>&1 || need+=(libvulkan1)
if [ ${#need[@]} -gt 0 ]; then
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# npm packages of the end-to-end tests (pinned in tests/package-lock.json): @huggingface/tokenizers,
# playwright-core (drives Debian's Chromium; never downloads a browser), webgpu (Dawn for Node),
# @wllama/wllama (llama.cpp in WebAssembly, the browser benchmark's reference).
tests="$(cd "$(dirname "$0")/../tests" && pwd)"
( cd "$tests" && npm ls --depth=0 >/dev/null 2>&1 ) ||
    npm ci --prefix "$tests" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
# the chat app's Markdown renderer and sanitizer (pinned in web/package-lock.json: marked, dompurify)
( cd "$tests/../web" && npm ls --depth=0 >/dev/null 2>&1 ) ||
    npm ci --prefix "$tests/../web" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
# the npm package test's scratch app (pinned in tests/npm_app/package-lock.json: React, TypeScript, Vite):
# installed here so that npm's cache holds it; the test installs a copy with the packed hearth-llm
( cd "$tests/npm_app" && npm ls --depth=0 >/dev/null 2>&1 ) ||
    npm ci --prefix "$tests/npm_app" --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
