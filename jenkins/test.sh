#!/bin/sh
# Runs the shared library's tests with plain Groovy (Debian: apt-get install -y groovy),
# the pipeline steps stood in for by test/Pipeline.groovy.
set -eu
cd "$(dirname "$0")"
if ! command -v groovy >/dev/null 2>&1; then
	echo "jenkins/test.sh: groovy is not installed (apt-get install -y groovy)" >&2
	exit 1
fi
if [ -z "${JAVA_HOME:-}" ] || [ ! -x "$JAVA_HOME/bin/java" ]; then
	JAVA_HOME="$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")"
	export JAVA_HOME
fi
exec groovy -cp src:test test/run.groovy
