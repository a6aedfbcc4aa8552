# SQL steps typed into a client that stays open between steps (see SQLClientSession), as an
# operator keeps one prompt open: USE, \c, SET, temporary tables and AUTH carry. POSIX sh
# functions; the step sets, before it calls runbook_client_step with the client's words:
#   runbook_client_dir        the client's private directory (a FIFO, its output, its pid)
#   runbook_client_continues  1 where an earlier step left this client open
#   runbook_client_marker     what the client prints for the step's closing statement
#   runbook_client_count      the lines the step sends (its statements and the closing ones)
#   runbook_client_error      replies (an ERE) that fail the step, for a client that goes on
#   runbook_client_fatal      replies (an ERE) after which the client answers no more
#   runbook_client_idle       minutes without a step after which the client ends, for a
#                             client no session loop outlives (the exported playbook's)
# Another step ends the client with runbook_client_end. Nothing in the directory is
# trusted unless the directory is this user's own (others may create names in /tmp).
# shellcheck shell=sh disable=SC2016,SC2086,SC2154

# Whether the directory is this user's own, and not a link.
runbook_client_ours() {
  [ -d "$runbook_client_dir" ] && [ ! -L "$runbook_client_dir" ] && [ -O "$runbook_client_dir" ]
}

# The client's group (its starter's pid, a session leader), while the client lives.
runbook_client_alive() {
  runbook_client_ours && [ -p "$runbook_client_dir/in" ] && [ ! -e "$runbook_client_dir/status" ] &&
    read -r runbook_client_group 2>/dev/null <"$runbook_client_dir/pid" &&
    case $runbook_client_group in "" | *[!0-9]* | 0 | 1) false ;; esac &&
    kill -0 "$runbook_client_group" 2>/dev/null
}

# Ends the client and everything it started (a sudo, a password helper), and forgets it.
# A client that has ended is not signalled: its pid may be another process's by now.
runbook_client_end() {
  runbook_client_ours || return 0
  if runbook_client_alive; then kill -TERM -"$runbook_client_group" 2>/dev/null; fi
  rm -rf "$runbook_client_dir"
}

# The name, parent and start time of process $1, from /proc (a function: set -- is its own).
runbook_client_stat() {
  read -r runbook_client_line 2>/dev/null </proc/"$1"/stat || return 1
  runbook_client_name=${runbook_client_line#*(} runbook_client_name=${runbook_client_name%)*}
  set -f; set -- ${runbook_client_line##*) }; set +f
  runbook_client_parent=$2 runbook_client_started=${20}
}

# Appends $1 to runbook_client_words as one single-quoted shell word.
runbook_client_quote() {
  runbook_client_rest=$1 runbook_client_quoted=
  while :; do
    case $runbook_client_rest in
    *\'*)
      runbook_client_quoted=$runbook_client_quoted${runbook_client_rest%%\'*}"'\\''"
      runbook_client_rest=${runbook_client_rest#*\'} ;;
    *) break ;;
    esac
  done
  runbook_client_words="$runbook_client_words '$runbook_client_quoted$runbook_client_rest'"
}

# The keeper: in a session of its own, it runs the client on the FIFO, which the client
# holds open itself (it sees no end of input between steps), and waits for it. Its words
# come in its environment, not as arguments: `ps` shows arguments to everyone, and they
# may hold a password (PGPASSWORD=…). A watcher ends the client when the session loop it
# lives for is gone, or after the idle minutes; the keeper then removes its directory
# (the statements and answers it holds), as the only one left to touch it.
runbook_client_keeper='dir=$RUNBOOK_CLIENT_DIR watch=$RUNBOOK_CLIENT_WATCH born=$RUNBOOK_CLIENT_BORN idle=$RUNBOOK_CLIENT_IDLE
  eval "set -- $RUNBOOK_CLIENT_WORDS"
  unset RUNBOOK_CLIENT_DIR RUNBOOK_CLIENT_WATCH RUNBOOK_CLIENT_BORN RUNBOOK_CLIENT_IDLE RUNBOOK_CLIENT_WORDS
  while [ $# -gt 1 ]; do
    case ${1%%=*} in "$1" | "" | [0-9]* | *[!A-Za-z0-9_]*) break ;; esac
    export "$1"; shift
  done
  exec 3<>"$dir/in"
  "$@" <&3 >>"$dir/out" 2>&1 3<&- &
  client=$!
  exec 3<&-
  echo "$client" >"$dir/client"
  : >"$dir/ready"
  watched() {
    if [ -n "$idle" ]; then [ -z "$(find "$dir/lines" -mmin +"$idle" 2>/dev/null)" ]
    elif [ -n "$born" ]; then read -r stat </proc/$watch/stat 2>/dev/null || return 1; set -f; set -- ${stat##*) }; set +f; [ "${20}" = "$born" ]
    else kill -0 "$watch" 2>/dev/null; fi
  }
  (while [ -d "$dir" ] && kill -0 "$client" 2>/dev/null; do
    watched || { : >"$dir/abandoned"; kill -TERM "$client" 2>/dev/null; exit 0; }
    sleep 1
  done) &
  wait "$client"; status=$?
  if [ -e "$dir/abandoned" ]; then rm -rf "$dir"
  elif [ -d "$dir" ]; then echo "$status" >"$dir/status.new" && mv -f "$dir/status.new" "$dir/status"; fi'

# Starts the client. It lives as long as the session loop of the host: the parent of this
# step (past sudo or runuser), watched through /proc with its start time, since a pid is
# reused; without /proc, kill -0 has to do. Where no loop is (runbook_client_idle), it
# lives until that many minutes pass without a step. Its files are this user's alone.
runbook_client_start() {
  runbook_client_setsid=$(command -v setsid) || { echo "runbook: setsid is missing on this host: the SQL client cannot be kept open" >&2; return 1; }
  if runbook_client_ours; then
    rm -rf "${runbook_client_dir:?}"/* || return 1
  elif [ -e "$runbook_client_dir" ] || [ -L "$runbook_client_dir" ]; then
    echo "runbook: $runbook_client_dir is not this user's own: not used" >&2
    return 1
  fi
  (umask 077 && { [ -d "$runbook_client_dir" ] || mkdir "$runbook_client_dir"; } && mkfifo "$runbook_client_dir/in" &&
    : >"$runbook_client_dir/out" && echo 0 >"$runbook_client_dir/lines") || return 1
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
  runbook_client_words=
  for runbook_client_word in "$@"; do runbook_client_quote "$runbook_client_word"; done
  RUNBOOK_CLIENT_DIR=$runbook_client_dir RUNBOOK_CLIENT_WATCH=$runbook_client_watch \
    RUNBOOK_CLIENT_BORN=$runbook_client_born RUNBOOK_CLIENT_IDLE=${runbook_client_idle:-} \
    RUNBOOK_CLIENT_WORDS=$runbook_client_words \
    "$runbook_client_setsid" sh -c "$runbook_client_keeper" runbook-client </dev/null >/dev/null 2>&1 &
  # The starter is the process setsid became (it forks only for a group leader, which a
  # job of this shell is not). The step waits until the client is started, while the
  # starter lives: by then the starter has its own session.
  echo "$!" >"$runbook_client_dir/pid"
  while [ ! -e "$runbook_client_dir/ready" ]; do
    kill -0 "$!" 2>/dev/null || [ -e "$runbook_client_dir/ready" ] || return 1
    sleep 0.01 2>/dev/null || sleep 1
  done
}

# Whether the client is waiting for input it will not get: blocked reading the FIFO (the
# kernel's wait channel, where this user may read it) after all of the step was written.
runbook_client_waiting() {
  runbook_client_sent=
  read -r runbook_client_sent 2>/dev/null <"$runbook_client_dir/written"
  [ "$runbook_client_sent" = "$runbook_client_marker" ] && read -r runbook_client_pid 2>/dev/null <"$runbook_client_dir/client" || return 1
  # The file has no line break: read fails at its end, having read the word.
  runbook_client_wchan=
  read -r runbook_client_wchan 2>/dev/null </proc/"$runbook_client_pid"/wchan
  case $runbook_client_wchan in *pipe_read* | *pipe_wait*) true ;; *) false ;; esac
}

# Sends the statements (standard input, closing statement included) and prints what the
# client answered to them once it has printed the closing line, ended, said it can no
# longer answer, or sat waiting for more input for 3 s; error lines count from the step's
# first line, as they would alone.
runbook_client_step() {
  if runbook_client_alive; then
    : >"$runbook_client_dir/out"
  else
    [ "${runbook_client_continues:-}" != 1 ] || echo "runbook: the client the steps before this one left open has ended; this step starts a new one, without what they set in it (USE, SET, temporary tables, AUTH)" >&2
    runbook_client_start "$@" || { echo "runbook: cannot start the client in $runbook_client_dir" >&2; return 125; }
  fi
  read -r runbook_client_offset 2>/dev/null <"$runbook_client_dir/lines" || runbook_client_offset=0
  runbook_client_total=$((runbook_client_offset + runbook_client_count))
  echo "$runbook_client_total" >"$runbook_client_dir/lines"
  # A writer of its own, from the statements on standard input (an asynchronous list
  # reads /dev/null unless given another descriptor): it blocks where the client is gone
  # before reading it all, and says when it is done with this step's marker.
  exec 4<&0
  { cat <&4 >"$runbook_client_dir/in" && echo "$runbook_client_marker" >"$runbook_client_dir/written"; } &
  runbook_client_writer=$!
  exec 4<&-
  trap 'kill "$runbook_client_writer" 2>/dev/null; runbook_client_end; exit 143' TERM INT HUP
  runbook_client_delay=0.002 runbook_client_ended="" runbook_client_stuck=0
  while :; do
    if grep -qF -- "$runbook_client_marker" "$runbook_client_dir/out"; then break; fi
    if [ -e "$runbook_client_dir/status" ]; then runbook_client_ended=gone; break; fi
    if [ -n "$runbook_client_fatal" ] && grep -qE -- "$runbook_client_fatal" "$runbook_client_dir/out"; then runbook_client_ended=fatal; break; fi
    if runbook_client_waiting; then runbook_client_stuck=$((runbook_client_stuck + 1)); else runbook_client_stuck=0; fi
    if [ "$runbook_client_stuck" -ge 30 ]; then runbook_client_ended=waiting; break; fi
    sleep "$runbook_client_delay" 2>/dev/null || sleep 1
    case $runbook_client_delay in
    0.002) runbook_client_delay=0.005 ;; 0.005) runbook_client_delay=0.02 ;; 0.02) runbook_client_delay=0.1 ;;
    # A long statement is not idleness: the file's time is the step's last sign of life.
    *) [ -z "${runbook_client_idle:-}" ] || echo "$runbook_client_total" >"$runbook_client_dir/lines" ;;
    esac
  done
  trap - TERM INT HUP
  kill "$runbook_client_writer" 2>/dev/null
  awk -v offset="$runbook_client_offset" -v marker="$runbook_client_marker" '
    index($0, marker) { next }
    /^(ERROR [0-9]+ \([0-9A-Z]+\)|Parse error|Runtime error|Error:?) (at|near) line [0-9]+/ {
      match($0, /line [0-9]+/)
      $0 = substr($0, 1, RSTART + 4) (substr($0, RSTART + 5, RLENGTH - 5) - offset) substr($0, RSTART + RLENGTH)
    }
    { print }' "$runbook_client_dir/out"
  case $runbook_client_ended in
  gone)
    read -r runbook_client_status 2>/dev/null <"$runbook_client_dir/status" || runbook_client_status=1
    return "$runbook_client_status" ;;
  fatal) runbook_client_end; return 1 ;;
  waiting)
    # Said without the tool's prefix: it is the step's failure reason.
    echo "the SQL client is left waiting for more input after this step's statements: one is left open (an unterminated quote or \$\$, a DELIMITER, COPY … FROM STDIN, MULTI), or its output went elsewhere; the client is ended" >&2
    runbook_client_end
    return 1 ;;
  esac
  if [ -n "$runbook_client_error" ] && grep -qE -- "$runbook_client_error" "$runbook_client_dir/out"; then return 1; fi
  return 0
}
