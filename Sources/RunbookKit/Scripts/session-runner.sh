# The runner of the session loop (session-loop.sh), POSIX sh and bash: for each line (the
# step nonce), the started line on the status file (fd 4), then the script file ($0) in
# a subshell that holds none of the runner variables, descriptors or arguments; then the
# status of the step. It travels inside double quotes in the loop.
# shellcheck shell=sh disable=SC1090
# w is the nonce of the step: the tests know the runner by its command line (read -r w).
while IFS= read -r w; do
  echo "$w @STEP_STARTED@ $$ $PPID" >&4
  (unset w; set --; exec </dev/null >&8 2>&5 4>&- 5>&- 8>&-; . "$0")
  echo "$?"
done
