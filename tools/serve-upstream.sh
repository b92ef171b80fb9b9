#!/bin/bash
# Serve bare git copies of upstream repositories on 127.0.0.1 with git daemon, laid out so
# that `--git-mirror https://github.com/=git://127.0.0.1:PORT/github.com/` reaches them.
#
#   tools/serve-upstream.sh MIRROR_DIR [PORT] [BASE_DIR]
#
# MIRROR_DIR holds one folder per repository named OWNER+NAME (as `fetch` lays them out),
# each a bare git directory at OWNER+NAME/repo (or OWNER+NAME/repo/.git). BASE_DIR (default
# /work/upstream/root) receives github.com/OWNER/NAME.git symlinks. Idempotent: links are
# refreshed, and a daemon already listening on PORT with this base path is left running.
# SERVE_ALIASES=FILE adds links for renamed repositories (default: tools/upstream-aliases.txt).
# No repository is modified: the upload-pack settings travel on git's command line.
set -euo pipefail

mirror=${1:?usage: serve-upstream.sh MIRROR_DIR [PORT] [BASE_DIR]}
port=${2:-9419}
base=${3:-/work/upstream/root}
mirror=$(cd "$mirror" && pwd)

mkdir -p "$base/github.com"
count=0
for dir in "$mirror"/*+*/; do
  dir=${dir%/}
  name=${dir##*/}
  owner=${name%%+*}
  repo=${name#*+}
  git_dir=$dir/repo
  [[ -d $git_dir/.git ]] && git_dir=$git_dir/.git
  [[ -f $git_dir/HEAD && -d $git_dir/objects ]] || continue
  # GitHub names are case-insensitive, git daemon paths are not: also link the lower-case
  # and capitalised spellings that CMake files and .gitmodules use (Microsoft/vcpkg).
  lower_owner=${owner,,}
  lower_repo=${repo,,}
  for alias in "$owner/$repo" "$lower_owner/$lower_repo" "${lower_owner^}/$repo" \
    "$lower_owner/$repo" "${lower_owner^}/$lower_repo"; do
    mkdir -p "$base/github.com/${alias%%/*}"
    [[ -e $base/github.com/$alias.git && ! -L $base/github.com/$alias.git ]] && continue
    ln -sfn "$git_dir" "$base/github.com/$alias.git"
  done
  count=$((count + 1))
done
# GitHub redirects renamed repositories (Azure/azure-ctest → Azure/ctest); git daemon does not.
# SERVE_ALIASES names a file of "OLD_OWNER/OLD_NAME NEW_OWNER/NEW_NAME" lines to link likewise
# (default: upstream-aliases.txt beside this script).
SERVE_ALIASES=${SERVE_ALIASES-$(dirname "$0")/upstream-aliases.txt}
if [[ -n $SERVE_ALIASES && -f $SERVE_ALIASES ]]; then
  while read -r old new _; do
    [[ -z $old || $old == \#* ]] && continue
    target=$base/github.com/$new.git
    if [[ -e $target ]]; then
      mkdir -p "$base/github.com/${old%%/*}"
      ln -sfn "$(readlink -f "$target")" "$base/github.com/$old.git"
    else
      echo "alias $old: $new is not served" >&2
    fi
  done <"$SERVE_ALIASES"
fi
echo "linked $count repositories under $base/github.com" >&2

pidfile=$base/git-daemon.$port.pid
if [[ -f $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  echo "git daemon already running (pid $(cat "$pidfile")) on 127.0.0.1:$port" >&2
else
  nohup git -c uploadpack.allowFilter=true -c uploadpack.allowAnySHA1InWant=true \
    -c uploadpack.allowReachableSHA1InWant=true -c 'safe.directory=*' \
    daemon --export-all --reuseaddr --base-path="$base" --listen=127.0.0.1 --port="$port" \
    --pid-file="$pidfile" >"$base/git-daemon.$port.log" 2>&1 &
  for _ in $(seq 50); do
    if git ls-remote "git://127.0.0.1:$port/github.com/triton-inference-server/server.git" HEAD \
      >/dev/null 2>&1; then
      break
    fi
    sleep 0.2
  done
  echo "git daemon started (pid $(cat "$pidfile" 2>/dev/null || echo '?')) on 127.0.0.1:$port;" \
    "log: $base/git-daemon.$port.log" >&2
fi
echo "--git-mirror https://github.com/=git://127.0.0.1:$port/github.com/"
