#!/usr/bin/env bash
# Reproduces the route-optimisation transcript in the README with the terminal chat: the
# field-service example's busiest day (60 jobs, 8 technicians) is booked for 2026-12-08, the
# owner asks for that day's routes, applies them, and undoes them.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export SLOTBOT_DATABASE_URL="sqlite:///$work/field.db"
export PYTHONPATH="$PWD"
slotbot=${SLOTBOT:-.venv/bin/slotbot}
"$slotbot" init --example field-service "$work/field" >/dev/null
export SLOTBOT_CONFIG="$work/field/business.toml"
"$slotbot" db upgrade >/dev/null
"$slotbot" seed field-service --day 2026-12-08 >/dev/null
printf "optimise routes for dec 8\nyes\nundo\n" | "$slotbot" chat --owner 2>/dev/null
rm -rf "$work"
