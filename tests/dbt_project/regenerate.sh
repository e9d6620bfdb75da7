#!/usr/bin/env bash
# Builds the project and writes its artifacts (manifest.json, catalog.json, run_results.json)
# to OUT (default: target/ here) with dbt-core and dbt-duckdb, which live in a venv of their own
# (their pins clash with semcat's; `make test` makes .venv-dbt). The tests run it:
#   DBT=.venv-dbt/bin/dbt tests/dbt_project/regenerate.sh [OUT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
dbt="${DBT:-dbt}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp -r "$here"/dbt_project.yml "$here"/profiles.yml "$here"/models "$here"/seeds "$here"/tests "$work"/
cd "$work"
export SHOP_DUCKDB="$work/shop.duckdb" DBT_SEND_ANONYMOUS_USAGE_STATS=false
"$dbt" seed --profiles-dir . --target-path "$work/target"
"$dbt" build --profiles-dir . --target-path "$work/target" || true  # a failing test still writes results
cp "$work/target/run_results.json" "$work/run_results.json"  # docs generate overwrites it
"$dbt" docs generate --profiles-dir . --target-path "$work/target"
out="${1:-$here/target}"
mkdir -p "$out"
cp "$work/target/manifest.json" "$work/target/catalog.json" "$out/"
cp "$work/run_results.json" "$out/run_results.json"
