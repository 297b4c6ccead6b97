#!/usr/bin/env bash
# Builds the Debian package: the static binary, the hardened systemd unit, and
# a man page per command generated from the command help (shortfuse man).
#   packaging/build-deb.sh BINARY VERSION OUTDIR     (VERSION as v1.2.3)
set -euo pipefail
bin=${1:?usage: build-deb.sh BINARY VERSION OUTDIR}
version=${2:?usage: build-deb.sh BINARY VERSION OUTDIR}
out=${3:?usage: build-deb.sh BINARY VERSION OUTDIR}
here=$(cd "$(dirname "$0")/.." && pwd)
arch=${DEB_ARCH:-$(dpkg --print-architecture)}
debver=${version#v}
root=$(mktemp -d)
chmod 0755 "$root"
trap 'rm -rf "$root"' EXIT

install -D -m 0755 "$bin" "$root/usr/bin/shortfuse"
install -D -m 0644 "$here/packaging/shortfuse.service" "$root/lib/systemd/system/shortfuse.service"
mkdir -p "$root/usr/share/man/man1" "$root/usr/share/doc/shortfuse"
"$bin" man "$root/usr/share/man/man1" >/dev/null
gzip -9n "$root"/usr/share/man/man1/*.1
install -m 0644 "$here/README.md" "$root/usr/share/doc/shortfuse/README.md"
cp -r "$here/docs" "$root/usr/share/doc/shortfuse/docs"
chmod -R u=rwX,go=rX "$root/usr/share/doc/shortfuse"
mkdir -p "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: shortfuse
Version: $debver
Architecture: $arch
Maintainer: shortfuse maintainers <maintainers@shortfuse.invalid>
Section: admin
Priority: optional
Installed-Size: $(du -sk "$root/usr" "$root/lib" | awk '{s+=$1} END {print s}')
Homepage: https://github.com/shortfuse/shortfuse
Description: exploding credentials for CI: credential broker and client
 shortfuse server is a self-hosted credential broker that speaks the AWS
 wire protocols of STS, Secrets Manager and an IAM subset; the client
 (shortfuse token, exec, ...) gets short-lived, revocable credentials for
 a CI job and masks its secrets in the job's output.
 .
 The broker runs as the systemd unit shortfuse.service (not enabled by
 default): systemctl enable --now shortfuse.
CONTROL
mkdir -p "$out"
dpkg-deb --root-owner-group -Zxz --build "$root" "$out/shortfuse_${debver}_${arch}.deb" >/dev/null
echo "$out/shortfuse_${debver}_${arch}.deb"
