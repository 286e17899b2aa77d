#!/usr/bin/env bash
# The host build of the Redis chat app (its image copies the result, dist/, and runs no npm).
#   1. npm ci, only when package-lock.json changed since the last install (node_modules/.lock-stamp);
#   2. next build (standalone output, build id from the sources);
#   3. dist/ assembled: the standalone server (server/), its static files, the worker and lib files,
#      ecosystem.config.js, the worker's packages (node_modules/: the Redis client) and pm2 with its
#      own tree (pm2/node_modules/).
# Quick and silent on dist/ when nothing changed: a sha256 of the lockfile and every source file is
# kept in dist/.build-stamp; when it matches, dist/ is left untouched.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
export NEXT_TELEMETRY_DISABLED=1

if [ "${1:-}" = "--clean" ]; then  # back to nothing: what a fresh clone has (for cold-build figures)
  rm -rf node_modules .next dist .build-tmp
  echo "build.sh: removed node_modules, .next and dist"
  exit 0
fi

for tool in node npm; do
  command -v "$tool" >/dev/null 2>&1 || {
    echo "build.sh: '$tool' is not installed on this machine. The Redis chat app is built on the host:" >&2
    echo "  install Node.js >= 18.18 with npm (e.g. apt-get install nodejs npm), then run $0 again." >&2
    exit 2
  }
done

sources() {
  printf '%s\n' package.json package-lock.json next.config.js next-start.js ecosystem.config.js build.sh
  find app lib worker -type f | LC_ALL=C sort
}
stamp=$(sources | while read -r f; do printf '%s  %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$f"; done \
  | sha256sum | cut -d' ' -f1)
if [ -f dist/.build-stamp ] && [ "$(cat dist/.build-stamp)" = "$stamp" ]; then
  echo "build.sh: dist/ is up to date (${stamp:0:12})"
  exit 0
fi

lock=$(sha256sum <package-lock.json | cut -d' ' -f1)
if [ ! -f node_modules/.lock-stamp ] || [ "$(cat node_modules/.lock-stamp)" != "$lock" ]; then
  echo "build.sh: npm ci (package-lock.json changed)"
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock" >node_modules/.lock-stamp
fi

echo "build.sh: next build"
rm -rf .next
CHAT_BUILD_ID="chat-${stamp:0:16}" node node_modules/next/dist/bin/next build

echo "build.sh: assembling dist/"
tmp=.build-tmp
rm -rf "$tmp"
mkdir -p "$tmp"
cp -a .next/standalone "$tmp/server"
cp -a .next/static "$tmp/server/.next/static"
# No image optimisation here: the native image library is dead weight in the image.
rm -rf "$tmp/server/node_modules/sharp" "$tmp/server/node_modules/@img"
cp -a lib worker next-start.js ecosystem.config.js package.json "$tmp/"
# The packages (and everything they need) copied out of node_modules: the worker's Redis client,
# and pm2 in a tree of its own.
node - "$tmp" <<'JS'
const fs = require('fs');
const path = require('path');
const [dest] = process.argv.slice(2);
const root = path.resolve('node_modules');

function resolveFrom(dir, name) {
  for (let d = dir; d.startsWith(root) || d === path.dirname(root); d = path.dirname(d)) {
    const base = path.basename(d) === 'node_modules' ? d : path.join(d, 'node_modules');
    const candidate = path.join(base, name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (d === path.dirname(root)) break;
  }
  return null;
}

function closure(names) {
  const seen = new Set();
  const todo = names.map((n) => resolveFrom(path.dirname(root), n));
  while (todo.length) {
    const dir = todo.pop();
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
    const deps = { ...pkg.dependencies, ...pkg.optionalDependencies };
    for (const dep of Object.keys(deps)) {
      const found = resolveFrom(dir, dep);
      if (found) todo.push(found);
      else if (!(pkg.optionalDependencies || {})[dep]) throw new Error(`${dep} (needed by ${pkg.name}) is not installed`);
    }
  }
  // Top-level packages only: a nested node_modules is copied with the package that holds it.
  return [...seen].filter((d) => path.dirname(d) === root || path.dirname(path.dirname(d)) === root
    && path.basename(path.dirname(d)).startsWith('@')).sort();
}

function copy(names, into) {
  for (const dir of closure(names)) {
    const target = path.join(into, path.relative(root, dir));
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.cpSync(dir, target, { recursive: true, verbatimSymlinks: true });
  }
}

copy(['redis'], path.join(dest, 'node_modules'));
copy(['pm2'], path.join(dest, 'pm2', 'node_modules'));
JS
echo "$stamp" >"$tmp/.build-stamp"
rm -rf dist
mv "$tmp" dist
echo "build.sh: dist/ built ($(du -sh dist | cut -f1), ${stamp:0:12})"
