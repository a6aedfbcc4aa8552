# SQL steps typed into a client that stays open between steps (see SQLClientSession), as an
# operator keeps one prompt open: USE, \c, SET, temporary tables and AUTH carry. POSIX sh
# functions; the step sets, before it calls runbook_client_step with the client's words:
#   runbook_client_dir        the client's private directory (a FIFO, its output, its pid)
#   runbook_client_continues  1 where an earlier step left this client open
#   runbook_client_marker     the line the client prints for the step's closing statement
#   runbook_client_error      replies (an ERE) that fail the step, for a client that goes on
#   runbook_client_fatal      replies (an ERE) after which the client answers no more
#   runbook_client_idle       minutes without a step after which the client ends, for a
#                             client no session loop outlives (the exported playbook's)
# Another step ends the client with runbook_client_end.
# shellcheck shell=sh disable=SC2016,SC2086,SC2154

# The client's group (its starter's pid, a session leader), while the client lives.
runbook_client_alive() {
  [ -p "$runbook_client_dir/in" ] && [ ! -e "$runbook_client_dir/status" ] &&
    read -r runbook_client_group 2>/dev/null <"$runbook_client_dir/pid" &&
    kill -0 "$runbook_client_group" 2>/dev/null
}

# Ends the client and everything it started (a sudo, a password helper), and forgets it.
runbook_client_end() {
  if read -r runbook_client_group 2>/dev/null <"$runbook_client_dir/pid"; then
    case $runbook_client_group in "" | *[!0-9]*) ;; *) kill -TERM -"$runbook_client_group" 2>/dev/null ;; esac
  fi
  rm -rf "$runbook_client_dir"
}

# The name, parent and start time of process $1, from /proc (a function: set -- is its own).
runbook_client_stat() {
  read -r runbook_client_line 2>/dev/null </proc/"$1"/stat || return 1
  runbook_client_name=${runbook_client_line#*(} runbook_client_name=${runbook_client_name%)*}
  set -f; set -- ${runbook_client_line##*) }; set +f
  runbook_client_parent=$2 runbook_client_started=${20}
}

# Starts the client on a FIFO it holds open itself (it sees no end of input between
# steps), in a session of its own, so that no stop of a later step's group reaches it by
# chance and ending it ends all it started. It lives as long as the session loop of the
# host: the parent of this step (past sudo or runuser), watched through /proc with its
# start time, since a pid is reused. Without /proc, kill -0 has to do. Where no loop is
# (runbook_client_idle), it lives until that many minutes pass without a step.
runbook_client_start() {
  runbook_client_setsid=$(command -v setsid) || { echo "runbook: setsid is missing on this host: the SQL client cannot be kept open" >&2; return 1; }
  rm -rf "$runbook_client_dir"
  (umask 077 && mkdir "$runbook_client_dir" && mkfifo "$runbook_client_dir/in") || return 1
  : >"$runbook_client_dir/out" && echo 0 >"$runbook_client_dir/lines" || return 1
  runbook_client_watch=$PPID runbook_client_born=
  if [ -n "${runbook_client_idle:-}" ]; then
    runbook_client_watch=
  elif runbook_client_stat "$PPID"; then
    case $runbook_client_name in sudo | runuser)
      runbook_client_watch=$runbook_client_parent
      runbook_client_stat "$runbook_client_watch" || runbook_client_started= ;;
    esac
    runbook_client_born=$runbook_client_started
  fi
  runbook_client_keeper='dir=$1 watch=$2 born=$3 idle=$4; shift 4
    exec 3<>"$dir/in"
    "$@" <&3 >>"$dir/out" 2>&1 3<&- &
    client=$!
    exec 3<&-
    : >"$dir/ready"
    watched() {
      if [ -n "$idle" ]; then [ -z "$(find "$dir/lines" -mmin +"$idle" 2>/dev/null)" ]
      elif [ -n "$born" ]; then read -r stat </proc/$watch/stat 2>/dev/null || return 1; set -f; set -- ${stat##*) }; set +f; [ "${20}" = "$born" ]
      else kill -0 "$watch" 2>/dev/null; fi
    }
    (while [ -d "$dir" ] && kill -0 "$client" 2>/dev/null && watched; do sleep 1; done; kill -TERM "$client" 2>/dev/null) &
    wait "$client"; status=$?
    [ -d "$dir" ] && echo "$status" >"$dir/status.new" && mv -f "$dir/status.new" "$dir/status"'
  "$runbook_client_setsid" sh -c "$runbook_client_keeper" runbook-client "$runbook_client_dir" "$runbook_client_watch" "$runbook_client_born" "${runbook_client_idle:-}" \
    env "$@" </dev/null >/dev/null 2>&1 &
  # The starter is the process setsid became (it forks only for a group leader, which a
  # job of this shell is not). The step waits until the client is started, while the
  # starter lives: by then the starter has its own session.
  echo "$!" >"$runbook_client_dir/pid"
  while [ ! -e "$runbook_client_dir/ready" ]; do
    kill -0 "$!" 2>/dev/null || [ -e "$runbook_client_dir/ready" ] || return 1
    sleep 0.01 2>/dev/null || sleep 1
  done
}

# Sends the statements (standard input, closing statement included) and prints what the
# client answered to them once it has printed the closing line, ended, or said it can no
# longer answer; error lines count from the step's first line, as they would alone.
runbook_client_step() {
  if ! runbook_client_alive; then
    [ "${runbook_client_continues:-}" != 1 ] || echo "runbook: the client the steps before this one left open has ended; this step starts a new one, without what they set in it (USE, SET, temporary tables, AUTH)" >&2
    runbook_client_start "$@" || { echo "runbook: cannot start the client in $runbook_client_dir" >&2; return 125; }
  fi
  read -r runbook_client_offset 2>/dev/null <"$runbook_client_dir/lines" || runbook_client_offset=0
  cat >"$runbook_client_dir/next" || return 125
  runbook_client_count=$(wc -l <"$runbook_client_dir/next")
  runbook_client_total=$((runbook_client_offset + runbook_client_count))
  echo "$runbook_client_total" >"$runbook_client_dir/lines"
  : >"$runbook_client_dir/out"
  # A writer of its own: it blocks where the client is gone before reading it all.
  cat "$runbook_client_dir/next" >"$runbook_client_dir/in" &
  runbook_client_writer=$!
  trap 'kill "$runbook_client_writer" 2>/dev/null; runbook_client_end; exit 143' TERM INT HUP
  runbook_client_delay=0.005 runbook_client_ended=
  while :; do
    if grep -qxF -- "$runbook_client_marker" "$runbook_client_dir/out"; then break; fi
    if [ -e "$runbook_client_dir/status" ]; then runbook_client_ended=gone; break; fi
    if [ -n "$runbook_client_fatal" ] && grep -qE -- "$runbook_client_fatal" "$runbook_client_dir/out"; then runbook_client_ended=fatal; break; fi
    sleep "$runbook_client_delay" 2>/dev/null || sleep 1
    case $runbook_client_delay in
    0.005) runbook_client_delay=0.01 ;; 0.01) runbook_client_delay=0.05 ;; 0.05) runbook_client_delay=0.1 ;;
    # A long statement is not idleness: the file's time is the step's last sign of life.
    *) [ -z "${runbook_client_idle:-}" ] || echo "$runbook_client_total" >"$runbook_client_dir/lines" ;;
    esac
  done
  trap - TERM INT HUP
  kill "$runbook_client_writer" 2>/dev/null
  awk -v offset="$runbook_client_offset" -v marker="$runbook_client_marker" '
    $0 == marker { next }
    /^(ERROR [0-9]+ \([0-9A-Z]+\)|Parse error|Runtime error|Error:?) (at|near) line [0-9]+/ {
      match($0, /line [0-9]+/)
      $0 = substr($0, 1, RSTART + 4) (substr($0, RSTART + 5, RLENGTH - 5) - offset) substr($0, RSTART + RLENGTH)
    }
    { print }' "$runbook_client_dir/out"
  case $runbook_client_ended in
  gone)
    read -r runbook_client_status 2>/dev/null <"$runbook_client_dir/status" || runbook_client_status=1
    rm -rf "$runbook_client_dir"
    return "$runbook_client_status" ;;
  fatal) runbook_client_end; return 1 ;;
  esac
  if [ -n "$runbook_client_error" ] && grep -qE -- "$runbook_client_error" "$runbook_client_dir/out"; then return 1; fi
  return 0
}
