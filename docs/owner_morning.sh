#!/usr/bin/env bash
# Reproduces the owner's-morning transcript in the README with the terminal chat:
# customers book on Thursday, the owner completes two jobs on Friday, and on Saturday
# at 08:30 in New York asks for today's agenda, who owes, and marks a payment.
# Needs Debian's faketime (apt-get install faketime) to run the chat at those moments.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
export SLOTBOT_DATABASE_URL="sqlite:///$work/shop.db" SLOTBOT_CONFIG="$PWD/business.toml"
slotbot=.venv/bin/slotbot
say() { faketime "$1" "$slotbot" chat $2 2>/dev/null >/dev/null; }
printf "haircut with sam friday at 11, I'm Jane Doe\nyes\nno\n" | say "2026-11-19 14:00:00" "--sender jane"
printf "beard trim with alex friday at 2pm, I'm Bob Stone\nyes\nno\n" | say "2026-11-19 14:05:00" "--sender bob"
printf "haircut with sam saturday at 10, I'm Mia Lopez\nyes\nno\n" | say "2026-11-19 14:10:00" "--sender mia"
printf "facial saturday at 11, I'm Ana Ruiz\nyes\nno\n" | say "2026-11-19 14:15:00" "--sender ana"
printf "done #1\n" | say "2026-11-20 17:00:00" "--owner"
printf "done #2\n" | say "2026-11-20 20:00:00" "--owner"
printf "today\nwho owes me money?\nmark INV-0001 paid 48.99 cash\nyes\nwho owes\n" |
  faketime "2026-11-21 13:30:00" "$slotbot" chat --owner 2>/dev/null
rm -rf "$work"
