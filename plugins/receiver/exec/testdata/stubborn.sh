#!/bin/sh
# Ignores SIGTERM (the exec receiver must follow up with SIGKILL); records that it started.
trap '' TERM
touch "$REC_DIR/stubborn.started"
sleep 30 &
wait
sleep 30
