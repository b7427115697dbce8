#!/usr/bin/env bash
# Runs every test program (C unit tests in build/, Node end-to-end tests in
# tests/e2e/) and counts their "ok - " / "not ok - " lines. A program that
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
# A short fuzz run of the GGUF reader from the committed seeds.
if [ -x "$BUILD/fuzz_gguf" ] && [ -z "$filter" ]; then
    corpus=$(mktemp -d)
    if "$BUILD/fuzz_gguf" "$corpus" tests/fuzz/gguf_corpus -max_total_time="${FUZZ_SECONDS:-30}" >"$log" 2>&1; then
        echo "ok - fuzz_gguf ran ${FUZZ_SECONDS:-30}s without a finding"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz_gguf found a crash:"
        tail -n 30 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    rm -rf "$corpus"
fi
# The same for the tokenizers, on the four real vocabularies (vocabulary-only test models).
if [ -x "$BUILD/fuzz_tok" ] && [ -z "$filter" ]; then
    corpus=$(mktemp -d)
    if models=$(node tests/e2e/tokenize_hf.test.mjs --models 2>"$log") &&
        FUZZ_TOK_MODELS=$models "$BUILD/fuzz_tok" "$corpus" tests/fuzz/tok_corpus -max_total_time="${FUZZ_SECONDS:-30}" >"$log" 2>&1; then
        echo "ok - fuzz_tok ran ${FUZZ_SECONDS:-30}s without a finding"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz_tok found a crash (or its models could not be made):"
        tail -n 30 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    rm -rf "$corpus"
fi
# And the chat-template interpreter, from its own seeds.
if [ -x "$BUILD/fuzz_template" ] && [ -z "$filter" ]; then
    corpus=$(mktemp -d)
    if "$BUILD/fuzz_template" "$corpus" tests/fuzz/template_corpus -max_total_time="${FUZZ_SECONDS:-30}" >"$log" 2>&1; then
        echo "ok - fuzz_template ran ${FUZZ_SECONDS:-30}s without a finding"
        passed=$((passed + 1))
    else
        echo "not ok - fuzz_template found a crash:"
        tail -n 30 "$log" | sed 's/^/    /'
        failed=$((failed + 1))
    fi
    rm -rf "$corpus"
fi
for t in tests/e2e/*.test.mjs; do
    [ -f "$t" ] || continue
    case "$t" in *"$filter"*) ;; *) continue ;; esac
    run_one "$(basename "$t")" node "$t"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
