#!/bin/sh
# Stands in for date(1) in publish_script_test.go: the real date, with the clock set to the epoch
# in $FAKE/now.
exec "$REAL_DATE" -d "@$(cat "$FAKE/now")" "$@"
