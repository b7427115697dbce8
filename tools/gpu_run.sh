#!/usr/bin/env bash
# The device machine's bench run: unpacks the kit that tools/gpu_kit.sh built
# into .carry/ (Node, Dawn's `webgpu` package, node-llama-cpp with its Vulkan
# prebuilt, the tokenizers, the Vulkan loader's Debian packages, hearth's wasm)
# into a temporary folder, prints the machine (nvidia-smi, the Vulkan driver,
# the WebGPU adapter, llama.cpp's Vulkan devices), then runs
#   node bench/gpu_bench.mjs --models M --ref DIR --profile --repeat $R $BENCH_ARGS
# for each model M of $MODELS, one process each. Every JSON line goes to stdout
# and to $OUT/bench.jsonl (the whole output to $OUT/run.log).
# With the `run` tool, from the repository root:
#   command: R=3 bash tools/gpu_run.sh     carry: [".carry"]     timeout_s: 600
# after `bash tools/gpu_kit.sh` here on the tree to measure (it warns when the kit's wasm was built
# from other C/WGSL sources). The models are made there (build/gpu-models, kept while the machine
# stays warm), all of $MODELS in parallel first; any key of gpu_bench.mjs's MODELS can be named.
# Environment: MODELS (default qwen,llama,phi3), R (repeats, 3), BENCH_ARGS (more gpu_bench
# arguments, e.g. "--prompt-tokens 16 --gen-tokens 4" or "--engines hearth"), VARIANTS
# (';'-separated environment settings, each a further hearth-only run tagged with it, e.g.
# "HEARTH_GPU_SPLIT=1;HEARTH_GPU_MMQ_TN=8"), BASE=1 (also run the baseline tree of
# .carry/base.tar.xz, hearth only, its lines marked "tree":"base"), KIT (default .carry),
# GL_INSTALL (root: dpkg -x the debs into / and ldconfig, as the device README does;
# ldpath: unpack them in the temporary folder and add it to LD_LIBRARY_PATH; skip;
# default: root where nvidia-smi exists and we are root, else ldpath), KEEP=1 (keep the folder),
# MODEL_TIMEOUT (seconds a bench process may take, 240: one that hangs leaves time for the rest).
# PROBE=FILE runs that node script (tools/gpu_probe_sgmat.mjs) with the webgpu path as its argument, nothing else.
# GRAMMAR=1 runs the structured-output checks instead of the model benches (issue 20):
#   node bench/grammar_gpu_bench.mjs on the Qwen2.5-0.5B-shaped Q4_0 model (GRAMMAR_FILE: another
#   GGUF), per-token decode with a JSON Schema whose mask is uploaded / read back / no grammar
#   (GTOKENS tokens, 128; GSEEDS seeds, 5; GSCHEMA, tests/fixtures/schemas/11_person.json), then the
#   schema corpus on WebGPU: tests/e2e/json_schema.test.mjs with HEARTH_SCHEMA_ALL=1 (SCHEMA_ALL=0: the
#   CI subset) HEARTH_SCHEMA_BACKENDS=webgpu in SHARDS processes (8) at once, HEARTH_SCHEMA_UNBOUNDED_MAX
#   (UNBOUNDED_MAX, 300), each at most CORPUS_TIMEOUT s (330: with the bench, within the device's 600 s a call); CORPUS=0 skips it, GBENCH=0 the bench. A line
#   {"corpus":...} totals the shares' answers (valid, failed, cut off by max_tokens).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KIT=$(cd "${KIT:-$root/.carry}" && pwd)
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
T=$(mktemp -d /tmp/hearth-kit.XXXXXX)
exec 3>&1 4>&2 > >(tee -a "$OUT/run.log") 2>&1
tee_pid=$!
finish() { exec 1>&3 2>&4; wait "$tee_pid" 2>/dev/null; [ "${KEEP:-0}" = 1 ] || rm -rf "$T"; }
trap finish EXIT
say() { echo "== $*"; }
t0=$(date +%s)

say "unpack $KIT into $T"
mkdir -p "$T/bin" "$T/ref" "$T/shared" "$T/node_modules"
xz -dc "$KIT/node.xz" >"$T/bin/node" && chmod +x "$T/bin/node" || { echo "node.xz?"; exit 1; }
xz -dc "$KIT/webgpu.tar.xz" | tar -C "$T/node_modules" -xf - || exit 1
xz -dc "$KIT/nlc.tar.xz" | tar -C "$T/ref" -xf - || exit 1
xz -dc "$KIT/tokenizers.tar.xz" | tar -C "$T/shared" -xf - || exit 1
export PATH="$T/bin:$PATH"
# web/gpu/host.mjs imports `webgpu`, else resolves it from tests/ with require's rules, which
# take NODE_PATH; bench/gpu_bench.mjs finds node-llama-cpp under --ref $T/ref.
export NODE_PATH="$T/node_modules${NODE_PATH:+:$NODE_PATH}"
export HEARTH_SHARED="$T/shared"
# hearth's wasm, built with the kit (web/dist is ignored, so it does not travel by itself).
mkdir -p web/dist && cp "$KIT"/dist/*.wasm web/dist/
echo "kit commit: $(head -1 "$KIT/dist/COMMIT")$(grep -q dirty "$KIT/dist/COMMIT" && echo ' (with uncommitted changes)')"
src=$(find src web/wasm web/gpu \( -name '*.[ch]' -o -name '*.wgsl' \) | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)
if grep -q "^sources: $src" "$KIT/dist/COMMIT"; then echo "wasm sources match this tree ($src)"
else echo "WARNING: the kit's wasm was built from other C/WGSL sources than this tree's ($src; kit: $(grep sources: "$KIT/dist/COMMIT")): rerun tools/gpu_kit.sh"; fi

say "machine"
uname -a
grep -m1 'model name' /proc/cpuinfo; nproc
command -v nvidia-smi >/dev/null && {
  nvidia-smi
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem,power.limit --format=csv
}

say "Vulkan loader and driver"
mode=${GL_INSTALL:-}
if [ -z "$mode" ]; then
  if [ "$(id -u)" = 0 ] && command -v nvidia-smi >/dev/null; then mode=root; else mode=ldpath; fi
fi
case $mode in
  root) for f in "$KIT"/gl/*.deb; do dpkg -x "$f" /; done; ldconfig ;;
  ldpath)
    mkdir -p "$T/gl"
    for f in "$KIT"/gl/*.deb; do dpkg -x "$f" "$T/gl"; done
    export LD_LIBRARY_PATH="$T/gl/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ;;
esac
echo "GL_INSTALL=$mode"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  [ -d "$d" ] && ! ldconfig -p | grep -q "$d/" && export LD_LIBRARY_PATH="${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d"
done
if [ -z "${VK_ICD_FILENAMES:-}${VK_DRIVER_FILES:-}" ]; then
  std=$(ls /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  nv=$(ls /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json 2>/dev/null | head -1)
  # The device README: if no driver is found, name the mounted driver's ICD.
  [ -z "$std" ] && [ -n "$nv" ] && export VK_DRIVER_FILES="$nv" VK_ICD_FILENAMES="$nv"
  [ -n "$std$nv" ] && cat "${std:-$nv}"
fi
echo "VK_DRIVER_FILES=${VK_DRIVER_FILES:-} VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-} LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
ldconfig -p | grep -E 'libvulkan\.so|libGLX_nvidia|libGLdispatch|libnvidia-glvkspirv' || true

say "node $(node --version), webgpu $(node -p "require('$T/node_modules/webgpu/package.json').version"), node-llama-cpp $(node -p "require('$T/ref/node_modules/node-llama-cpp/package.json').version")"
# The adapter as web/gpu/host.mjs asks for it, and llama.cpp's Vulkan devices (files, not
# `node -e`: node-llama-cpp tests its binary in a fork that takes process.execArgv).
cat >"$T/adapter.mjs" <<'EOF'
const { create, globals } = await import(process.argv[2]);
Object.assign(globalThis, globals);
const gpu = create([]);
const a = await gpu.requestAdapter({ powerPreference: 'high-performance' });
if (!a) { console.log(JSON.stringify({ webgpu_adapter: null })); process.exit(0); }
const i = a.info || {}, l = a.limits;
console.log(JSON.stringify({ webgpu_adapter: { vendor: i.vendor, architecture: i.architecture, device: i.device,
  description: i.description, features: [...a.features].sort(), wgsl: [...(gpu.wgslLanguageFeatures ?? [])].sort(),
  limits: Object.fromEntries(['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage', 'maxComputeWorkgroupsPerDimension',
    'minSubgroupSize', 'maxSubgroupSize'].filter((k) => l[k] !== undefined).map((k) => [k, l[k]])) } }));
EOF
cat >"$T/llama.mjs" <<'EOF'
const { getLlama } = await import(process.argv[2]);
const llama = await getLlama({ gpu: 'vulkan', build: 'never', logLevel: 'error' });
console.log(JSON.stringify({ llama_cpp: { gpu: llama.gpu, devices: await llama.getGpuDeviceNames(),
  vram: await llama.getVramState(), build: llama.buildType, release: llama.llamaCppRelease } }));
await llama.dispose();
EOF
node "$T/adapter.mjs" "$T/node_modules/webgpu/index.js" || echo "webgpu adapter check failed"
node "$T/llama.mjs" "$T/ref/node_modules/node-llama-cpp/dist/index.js" || echo "llama.cpp Vulkan check failed"
echo "unpacked and checked in $(( $(date +%s) - t0 )) s"

# PROBE=FILE: run one node script with Dawn's webgpu (its path as the argument) instead of the benches.
if [ -n "${PROBE:-}" ]; then
  say "probe: $PROBE"
  timeout "${MODEL_TIMEOUT:-240}" node "$PROBE" "$T/node_modules/webgpu/index.js" | tee -a "$OUT/bench.jsonl"
  say "done in $(( $(date +%s) - t0 )) s"
  exit 0
fi

MODELS=${MODELS:-qwen,llama,phi3}
R=${R:-3}
MT=${MODEL_TIMEOUT:-240}
# bench prints JSON lines (and errors as JSON lines); keep those in bench.jsonl, with a prefix field.
jsonl() { awk -v f="$OUT/bench.jsonl" -v pre="$1" '{ print; fflush() } /^\{/ { if (pre != "") sub(/^\{/, "{" pre ","); print >> f; fflush(f) }'; }

if [ "${GRAMMAR:-0}" = 1 ]; then
  # ajv for the corpus: tests/node_modules is not tracked (ESM imports do not read NODE_PATH).
  if [ ! -e tests/node_modules/ajv ]; then
    [ -L tests/node_modules ] && rm tests/node_modules
    mkdir -p tests/node_modules && xz -dc "$KIT/ajv.tar.xz" | tar -C tests/node_modules -xf - || echo "ajv.tar.xz? (rerun tools/gpu_kit.sh)"
  fi
  gfile=${GRAMMAR_FILE:-}
  if [ "${GBENCH:-1}" != 1 ]; then gfile=none
  elif [ -z "$gfile" ]; then
    say "model: qwen"
    node bench/gpu_bench.mjs --make-only qwen || echo "making the model failed"
    gfile=$root/build/gpu-models/qwen2.5-0.5b-q4_0.gguf
  fi
  if [ "$gfile" != none ]; then
    say "grammar bench: $gfile"
    timeout "$MT" node bench/grammar_gpu_bench.mjs --file "$gfile" --tokens "${GTOKENS:-128}" --seeds "${GSEEDS:-5}" \
      --schema "${GSCHEMA:-tests/fixtures/schemas/11_person.json}" \
      $([ -z "${GRAMMAR_FILE:-}" ] && echo --label "Qwen2.5-0.5B-shaped Q4_0") | jsonl ''
    [ "${PIPESTATUS[0]}" = 0 ] || echo '{"run":"grammar bench","error":"failed"}' | jsonl ''
  fi
  if [ "${CORPUS:-1}" = 1 ]; then
    n=${SHARDS:-8}
    say "schema corpus on WebGPU: $n shares at once, at most ${CORPUS_TIMEOUT:-330} s"
    c0=$(date +%s) pids=()
    for ((k = 0; k < n; k++)); do
      HEARTH_SCHEMA_ALL=${SCHEMA_ALL:-1} HEARTH_SCHEMA_WEBGPU=1 HEARTH_SCHEMA_BACKENDS=webgpu HEARTH_SCHEMA_SHARD=$k/$n \
        HEARTH_SCHEMA_UNBOUNDED_MAX=${UNBOUNDED_MAX:-300} HEARTH_SCHEMA_MASK_MODES=$([ "$k" = 0 ] && echo 1 || echo 0) \
        timeout "${CORPUS_TIMEOUT:-330}" node tests/e2e/json_schema.test.mjs >"$OUT/corpus-$k.log" 2>&1 &
      pids+=($!)
    done
    for ((k = 0; k < n; k++)); do wait "${pids[$k]}"; echo "share $k/$n: exit $? after $(( $(date +%s) - c0 )) s"; done
    grep -h '^not ok\|^ok - webgpu mask' "$OUT"/corpus-*.log | head -40
    # Totals from each share's last "# {counts}" line (written at its end), or for a share cut by
    # the timeout from its last progress line "# webgpu MODEL SCHEMA seed S: {counts so far}".
    node -e '
      const fs = require("fs"), t = { ok: 0, bad: 0, cut: 0 }; let finished = 0;
      for (const f of process.argv.slice(1)) {
        const lines = fs.readFileSync(f, "utf8").split("\n");
        const end = lines.filter((l) => l.startsWith("# {")).pop();
        const steps = lines.filter((l) => l.startsWith("# webgpu "));
        if (end) finished++;
        const c = end ? JSON.parse(end.slice(2)).webgpu || {} : steps.length ? JSON.parse(steps.at(-1).replace(/^[^{]*/, "")) : {};
        for (const k in t) t[k] += c[k] || 0;
      }
      const notOk = process.argv.slice(1).reduce((n, f) => n + (fs.readFileSync(f, "utf8").match(/^not ok/gm) || []).length, 0);
      console.log(JSON.stringify({ corpus: "webgpu", shares: process.argv.length - 1, finished, answers: t.ok + t.bad + t.cut,
        valid: t.ok, failed: t.bad, cut_by_max_tokens: t.cut, not_ok_lines: notOk }));' "$OUT"/corpus-*.log | jsonl ''
  fi
  say "done in $(( $(date +%s) - t0 )) s"
  exit 0
fi

say "models: $MODELS (made in parallel)"
pids=()
for m in ${MODELS//,/ }; do node bench/gpu_bench.mjs --make-only "$m" ${BENCH_ARGS:-} & pids+=($!); done
for p in "${pids[@]}"; do wait "$p" || echo "making a model failed (pid $p)"; done
echo "models ready at $(( $(date +%s) - t0 )) s"

# bench NAME PREFIX ARGS...: one gpu_bench process (at most $MT seconds); its JSON lines get PREFIX,
# and a line of its own says when it failed.
bench() {
  local name=$1 pre=$2; shift 2
  say "$name"
  timeout "$MT" node "$@" | jsonl "$pre"
  local rc=${PIPESTATUS[0]}
  [ "$rc" = 0 ] || echo "{\"run\":\"$name\",\"error\":\"exit $rc$([ "$rc" = 124 ] && echo ", over $MT s")\"}" | jsonl "$pre"
}
base=''
if [ "${BASE:-0}" = 1 ]; then
  if [ -f "$KIT/base.tar.xz" ]; then
    mkdir -p "$T/base" && xz -dc "$KIT/base.tar.xz" | tar -C "$T/base" -xf - && base=$(cut -c1-12 "$T/base/COMMIT")
  else
    echo "BASE=1 but no $KIT/base.tar.xz (BASE=REV bash tools/gpu_kit.sh)"
  fi
fi
IFS=';' read -ra variants <<<"${VARIANTS:-}"
# Model by model: the baseline tree's hearth on the same file, this tree's both engines, the variants.
for m in ${MODELS//,/ }; do
  [ -z "$base" ] || bench "base $base $m" "\"tree\":\"base\",\"commit\":\"$base\"" \
    "$T/base/bench/gpu_bench.mjs" --models "$m" --dir "$root/build/gpu-models" --engines hearth --profile --repeat "$R" ${BENCH_ARGS:-}
  bench "bench $m" '' bench/gpu_bench.mjs --models "$m" --ref "$T/ref" --profile --repeat "$R" ${BENCH_ARGS:-}
  for v in "${variants[@]}"; do
    [ -n "$v" ] || continue
    tag=$(echo "$v" | tr -c 'A-Za-z0-9=,.\n' '_' | sed 's/HEARTH_GPU_//g')
    ( export $v; bench "variant $v: $m" "\"variant\":\"$v\"" \
      bench/gpu_bench.mjs --models "$m" --engines hearth --profile --repeat "$R" --tag "$tag" ${BENCH_ARGS:-} )
  done
done
say "done in $(( $(date +%s) - t0 )) s; $(grep -c . "$OUT/bench.jsonl" 2>/dev/null || echo 0) JSON lines in $OUT/bench.jsonl"
