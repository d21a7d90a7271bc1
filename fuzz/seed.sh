#!/bin/sh
# Builds the smbios_table seed corpus from the fixtures: [len(entry point)] + entry point + DMI.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out="$here/corpus/smbios_table"
mkdir -p "$out"
for d in "$here"/../tests/fixtures/smbios/*/; do
    name=$(basename "$d")
    ep="$d/smbios_entry_point"
    n=$(wc -c < "$ep")
    { printf "\\$(printf '%03o' "$n")"; cat "$ep" "$d/DMI"; } > "$out/$name"
done
ls "$out" | wc -l
