#!/usr/bin/env bash
# Prepares the build context of the Containerfile: the static binary, the
# host's CA bundle, /etc/passwd and /etc/group with the user shortfuse
# (65532), and an empty /data owned by it.
#   packaging/image-context.sh BINARY DIR
set -euo pipefail
bin=${1:?usage: image-context.sh BINARY DIR}
dir=${2:?usage: image-context.sh BINARY DIR}
ca=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
[ -r "$ca" ] || { echo "image-context: no CA bundle at $ca (set CA_BUNDLE)" >&2; exit 1; }
file -b "$bin" 2>/dev/null | grep -q 'statically linked' || { echo "image-context: $bin is not a static binary (build with CGO_ENABLED=0)" >&2; exit 1; }
rm -rf "$dir"
mkdir -p "$dir/data"
chmod 0700 "$dir/data"
install -m 0755 "$bin" "$dir/shortfuse"
install -m 0644 "$ca" "$dir/ca-certificates.crt"
echo 'shortfuse:x:65532:65532:shortfuse:/data:/nonexistent' > "$dir/passwd"
echo 'shortfuse:x:65532:' > "$dir/group"
