#!/usr/bin/env bash
# Decides which suite version the action installs, and where from, before anything is
# built: the cache key must name an exact commit, because a branch or tag name can move.
#
# Inputs (environment):
#   SUITE_VERSION     the action's `version` input: a tag, branch or full commit; empty
#                     means the ref the action itself was used at (`uses: ...@v0.2.0`)
#   SUITE_REPOSITORY  the action's `repository` input: owner/name on github.com, or a git
#                     URL; empty means the action's own repository, else
#                     nono-conformance/nono-conformance
#   ACTION_REF, ACTION_REPOSITORY, ACTION_PATH  github.action_ref/_repository/_path
# Outputs (to $GITHUB_OUTPUT, or stdout when run by hand):
#   mode=git|path  source=URL|DIR  commit=SHA  root=INSTALL_DIR  cache-key=KEY
#   cache-paths (several lines): what the cache holds, the same for restore and save
#
# A local action (`uses: ./`, or a checkout of the suite) has no action ref: it installs
# from its own directory, the commit read from its git checkout.
set -euo pipefail

fail() {
  echo "::error title=nono-conformance action::$*"
  exit 1
}

repository=${SUITE_REPOSITORY:-${ACTION_REPOSITORY:-nono-conformance/nono-conformance}}
case "$repository" in
  *://*) url=$repository ;;
  *) url="https://github.com/$repository" ;;
esac
ref=${SUITE_VERSION:-${ACTION_REF:-}}

if [ -z "$ref" ]; then
  mode=path
  source=${ACTION_PATH:?ACTION_PATH is not set}
  [ -f "$source/conformance/Cargo.toml" ] \
    || fail "no suite version given and the action's directory $source holds no suite (conformance/Cargo.toml); set the action's 'version' input"
  # Without a commit there is nothing exact to key a cache by: install, never cache.
  commit=$(git -C "$source" rev-parse HEAD 2>/dev/null || true)
elif [[ "$ref" =~ ^[0-9a-f]{40}$ ]]; then
  mode=git
  source=$url
  commit=$ref
else
  mode=git
  source=$url
  refs=$(git ls-remote "$url" "refs/tags/$ref" "refs/tags/$ref^{}" "refs/heads/$ref") \
    || fail "cannot list the refs of $url (is the 'repository' input right?)"
  commit=
  # An annotated tag's own object is not a commit: prefer the peeled line.
  for want in "refs/tags/$ref^{}" "refs/tags/$ref" "refs/heads/$ref"; do
    commit=$(awk -v want="$want" '$2 == want { print $1 }' <<<"$refs")
    [ -n "$commit" ] && break
  done
  [ -n "$commit" ] \
    || fail "suite version '$ref' is not a tag or branch of $url (a commit must be given in full, 40 hex digits)"
fi

root="$HOME/.nono-conformance/${commit:-local}"
key=
if [ -n "$commit" ]; then
  key="nono-conformance-${RUNNER_OS:-$(uname -s)}-${RUNNER_ARCH:-$(uname -m)}-$commit"
fi

echo "suite: $mode $source at ${commit:-an uncommitted tree}; installing into $root"
outputs="mode=$mode
source=$source
commit=$commit
root=$root
cache-key=$key
cache-paths<<END_OF_PATHS
$root
~/.cargo/registry/index
~/.cargo/registry/cache
~/.cargo/git/db
END_OF_PATHS"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  echo "$outputs" >>"$GITHUB_OUTPUT"
else
  echo "$outputs"
fi
