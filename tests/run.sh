#!/usr/bin/env bash
# Runs every test program (C unit tests in build/, Node end-to-end tests in
# tests/e2e/, browser tests in tests/browser/) and counts their "ok - " / "not ok - " lines. A program that
# exits non-zero without reporting a failure counts as one failure.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
passed=0
failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

run_one() {
    local name=$1
    shift
    local start=$SECONDS
    "$@" >"$log" 2>&1
    local rc=$?
    local ok bad
    ok=$(grep -c '^ok - ' "$log")
    bad=$(grep -c '^not ok - ' "$log")
    grep '^not ok - ' "$log"
    if [ "$rc" -ne 0 ] && [ "$bad" -eq 0 ]; then
        echo "not ok - $name exited with status $rc:"
        tail -n 20 "$log" | sed 's/^/    /'
        bad=1
    fi
    passed=$((passed + ok))
    failed=$((failed + bad))
    echo "# $name: $ok passed, $bad failed ($((SECONDS - start))s)"
}

filter=${1:-}
# Unit tests, then the same tests built with ASan/UBSan (make asan).
for t in "$BUILD"/test_* "$BUILD"/asan/test_*; do
    [ -x "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    name=$(basename "$t")
    case "$t" in */asan/*) name="$name (asan)" ;; esac
    run_one "$name" "$t"
done
# Short fuzz runs from the committed seeds (FUZZ_SECONDS each, default 10; longer runs: `build/fuzz_gguf -max_total_time=600 ...`).
fuzz_one() {
    local target=$1 seeds=$2
    [ -x "$BUILD/$target" ] && [ -z "$filter" ] || return 0
    local corpus
    corpus=$(mktemp -d)
    if "$BUILD/$target" "$corpus" "$seeds" -max_total_time="${FUZZ_SECONDS:-10}" >"$log" 2>&1; then
        echo "ok - $target ran ${FUZZ_SECONDS:-10}s without a finding"
        passed=$((passed + 1))
    else
        echo "not ok - $target found a crash (or could not start):"
        tail -n 30 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    rm -rf "$corpus"
}
fuzz_one fuzz_gguf tests/fuzz/gguf_corpus
# The tokenizers run on the five real vocabularies (vocabulary-only test models).
if [ -x "$BUILD/fuzz_tok" ] && [ -z "$filter" ]; then
    if FUZZ_TOK_MODELS=$(node tests/e2e/tokenize_hf.test.mjs --models 2>"$log"); then
        export FUZZ_TOK_MODELS
        fuzz_one fuzz_tok tests/fuzz/tok_corpus
        # no control token from request bytes: every template, every vocabulary
        export FUZZ_TEMPLATES=../shared/templates/templates.json
        fuzz_one fuzz_control tests/fuzz/control_corpus
    else
        echo "not ok - fuzz_tok: its models could not be made:"
        tail -n 30 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
fi
fuzz_one fuzz_template tests/fuzz/template_corpus
fuzz_one fuzz_serve tests/fuzz/serve_corpus
# GBNF grammars, JSON Schemas and tool calls (src/grammar/, src/tool_calls.c)
fuzz_one fuzz_grammar tests/fuzz/grammar_corpus
# Node end-to-end tests, then the headless-Chromium tests (playwright-core, Debian chromium).
for t in tests/e2e/*.test.mjs tests/browser/*.test.mjs; do
    [ -f "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    run_one "$(basename "$t")" node "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
