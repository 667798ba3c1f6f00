#!/usr/bin/env bash
# Source this file: installs the official WorkOS SDKs into git-ignored folders under .sdk/.
#
#   sdk_install python VERSION DIR   # a venv at DIR with workos==VERSION
#   sdk_install node VERSION DIR     # an npm prefix at DIR with @workos-inc/node@VERSION
#   sdk_newest python|node           # prints the newest published version (Node: newest of
#                                    # NODE_SDK_MAJOR, the line Node 20 runs)
#
# The pinned versions are in tests/sdk/versions.env. An install is reused when DIR already has
# exactly VERSION.
SDK_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=versions.env
source "$SDK_ROOT/tests/sdk/versions.env"

sdk_log() { printf '[sdk] %s\n' "$*" >&2; }

sdk_newest() {
  case "$1" in
    python)
      "${PYTHON:-python3}" -m pip index versions workos 2>/dev/null \
        | sed -n 's/^workos (\(.*\))$/\1/p' | head -n1
      ;;
    node)
      npm view @workos-inc/node versions --json 2>/dev/null \
        | node -e '
            const major = process.argv[1];
            const all = JSON.parse(require("fs").readFileSync(0, "utf8"));
            const ours = all.filter(v => /^\d+\.\d+\.\d+$/.test(v) && v.split(".")[0] === major);
            const key = v => v.split(".").map(Number);
            ours.sort((a, b) => { const x = key(a), y = key(b); return x[0]-y[0] || x[1]-y[1] || x[2]-y[2]; });
            console.log(ours[ours.length - 1] || "");' "$NODE_SDK_MAJOR"
      ;;
  esac
}

sdk_install() {
  local kind="$1" version="$2" dir="$3" have=""
  case "$kind" in
    python)
      if [[ -x "$dir/bin/python" ]]; then
        have="$("$dir/bin/python" -c 'import importlib.metadata as m; print(m.version("workos"))' 2>/dev/null || true)"
      fi
      if [[ "$have" == "$version" ]]; then
        sdk_log "python: workos $have already installed in ${dir#"$SDK_ROOT"/}"
        return
      fi
      sdk_log "python: installing workos==$version into ${dir#"$SDK_ROOT"/}"
      [[ -x "$dir/bin/python" ]] || "${PYTHON:-python3}" -m venv "$dir"
      "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "workos==$version"
      ;;
    node)
      local pkg="$dir/node_modules/@workos-inc/node/package.json"
      if [[ -f "$pkg" ]]; then
        have="$(node -p "require(process.argv[1]).version" "$pkg" 2>/dev/null || true)"
      fi
      if [[ "$have" == "$version" ]]; then
        sdk_log "node: @workos-inc/node $have already installed in ${dir#"$SDK_ROOT"/}"
        return
      fi
      sdk_log "node: installing @workos-inc/node@$version into ${dir#"$SDK_ROOT"/}"
      mkdir -p "$dir"
      npm install --prefix "$dir" --no-audit --no-fund --loglevel=error \
        "@workos-inc/node@$version" >&2
      ;;
  esac
}
