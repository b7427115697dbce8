#!/usr/bin/env bash
# Builds the GPU machine's bench kit into .carry/ (ignored by git), from this
# machine's installs, for tools/gpu_run.sh on the device machine (which has no
# network, no Node and no npm packages; everything it needs that git does not
# track travels in .carry, 64 MiB at most together with the working tree):
#   node.xz            the Node binary (stripped)
#   webgpu.tar.xz      the npm `webgpu` package (Dawn's linux-x64 dawn.node), from tests/node_modules
#   nlc.tar.xz         node_modules/ with node-llama-cpp 3.22.1, @node-llama-cpp/linux-x64-vulkan and
#                      the packages node-llama-cpp needs at run time (not the llama.cpp sources)
#   tokenizers.tar.xz  tokenizers/NAME/{tokenizer.json,tokenizer_config.json} from ../shared for the
#                      tokenizers bench/gpu_bench.mjs's models name (and llama2, llama3, qwen3)
#   ajv.tar.xz         ajv and its four dependencies (package.json and dist/*.js only), from tests/node_modules,
#                      for tests/e2e/json_schema.test.mjs (gpu_run.sh's GRAMMAR=1)
#   gl/*.deb           the Vulkan loader and GL vendor-neutral libraries (libvulkan1, libglvnd0, ...)
#   dist/              web/dist/*.wasm built here (`make -j2 wasm`; the WGSL is embedded) and COMMIT
#   base.tar.xz        only with BASE=REV: REV's bench/ tools/ web/ (tracked files) and its own wasm,
#                      for a baseline run beside this tree's (gpu_run.sh's BASE=1)
# usage: bash tools/gpu_kit.sh            (KIT=DIR to write elsewhere; FORCE=1 rebuilds every part;
#        NLC_SRC=DIR a folder whose node_modules holds node-llama-cpp 3.22.1; BASE=REV)
# Parts whose sources did not change since the last build are kept (.carry/.stamp.*).
# Then, on the device (the `run` tool): command `bash tools/gpu_run.sh`, carry [".carry"].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
KIT=${KIT:-$root/.carry}
NLC_VERSION=3.22.1
XZ=(xz -T"${XZ_THREADS:-0}" -"${XZ_LEVEL:-9}")
mkdir -p "$KIT"
tmp=$(mktemp -d)
trap '[ ! -d "$tmp/base" ] || git worktree remove --force "$tmp/base"; rm -rf "$tmp"' EXIT
log() { echo "gpu_kit: $*" >&2; }

# fresh PART KEY: true when PART must be (re)built (its stamp differs from KEY).
fresh() {
  local stamp="$KIT/.stamp.$1"
  [ "${FORCE:-0}" = 1 ] && return 0
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$2" ] && { log "$1: unchanged, kept"; return 1; }
  return 0
}
stamp() { printf '%s' "$2" >"$KIT/.stamp.$1"; }
fsize() { stat -c %s "$1"; }

# ---- node
NODE_BIN=${NODE_BIN:-$(command -v node)}
key="$(readlink -f "$NODE_BIN") $(fsize "$(readlink -f "$NODE_BIN")") $("$NODE_BIN" --version)"
if fresh node "$key"; then
  log "node: $key"
  strip -o "$tmp/node" "$(readlink -f "$NODE_BIN")" 2>/dev/null || cp "$(readlink -f "$NODE_BIN")" "$tmp/node"
  "$tmp/node" --version >/dev/null
  "${XZ[@]}" -c "$tmp/node" >"$KIT/node.xz.tmp" && mv "$KIT/node.xz.tmp" "$KIT/node.xz"
  stamp node "$key"
fi

# ---- webgpu (Dawn): the package's JS and the linux-x64 binary only
WG=${WEBGPU_DIR:-$root/tests/node_modules/webgpu}
[ -f "$WG/dist/linux-x64/dawn.node" ] || { log "no $WG/dist/linux-x64/dawn.node (npm ci --prefix tests)"; exit 1; }
wgver=$(node -p "require('$WG/package.json').version")
key="$WG $wgver $(fsize "$WG/dist/linux-x64/dawn.node")"
if fresh webgpu "$key"; then
  log "webgpu: $key"
  mkdir -p "$tmp/wg/webgpu/dist/linux-x64"
  cp "$WG/package.json" "$WG/index.js" "$WG/LICENSE.md" "$tmp/wg/webgpu/"
  strip --strip-unneeded -o "$tmp/wg/webgpu/dist/linux-x64/dawn.node" "$WG/dist/linux-x64/dawn.node" 2>/dev/null \
    || cp "$WG/dist/linux-x64/dawn.node" "$tmp/wg/webgpu/dist/linux-x64/"
  tar -C "$tmp/wg" -cf - webgpu | "${XZ[@]}" >"$KIT/webgpu.tar.xz.tmp" && mv "$KIT/webgpu.tar.xz.tmp" "$KIT/webgpu.tar.xz"
  stamp webgpu "$key"
fi

# ---- node-llama-cpp + its Vulkan prebuilt
pkgver() { node -p "try { require('$1/package.json').version } catch { '' }" 2>/dev/null; }
nlc=''
for d in ${NLC_SRC:-} /tmp/ref "$root/tools/reference"; do
  [ "$(pkgver "$d/node_modules/node-llama-cpp")" = "$NLC_VERSION" ] && { nlc=$d/node_modules; break; }
done
if [ -z "$nlc" ]; then
  log "node-llama-cpp $NLC_VERSION: installing from npm into $tmp/nlc"
  mkdir -p "$tmp/nlc" && echo '{"private":true}' >"$tmp/nlc/package.json"
  npm install --prefix "$tmp/nlc" --ignore-scripts --omit=optional --no-audit --no-fund --loglevel=error \
    "node-llama-cpp@$NLC_VERSION" "@node-llama-cpp/linux-x64-vulkan@$NLC_VERSION" >&2
  nlc=$tmp/nlc/node_modules
fi
vk=$nlc/@node-llama-cpp/linux-x64-vulkan
if [ "$(pkgver "$vk")" != "$NLC_VERSION" ]; then
  log "@node-llama-cpp/linux-x64-vulkan $NLC_VERSION: installing from npm into $tmp/vk"
  mkdir -p "$tmp/vk" && echo '{"private":true}' >"$tmp/vk/package.json"
  npm install --prefix "$tmp/vk" --ignore-scripts --no-audit --no-fund --loglevel=error \
    "@node-llama-cpp/linux-x64-vulkan@$NLC_VERSION" >&2
  vk=$tmp/vk/node_modules/@node-llama-cpp/linux-x64-vulkan
fi
key="$nlc $NLC_VERSION $vk $(fsize "$vk/bins/linux-x64-vulkan/libggml-vulkan.so")"
if fresh nlc "$key"; then
  log "nlc: $key"
  # The run-time closure: node-llama-cpp's dependencies, recursively, as Node resolves them
  # (nested node_modules first); of the optional ones those installed, but of node-llama-cpp's
  # own prebuilt packages only the Vulkan one (added from $vk below).
  node - "$nlc" >"$tmp/nlc.list" <<'EOF'
const fs = require('fs'), path = require('path');
const top = path.resolve(process.argv[2]), base = path.dirname(top);
const seen = new Set();
function find(from, name) {
  for (let d = from; d.length >= base.length; d = path.dirname(d)) {
    const c = path.join(d, 'node_modules', name);
    if (fs.existsSync(path.join(c, 'package.json'))) return c;
    if (d === base) break;
  }
  return null;
}
function walk(dir) {
  if (seen.has(dir)) return;
  seen.add(dir);
  const p = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  for (const [deps, optional] of [[p.dependencies, false], [p.optionalDependencies, true]]) {
    for (const name of Object.keys(deps || {})) {
      if (name.startsWith('@node-llama-cpp/')) continue;
      const c = find(dir, name);
      if (c) walk(c);
      else if (!optional) throw new Error(`${name} (needed by ${p.name}) is not installed`);
    }
  }
}
walk(path.join(top, 'node-llama-cpp'));
for (const d of [...seen].sort()) console.log(path.relative(top, d));
EOF
  mkdir -p "$tmp/ref/node_modules/@node-llama-cpp"
  # Not needed at run time: the llama.cpp sources bundle (for builds from source), maps, typings.
  tar -C "$nlc" -cf - --exclude='node-llama-cpp/llama/gitRelease.bundle' --exclude='*.map' --exclude='*.d.ts' \
    --exclude='node-llama-cpp/llama/addon' -T "$tmp/nlc.list" | tar -C "$tmp/ref/node_modules" -xf -
  cp -r "$vk" "$tmp/ref/node_modules/@node-llama-cpp/"
  for f in "$tmp"/ref/node_modules/@node-llama-cpp/linux-x64-vulkan/bins/*/*.so "$tmp"/ref/node_modules/@node-llama-cpp/linux-x64-vulkan/bins/*/*.node; do
    strip --strip-unneeded "$f" 2>/dev/null || true
  done
  log "nlc: $(wc -l <"$tmp/nlc.list") packages + linux-x64-vulkan, $(du -sm "$tmp/ref/node_modules" | cut -f1) MB unpacked"
  tar -C "$tmp/ref" -cf - node_modules | "${XZ[@]}" >"$KIT/nlc.tar.xz.tmp" && mv "$KIT/nlc.tar.xz.tmp" "$KIT/nlc.tar.xz"
  stamp nlc "$key"
fi

# ---- tokenizers (tools/make_test_model.mjs reads tokenizer.json and tokenizer_config.json)
SHARED=${HEARTH_SHARED:-$(cd "$root/.." && pwd)/shared}
names=$( { echo llama2 llama3 qwen3 ${TOKENIZERS:-}; grep -o "tokenizer: '[A-Za-z0-9_.-]*'" bench/gpu_bench.mjs | sed "s/.*'\(.*\)'/\1/"; } \
  | tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ')
files=()
for n in $names; do
  for f in tokenizer.json tokenizer_config.json; do
    [ -f "$SHARED/tokenizers/$n/$f" ] || { log "no $SHARED/tokenizers/$n/$f"; exit 1; }
    files+=("tokenizers/$n/$f")
  done
done
key="$SHARED $names $(cd "$SHARED" && for f in "${files[@]}"; do fsize "$f"; done | tr '\n' ' ')"
if fresh tokenizers "$key"; then
  log "tokenizers: $names"
  tar -C "$SHARED" -chf - "${files[@]}" | "${XZ[@]}" >"$KIT/tokenizers.tar.xz.tmp" && mv "$KIT/tokenizers.tar.xz.tmp" "$KIT/tokenizers.tar.xz"
  stamp tokenizers "$key"
fi

# ---- ajv (the schema corpus's validator) and what it requires at run time, without sources or maps
TN=$root/tests/node_modules
AJV_PKGS="ajv fast-deep-equal fast-uri json-schema-traverse require-from-string"
key="$(for p in $AJV_PKGS; do node -p "require('$TN/$p/package.json').version"; done | tr '\n' ' ')"
if fresh ajv "$key"; then
  log "ajv: $AJV_PKGS ($key)"
  (cd "$TN" && find $AJV_PKGS -type f \( -name package.json -o -name '*.js' -o -name '*.json' \) \
    -not -path 'ajv/lib/*' -not -path '*/test/*' -not -path '*/benchmark/*' -not -path '*/.github/*' | LC_ALL=C sort) >"$tmp/ajv.list"
  tar -C "$TN" -cf - -T "$tmp/ajv.list" | "${XZ[@]}" >"$KIT/ajv.tar.xz.tmp" && mv "$KIT/ajv.tar.xz.tmp" "$KIT/ajv.tar.xz"
  stamp ajv "$key"
fi

# ---- Debian packages for the Vulkan loader (the device README's list; dawn.node dlopens
# libvulkan.so.1, llama.cpp's Vulkan build links it; NVIDIA's ICD library needs libGLdispatch)
GL_PKGS=${GL_PKGS:-libvulkan1 libglvnd0 libegl1 libgl1 libglx0 libopengl0 libgles2}
key="$GL_PKGS"
if fresh gl "$key"; then
  log "gl: $GL_PKGS"
  rm -rf "$KIT/gl" && mkdir -p "$KIT/gl"
  # shellcheck disable=SC2086
  if ! (cd "$KIT/gl" && apt-get download $GL_PKGS >&2); then
    # The device README's way: amd64 package lists of their own, apart from the system's.
    o=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
    mkdir -p /tmp/amd64/partial
    apt-get "${o[@]}" update >&2
    (cd "$KIT/gl" && apt-get "${o[@]}" download $GL_PKGS >&2)
  fi
  stamp gl "$key"
fi

# ---- hearth's wasm (always rebuilt: make knows what changed)
log "dist: make -j2 wasm"
make -j2 wasm >&2
rm -rf "$KIT/dist" && mkdir -p "$KIT/dist"
cp web/dist/*.wasm "$KIT/dist/"
# The commit, and a hash of the wasm's C and WGSL sources, which tools/gpu_run.sh compares with the
# tree that travelled (a kit built before a change to them would run the old kernels).
{ git rev-parse HEAD; git status --porcelain --untracked-files=no -- src web bench tools Makefile | sed 's/^/dirty: /'
  echo "sources: $(find src web/wasm web/gpu \( -name '*.[ch]' -o -name '*.wgsl' \) | LC_ALL=C sort | xargs cat | sha256sum | cut -c1-16)"
} >"$KIT/dist/COMMIT"

# ---- optional baseline tree: BASE=REV
if [ -n "${BASE:-}" ]; then
  rev=$(git rev-parse --verify "$BASE^{commit}")
  key="$rev"
  if fresh base "$key"; then
    log "base: $rev (a worktree in $tmp/base, make -j2 wasm there)"
    git worktree add --detach "$tmp/base" "$rev" >&2
    (cd "$tmp/base" && make -j2 wasm >&2) || { git worktree remove --force "$tmp/base"; exit 1; }
    mkdir -p "$tmp/basetree"
    git archive "$rev" bench tools web | tar -C "$tmp/basetree" -xf -
    mkdir -p "$tmp/basetree/web/dist" && cp "$tmp/base"/web/dist/*.wasm "$tmp/basetree/web/dist/"
    echo "$rev" >"$tmp/basetree/COMMIT"
    git worktree remove --force "$tmp/base"
    tar -C "$tmp/basetree" -cf - . | "${XZ[@]}" >"$KIT/base.tar.xz.tmp" && mv "$KIT/base.tar.xz.tmp" "$KIT/base.tar.xz"
    stamp base "$key"
  fi
else
  rm -f "$KIT/base.tar.xz" "$KIT/.stamp.base"
fi

# ---- sizes
log "kit in $KIT:"
(cd "$KIT" && du -b node.xz webgpu.tar.xz nlc.tar.xz tokenizers.tar.xz ajv.tar.xz gl dist $( [ -f base.tar.xz ] && echo base.tar.xz) >&2)
total=$(du -sb "$KIT" | cut -f1)
tree=$(git ls-files -z | xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
untracked=$(git ls-files -z --others --exclude-standard | xargs -0 -r stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
log "kit $((total / 1024)) KiB; with the working tree ($(( (tree + untracked) / 1024 )) KiB) $(( (total + tree + untracked) / 1048576 )) MiB of the 64 MiB a call carries"
[ $((total + tree + untracked)) -lt $((64 * 1048576)) ] || { log "over 64 MiB"; exit 1; }
