# Runs the session loop (LOOP, one quoted word) under bash when the host has it (job
# control gives each step its process group without an exec), else under /bin/sh. Its
# arguments go to the loop: a local session names the script file the tool writes itself.
# shellcheck shell=sh
if [ -x /bin/bash ]; then exec /bin/bash -c @LOOP@ runbook "$@"; fi; exec /bin/sh -c @LOOP@ runbook "$@"
