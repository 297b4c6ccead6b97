#!/usr/bin/env bash
# Release build: static binaries for linux and darwin on amd64 and arm64,
# stamped with the version, commit and date (shortfuse version), a
# SHA256SUMS file and a CycloneDX SBOM per binary, in dist/.
#
#   scripts/release.sh v1.2.3             # every target
#   TARGETS="linux/amd64" scripts/release.sh v1.2.3
#
# Plain go build rather than GoReleaser: GoReleaser cannot be installed
# offline here, and four go build runs, sha256sum and a 100-line SBOM
# writer (scripts/sbom, from the module list the linker records) say all
# there is to say about the artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."

version=${1:?usage: scripts/release.sh VERSION (e.g. v1.2.3)}
[[ $version =~ ^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] || { echo "release: version $version: want vMAJOR.MINOR.PATCH[-PRE]" >&2; exit 2; }
commit=$(git rev-parse HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain 2>/dev/null)" ]; then commit="$commit-dirty"; fi
# The commit's own time, so that two builds of one commit are identical.
date=$(git log -1 --format=%cI 2>/dev/null | xargs -I{} date -u -d {} +%Y-%m-%dT%H:%M:%SZ || date -u +%Y-%m-%dT%H:%M:%SZ)
targets=${TARGETS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64}
dist=${DIST:-dist}

rm -rf "$dist"
mkdir -p "$dist"
ldflags="-s -w -X main.buildVersion=$version -X main.buildCommit=$commit -X main.buildDate=$date"
for t in $targets; do
	os=${t%/*} arch=${t#*/}
	out="$dist/shortfuse_${version}_${os}_${arch}"
	echo "release: $out" >&2
	CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath -buildvcs=false -ldflags "$ldflags" -o "$out" ./cmd/shortfuse
	go run ./scripts/sbom -version "$version" "$out" > "$out.cdx.json"
done
(cd "$dist" && sha256sum shortfuse_* > SHA256SUMS)
echo "release: $(wc -l < "$dist/SHA256SUMS") files in $dist/SHA256SUMS" >&2
