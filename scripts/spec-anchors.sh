#!/usr/bin/env bash
# Gives every statement in SPEC.md its link anchor, the ID in lower case, right after the
# bold ID:  * **FS-READ-001**<a id="fs-read-001"></a> (MUST, core) ...
# GitHub keeps the anchor, so SPEC.md#fs-read-001 (the compatibility matrix's links) opens
# at the statement. Idempotent; the SPEC parser rejects an anchor that is not the ID.
#
#   scripts/spec-anchors.sh           add the missing anchors in place
#   scripts/spec-anchors.sh --check   exit 1, listing them, if any statement lacks one
set -euo pipefail
cd "$(dirname "$0")/.."

# A statement line whose bold ID is followed directly by the level's parenthesis.
missing='^\* \*\*[A-Z][A-Z0-9-]*\*\* \('
if [ "${1:-}" = --check ]; then
  if grep -n -E "$missing" SPEC.md; then
    echo "these statements have no anchor: run scripts/spec-anchors.sh" >&2
    exit 1
  fi
  exit 0
fi
sed -E -i 's/^(\* \*\*)([A-Z][A-Z0-9-]*)(\*\*) \(/\1\2\3<a id="\L\2\E"><\/a> (/' SPEC.md
