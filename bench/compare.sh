#!/usr/bin/env bash
# Compare a page's speed at an earlier commit with the work tree, taking turns.
#
#   bench/compare.sh <commit> [rounds] [pages]
#
# This machine's speed drifts by a third within an hour, so two runs made ten
# minutes apart cannot tell a 20% change from the drift. This runs the quick
# `BENCH_PAGES=<pages> make bench` (default: the team dashboard) at <commit>
# and in the work tree alternately, <rounds> times each (default 2), and
# prints each run's machine reference and table row. Nothing is recorded.
set -euo pipefail

commit=${1:?usage: bench/compare.sh <commit> [rounds] [pages]}
rounds=${2:-2}
pages=${3:-team}
root=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
before=$(mktemp -d /tmp/bench-compare.XXXXXX)

cleanup() { git -C "$root" worktree remove --force "$before" 2>/dev/null || true; }
trap cleanup EXIT

git -C "$root" worktree add --quiet --detach "$before" "$commit"
ln -s "$root/.venv" "$before/.venv"  # same packages: only the code differs

for _ in $(seq "$rounds"); do
  for side in before after; do
    dir=$root
    [ "$side" = before ] && dir=$before
    row=$(cd "$dir" && BENCH_PAGES=$pages make -s bench 2>&1 |
      grep -E '^Machine reference before|^\| /' | tr '\n' ' ')
    echo "$side ($([ "$side" = before ] && echo "$commit" || echo "work tree")): $row"
  done
done
