#!/bin/sh
# A small multi-process workload for the quick start: a pipeline, a
# background subshell, a temporary file written and read back.
tmp=$(mktemp)
ls -l /etc | sort -k5 -n | tail -3 > "$tmp"
(sleep 0.1; wc -l < "$tmp" > /dev/null) &
wait
cat "$tmp" > /dev/null
rm -f "$tmp"
echo "pipeline done"
