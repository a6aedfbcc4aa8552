# Stops a step (NONCE): its process group comes from the status file the loop wrote, so
# nothing a step prints can choose what is killed; a step that has ended is left. A step
# that runs as another user (ESCALATED is 1) is signalled through sudo, unless the stop
# runs as root; sudo reads the become password, when there is one, from the first line
# of standard input.
# shellcheck shell=sh
escalated=@ESCALATED@
# dash has a built-in kill that takes -SIG -PGID but not --; sudo runs kill(1), which needs it.
signal() { kill "-$1" "-$2"; }
if [ -n "$escalated" ] && [ "$(id -u)" != 0 ]; then
  IFS= read -r password || password=
  if [ -n "$password" ] && ! sudo -k -n true 2>/dev/null; then
    signal() { printf "%s\n" "$password" | sudo -k -S -p "" kill "-$1" -- "-$2"; }
  else signal() { sudo -n kill "-$1" -- "-$2"; }; fi
fi
state_dir="${TMPDIR:-/tmp}/@STATE_DIRECTORY@"
started_line=$(grep -h "^@NONCE@ @STEP_STARTED@ " "$state_dir"/@STATUS_FILE@* 2>/dev/null | head -n 1)
group=$(echo "$started_line" | cut -d " " -f 3)
case "$group" in ""|*[!0-9]*) exit 0 ;; esac
[ "$group" -gt 1 ] && ! grep -q "^@NONCE@ @STEP_DONE@ " "$state_dir"/@STATUS_FILE@* 2>/dev/null || exit 0
signal TERM "$group" 2>/dev/null
for _ in 1 2 3 4 5 6 7 8 9 10; do signal 0 "$group" 2>/dev/null || exit 0; sleep 0.2 2>/dev/null || sleep 1; done
signal KILL "$group" 2>/dev/null; true
