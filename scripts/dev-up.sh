#!/usr/bin/env bash
# `npm run dev`: deploys the dev stack (local Docker) with a local file backend — no Pulumi Cloud
# account. Needs a running Docker engine and the Pulumi CLI (the `pulumi` npm dev dependency
# downloads it on first use; or install it from pulumi.com).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi-state}"
# The dev stack keeps no secrets worth a passphrase; set your own to change that.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-}"
mkdir -p .pulumi-state

docker info >/dev/null 2>&1 || { echo "Docker is not reachable (is the engine running? DOCKER_HOST=${DOCKER_HOST:-unset})" >&2; exit 1; }

PULUMI="npx --no-install pulumi"
$PULUMI stack select dev 2>/dev/null || $PULUMI stack init dev
$PULUMI up --stack dev --yes "$@"
$PULUMI stack output --stack dev
