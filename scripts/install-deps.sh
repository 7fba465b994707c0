#!/usr/bin/env bash
# Installs what certplane needs on a fresh Debian machine, only when missing: Debian packages (redis-server,
# redis-tools, etcd-server, haproxy, openssl, curl, and the test peers pebble, prometheus (promtool),
# python3-aiosmtpd and chromium), the Node.js runtime (scripts/node-runtime.sh), npm
# dependencies (rebuilt when the runtime's ABI changed), and the TypeScript build.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || need+=(redis-tools)
command -v redis-benchmark >/dev/null 2>&1 || need+=(redis-tools)
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v haproxy >/dev/null 2>&1 || need+=(haproxy)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v curl >/dev/null 2>&1 || need+=(curl)
command -v pebble >/dev/null 2>&1 || need+=(pebble)
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v aiosmtpd >/dev/null 2>&1 || need+=(python3-aiosmtpd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "install-deps: installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

. scripts/node-runtime.sh

abi="$(node -p 'process.platform + "-" + process.arch + "-" + process.versions.modules')"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ] \
   || [ ! -f node_modules/better-sqlite3/build/Release/better_sqlite3.node ]; then
  echo "install-deps: npm ci"
  npm ci --no-audit --no-fund
  echo "$abi" > node_modules/.certplane-node-abi
elif [ "$(cat node_modules/.certplane-node-abi 2>/dev/null)" != "$abi" ]; then
  echo "install-deps: rebuilding native modules for node $(node --version)"
  npm rebuild better-sqlite3 --no-audit --no-fund
  echo "$abi" > node_modules/.certplane-node-abi
fi

npm run --silent build
