# The session loop a host runs (see HostSession): POSIX sh, and bash where the host has it.
# It holds no single quote: it travels inside single quotes over ssh. Words between at signs are
# filled in by the tool (SessionProtocol): the protocol words and the state directory.
# shellcheck shell=sh disable=SC2015,SC2030,SC2031,SC2034,SC2086,SC2154,SC3028,SC3044,SC3045,SC3047,SC3052
IFS= read -r key || exit 0
# Whether the host has a become password (a line "1", or an empty line). The password
# itself comes with each step that may need it, never to be held here.
has_password=; IFS= read -r has_password || exit 0
state_dir="${TMPDIR:-/tmp}/@STATE_DIRECTORY@"
(umask 077; mkdir -p "$state_dir") 2>/dev/null; [ -d "$state_dir" ] && [ -O "$state_dir" ] && chmod 700 "$state_dir" || { echo "@SESSION@$key @FAILED@: cannot make a private $state_dir"; exit 1; }
# Each step runs in a process group of its own, so a stop ends all it started. Under
# bash, job control gives it one at no cost; elsewhere setsid does, at an exec a step.
# Job notices go nowhere: fd 2 of the loop is /dev/null then, and steps get fd 5. Only
# bash 5.1 and later (where wait -f exists) is trusted with job control.
exec 5>&2
setsid_command=$(command -v setsid || true); step_setsid=$setsid_command; job_control=
if [ -n "${BASH_VERSION:-}" ] && wait -f 2>/dev/null && set -m 2>/dev/null; then
  # A write to a runner that has just gone fails instead of ending the loop (a trap,
  # unlike an ignored signal, is not inherited by the steps).
  step_setsid=; job_control=1; exec 2>/dev/null; trap : PIPE
fi
user_id=$(id -u)
# The users sudo runs steps as without a password, and those it asks one for.
sudo_free=" "; sudo_asks=" "
# What became of each step, a line per event on a file this session keeps open: a new
# file per step would cost more than the step itself on some file systems.
{ command exec 4>>"$state_dir/@STATUS_FILE@$$"; } 2>/dev/null || { echo "@SESSION@$key @FAILED@: cannot write $state_dir/@STATUS_FILE@$$"; exit 1; }
script_file="$state_dir/@SCRIPT_FILE@$$.sh"; script_given=
case "${1:-}" in "$state_dir"/@SCRIPT_FILE@*.sh) script_file=$1; script_given=1 ;; esac
# The runner: one shell (of the steps kind) that runs each plain step as a subshell of
# its own, so a step costs a fork and no exec. It is a job of the loop (its own process
# group, which a stop ends with the step) and talks to the loop over the pipes of a
# coprocess (fds 6 and 7; the loop sees their end when the runner is gone). After each
# step the loop looks for processes the step left behind in that group: with any, or
# where it cannot tell, the runner ends, and the next step gets a new runner and group,
# so a later stop never ends what an earlier step left running.
# Without bash and its job control, every step is a process of its own, as below. The
# bash words are in eval: sh parses the whole loop, also where bash runs it.
runner_pid=; runner_shell=; runner_program="@RUNNER@"
exec 8>&1
# A copy of the input of the loop for dd: an asynchronous list reads /dev/null as its input
# where there is no job control. No step gets it.
exec 9<&0
start_runner() {
  eval "coproc RUNBOOK_RUNNER { exec \"\$1\" -c \"\$runner_program\" \"\$script_file\" 2>/dev/null 6>&- 7>&- 9<&-; }"
  # Copies the loop owns: bash closes its own when it reaps the runner, perhaps before
  # its last answer is read; and the runner sees the end of its input only once no copy
  # of it is left open.
  eval "runner_out=\${RUNBOOK_RUNNER[0]} runner_in=\${RUNBOOK_RUNNER[1]}"
  eval "exec 6<&$runner_out 7>&$runner_in $runner_out<&- $runner_in>&-"
  runner_pid=$RUNBOOK_RUNNER_PID; runner_shell=$1
}
stop_runner() { [ -z "$runner_pid" ] || { exec 6<&- 7>&-; wait "$runner_pid"; runner_pid=; }; }
# Under bash, what the tool sends after the ready line is counted: eight digits of its
# length in bytes, then the message (its first line, then a script), read at once; a
# shell reads a line a byte at a time (it must not read past it on a pipe).
if [ -n "${BASH_VERSION:-}" ]; then
  counted=" @COUNTED@"; newline="
"
  next_message() {
    LC_ALL=C read -r -N 8 length && case $length in *[!0-9]*) false ;; esac || return 1
    LC_ALL=C IFS= read -r -d "" -N "$((10#$length))" message || return 1
    line=${message%%"$newline"*}; body=${message#"$line"}; body=${body#"$newline"}
  }
else
  counted=; next_message() { IFS= read -r line; }
fi
echo "@SESSION@$key @READY@$counted"
while next_message; do
  case "$line" in
  "@QUERY@ "*)
    set -f; set -- $line; set +f; nonce=$2
    status_line() { grep -h "^$nonce $1 " "$state_dir"/@STATUS_FILE@* 2>/dev/null | head -n 1; }
    started_line=$(status_line @STEP_STARTED@)
    if [ -n "$started_line" ] && [ -z "$(status_line @STEP_DONE@)" ]; then
      set -f; set -- $started_line; set +f
      while [ -z "$(status_line @STEP_DONE@)" ] && { kill -0 "$3" 2>/dev/null || kill -0 "$4" 2>/dev/null; }; do sleep 1; done
    fi
    done_line=$(status_line @STEP_DONE@)
    if [ -n "$done_line" ]; then answer="@ANSWER_DONE@ ${done_line##* }"; elif [ -n "$started_line" ]; then answer=@ANSWER_GONE@; else answer=@ANSWER_UNKNOWN@; fi
    echo "@STATE@$key $nonce $answer"
    continue ;;
  "@BEGIN@ "*) ;;
  "@RUN@ "*) [ -n "$script_given" ] || continue ;;
  @FORGET@) stop_runner; rm -rf "$state_dir"; exit 0 ;;
  *) continue ;;
  esac
  set -f; set -- $line; set +f
  verb=$1; nonce=$2; shift 2
  # TIMED: the tool times the step from its start, which the loop then tells it.
  timed=; [ "$1" = @TIMED@ ] && { timed=1; shift; }
  # PASSWORD N: the become password (N bytes) follows the message (and its script).
  password_bytes=0; [ "$1" = @PASSWORD@ ] && { password_bytes=$2; shift 2; }
  # A plain shell step (one word: its shell) runs in the runner of its shell, under job
  # control; any other as a process of its own, and a runner is ended first.
  in_runner=; as_user=
  case "$job_control $# $1" in
  "1 1 /bin/sh"|"1 1 /bin/bash"|"1 1 sh"|"1 1 bash") in_runner=1; [ "$runner_shell" = "$1" ] || stop_runner ;;
  *)
    stop_runner
    # OWN_SHELL: the step names the pid of its shell ($$): it gets a shell of its own.
    [ "$1" = @OWN_SHELL@ ] && shift
    # AS_USER USER|- SHELL: as root, runuser (or nothing, for root); else sudo. The
    # other user cannot open our private script file: the shell reads it on standard
    # input. With a become password, sudo -S reads it first, but only where sudo asks
    # for one (-k: cached credentials aside), found once per user: were the password
    # sent where none is asked, the shell of the step would read it as a command.
    if [ "$1" = @AS_USER@ ]; then
      as_user=1
      if [ "$user_id" = 0 ] && [ "$2" = - ]; then set -- "$3"
      elif [ "$user_id" = 0 ] && command -v runuser >/dev/null 2>&1; then set -- runuser -u "$2" -- "$3"
      else
        user=$2; [ "$user" = - ] && user=root
        if [ -n "$has_password" ]; then
          case "$sudo_free$sudo_asks" in *" $user "*) ;; *)
            if sudo -k -n -u "$user" true 2>/dev/null; then sudo_free="$sudo_free$user "; else sudo_asks="$sudo_asks$user "; fi ;;
          esac
        fi
        case "$sudo_asks" in
        *" $user "*) as_user=pw; set -- sudo -k -S -p "" -u "$user" -- "$3" ;;
        *) set -- sudo -n -u "$user" -- "$3" ;;
        esac
      fi
    fi ;;
  esac
  # One script file per session ($$: hosts that share a machine share the directory),
  # emptied after each step (its secrets do not stay on the host; an rm would cost a
  # process per step). `command` keeps a failed redirection of exec from ending the shell.
  # RUN: the tool has written the file itself.
  if [ "$verb" = @BEGIN@ ]; then
    { command exec 3>"$script_file"; } 2>/dev/null || { echo "@DONE@$key $nonce 126"; echo "@DONE@$key $nonce" >&5; continue; }
    if [ -n "$counted" ]; then printf "%s" "$body" >&3
    else while IFS= read -r script_line; do [ "$script_line" = "@END@$nonce" ] && break; printf "%s\n" "$script_line" >&3; done; fi
    exec 3>&-
  fi
  # The become password goes from the input of the loop straight to sudo -S, never into a
  # variable of this shell, whose memory a step of the same user could read; where sudo
  # does not ask for one, it is read and dropped.
  [ "$password_bytes" = 0 ] || [ "$as_user" = pw ] || dd bs=1 count="$password_bytes" of=/dev/null <&9 2>/dev/null
  if [ -n "$in_runner" ]; then
    # The runner writes the started line itself, once it has the step. One that is gone
    # before that (killed while it waited: perhaps not yet reaped) is replaced, and the
    # step handed to the new one. (Under job control fd 2 of the loop is /dev/null.)
    [ -n "$runner_pid" ] || start_runner "$1"
    for attempt in 1 2; do
      last_pid=; read -r last_pid </proc/sys/kernel/ns_last_pid
      echo "$nonce" >&7 || { stop_runner; start_runner "$runner_shell"; echo "$nonce" >&7; }
      # Said once the step is handed to the runner (a runner that dies before it reads
      # the step is replaced below): the timeout of the tool counts from here.
      [ -z "$timed" ] || [ "$attempt" = 2 ] || echo "@STARTED@$key $nonce"
      # The runner answers with the status of the step; no answer: it is gone, and its
      # status is that of the step, if it had started it.
      IFS= read -r -u 6 status && break
      exec 6<&- 7>&-; wait "$runner_pid"; status=$?; runner_pid=
      grep -q "^$nonce @STEP_STARTED@ " "$state_dir/@STATUS_FILE@$$" && break
      start_runner "$runner_shell"
    done
    # Processes the step left in the group: the pids made meanwhile (Linux: the last
    # one before and after, until it stays put), one by one. With any, or where this
    # cannot tell, the runner ends: the next step gets a new one and a new group.
    left_behind=1
    case $last_pid in ""|*[!0-9]*) ;; *)
      if [ -n "$runner_pid" ] && read -r newest_pid </proc/sys/kernel/ns_last_pid; then
        # One pid made meanwhile is the subshell of the step, which has ended: nothing is left.
        left_behind=; [ "$newest_pid" = $((last_pid + 1)) ] && last_pid=$newest_pid
        while [ "$newest_pid" != "$last_pid" ]; do
          if [ "$newest_pid" -le "$last_pid" ] || [ $((newest_pid - last_pid)) -gt 4096 ]; then left_behind=1; break; fi
          pid=$((last_pid + 1))
          while [ "$pid" -le "$newest_pid" ]; do
            if read -r proc_stat </proc/$pid/stat; then set -f; set -- ${proc_stat##*) }; set +f; [ "$3" = "$runner_pid" ] && { left_behind=1; break 2; }; fi
            pid=$((pid + 1))
          done
          last_pid=$newest_pid; read -r newest_pid </proc/sys/kernel/ns_last_pid || { left_behind=1; break; }
        done
      fi ;;
    esac
    [ -z "$left_behind" ] || stop_runner
  else
    # The group of a pipeline is led by its first process, not by $!: setsid makes the
    # last one a group of its own.
    if [ "$as_user" = pw ]; then { dd bs=1 count="$password_bytes" <&9 2>/dev/null; cat "$script_file"; } 2>&5 | $setsid_command "$@" 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- &
    elif [ -n "$as_user" ]; then $step_setsid "$@" <"$script_file" 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- &
    else $step_setsid "$@" "$script_file" </dev/null 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- & fi
    step_pid=$!
    echo "$nonce @STEP_STARTED@ $step_pid $$" >&4
    [ -z "$timed" ] || echo "@STARTED@$key $nonce"
    # Under job control wait also returns when the step is stopped (SIGSTOP): it is
    # waited for again while it exists. Only a stop signal means that: a step killed by
    # TERM or KILL has ended, and a second wait (its pid perhaps another process by
    # then) would lose its status.
    while :; do
      wait "$step_pid"; status=$?
      [ -n "$job_control" ] && [ "$status" -gt 128 ] || break
      case $(kill -l "$status" 2>/dev/null) in STOP|TSTP|TTIN|TTOU) ;; *) break ;; esac
      kill -0 "$step_pid" 2>/dev/null || break
      sleep 1
    done
  fi
  echo "$nonce @STEP_DONE@ $status" >&4
  # Emptied before the answer: a local tool writes the next script as soon as it has it.
  : >"$script_file"
  echo "@DONE@$key $nonce $status"
  echo "@DONE@$key $nonce" >&5
done
stop_runner
