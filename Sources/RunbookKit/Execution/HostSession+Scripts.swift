import Foundation

/// The shell scripts of the session protocol: the loop a host runs, the stop of a step,
/// and the escalation check. None holds a single quote: they travel inside single quotes
/// over ssh.
extension HostSession {
  /// The command that runs the loop: under bash when the host has it (job control gives
  /// each step its process group without an exec), else under `/bin/sh`. Its arguments go
  /// to the loop: a local session names the script file the tool writes itself.
  static func launcher(stateToken: String) -> String {
    let loop = ShellQuote.word(server(stateToken: stateToken))
    return
      "if [ -x /bin/bash ]; then exec /bin/bash -c \(loop) runbook \"$@\"; fi; exec /bin/sh -c \(loop) runbook \"$@\""
  }

  /// The script file of a local session: in the run's state directory, where the loop
  /// takes it from (`RUNBOOK-RUN`), so that the script does not travel through the loop's
  /// standard input, which a shell can only read a byte at a time.
  static func localScriptFile(stateToken: String, environment: [String: String]) -> String {
    let tmp = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    let digits = (0..<12).map { _ in String(Int.random(in: 0...9)) }.joined()
    return "\(tmp)/runbook-state-\(stateToken)/step-\(digits).sh"
  }

  /// The loop the shell runs (no single quotes: it travels inside them over ssh);
  /// `stateToken` names the run's state directory.
  static func server(stateToken: String) -> String {
    """
    IFS= read -r key || exit 0
    # Whether the host has a become password (a line "1", or an empty line). The password
    # itself comes with each step that may need it, never to be held here.
    pw=; IFS= read -r pw || exit 0
    d="${TMPDIR:-/tmp}/runbook-state-\(stateToken)"
    (umask 077; mkdir -p "$d") 2>/dev/null; [ -d "$d" ] && [ -O "$d" ] && chmod 700 "$d" || { echo "RUNBOOK-SESSION-$key failed: cannot make a private $d"; exit 1; }
    # Each step runs in a process group of its own, so a stop ends all it started. Under
    # bash, job control gives it one at no cost; elsewhere setsid does, at an exec a step.
    # Job notices go nowhere: fd 2 of the loop is /dev/null then, and steps get fd 5. Only
    # bash 5.1 and later (where wait -f exists) is trusted with job control.
    exec 5>&2
    ssid=$(command -v setsid || true); sid=$ssid; jc=
    if [ -n "${BASH_VERSION:-}" ] && wait -f 2>/dev/null && set -m 2>/dev/null; then
      # A write to a runner that has just gone fails instead of ending the loop (a trap,
      # unlike an ignored signal, is not inherited by the steps).
      sid=; jc=1; exec 2>/dev/null; trap : PIPE
    fi
    uid=$(id -u)
    free=" "; need=" "
    # What became of each step, a line per event on a file this session keeps open: a new
    # file per step would cost more than the step itself on some file systems.
    { command exec 4>>"$d/status-$$"; } 2>/dev/null || { echo "RUNBOOK-SESSION-$key failed: cannot write $d/status-$$"; exit 1; }
    f="$d/step-$$.sh"; given=
    case "${1:-}" in "$d"/step-*.sh) f=$1; given=1 ;; esac
    # The runner: one shell (of the steps kind) that runs each plain step as a subshell of
    # its own, so a step costs a fork and no exec. It is a job of the loop (its own process
    # group, which a stop ends with the step) and talks to the loop over the pipes of a
    # coprocess (fds 6 and 7; the loop sees their end when the runner is gone). After each
    # step the loop looks for processes the step left behind in that group: with any, or
    # where it cannot tell, the runner ends, and the next step gets a new runner and group,
    # so a later stop never ends what an earlier step left running.
    # Without bash and its job control, every step is a process of its own, as below. The
    # bash words are in eval: sh parses the whole loop, also where bash runs it.
    rp=; rsh=; rprog="\(ShellQuote.insideDoubleQuotes(runner))"
    exec 8>&1
    # A copy of the input of the loop for dd: an asynchronous list reads /dev/null as its input
    # where there is no job control. No step gets it.
    exec 9<&0
    run() {
      eval "coproc RUNBOOK_RUNNER { exec \\"\\$1\\" -c \\"\\$rprog\\" \\"\\$f\\" 2>/dev/null 6>&- 7>&- 9<&-; }"
      # Copies the loop owns: bash closes its own when it reaps the runner, perhaps before
      # its last answer is read; and the runner sees the end of its input only once no copy
      # of it is left open.
      eval "i=\\${RUNBOOK_RUNNER[0]} o=\\${RUNBOOK_RUNNER[1]}"
      eval "exec 6<&$i 7>&$o $i<&- $o>&-"
      rp=$RUNBOOK_RUNNER_PID; rsh=$1
    }
    unrun() { [ -z "$rp" ] || { exec 6<&- 7>&-; wait "$rp"; rp=; }; }
    # Under bash, what the tool sends after the ready line is counted: eight digits of its
    # length in bytes, then the message (its first line, then a script), read at once; a
    # shell reads a line a byte at a time (it must not read past it on a pipe).
    if [ -n "${BASH_VERSION:-}" ]; then
      cnt=" counted"; nl="
    "
      next() {
        LC_ALL=C read -r -N 8 len && case $len in *[!0-9]*) false ;; esac || return 1
        LC_ALL=C IFS= read -r -d "" -N "$((10#$len))" msg || return 1
        line=${msg%%"$nl"*}; body=${msg#"$line"}; body=${body#"$nl"}
      }
    else
      cnt=; next() { IFS= read -r line; }
    fi
    echo "RUNBOOK-SESSION-$key ready$cnt"
    while next; do
      case "$line" in
      "RUNBOOK-QUERY "*)
        set -f; set -- $line; set +f; n=$2
        st() { grep -h "^$n $1 " "$d"/status-* 2>/dev/null | head -n 1; }
        r=$(st started)
        if [ -n "$r" ] && [ -z "$(st done)" ]; then
          set -f; set -- $r; set +f
          while [ -z "$(st done)" ] && { kill -0 "$3" 2>/dev/null || kill -0 "$4" 2>/dev/null; }; do sleep 1; done
        fi
        e=$(st done)
        if [ -n "$e" ]; then s="done ${e##* }"; elif [ -n "$r" ]; then s=gone; else s=unknown; fi
        echo "RUNBOOK-STATE-$key $n $s"
        continue ;;
      "RUNBOOK-BEGIN "*) ;;
      "RUNBOOK-RUN "*) [ -n "$given" ] || continue ;;
      RUNBOOK-FORGET) unrun; rm -rf "$d"; exit 0 ;;
      *) continue ;;
      esac
      set -f; set -- $line; set +f
      verb=$1; n=$2; shift 2
      # RUNBOOK-TIMED: the tool times the step from its start, which the loop then tells it.
      timed=; [ "$1" = RUNBOOK-TIMED ] && { timed=1; shift; }
      # RUNBOOK-PW N: the become password (N bytes) follows the message (and its script).
      pwn=0; [ "$1" = RUNBOOK-PW ] && { pwn=$2; shift 2; }
      # A plain shell step (one word: its shell) runs in the runner of its shell, under job
      # control; any other as a process of its own, and a runner is ended first.
      fast=; as=
      case "$jc $# $1" in
      "1 1 /bin/sh"|"1 1 /bin/bash"|"1 1 sh"|"1 1 bash") fast=1; [ "$rsh" = "$1" ] || unrun ;;
      *)
        unrun
        # RUNBOOK-OWN: the step names the pid of its shell ($$): it gets a shell of its own.
        [ "$1" = RUNBOOK-OWN ] && shift
        # RUNBOOK-AS USER|- SHELL: as root, runuser (or nothing, for root); else sudo. The
        # other user cannot open our private script file: the shell reads it on standard
        # input. With a become password, sudo -S reads it first, but only where sudo asks
        # for one (-k: cached credentials aside), found once per user: were the password
        # sent where none is asked, the shell of the step would read it as a command.
        if [ "$1" = RUNBOOK-AS ]; then
          as=1
          if [ "$uid" = 0 ] && [ "$2" = - ]; then set -- "$3"
          elif [ "$uid" = 0 ] && command -v runuser >/dev/null 2>&1; then set -- runuser -u "$2" -- "$3"
          else
            u=$2; [ "$u" = - ] && u=root
            if [ -n "$pw" ]; then
              case "$free$need" in *" $u "*) ;; *)
                if sudo -k -n -u "$u" true 2>/dev/null; then free="$free$u "; else need="$need$u "; fi ;;
              esac
            fi
            case "$need" in
            *" $u "*) as=pw; set -- sudo -k -S -p "" -u "$u" -- "$3" ;;
            *) set -- sudo -n -u "$u" -- "$3" ;;
            esac
          fi
        fi ;;
      esac
      # One script file per session ($$: hosts that share a machine share the directory),
      # emptied after each step (its secrets do not stay on the host; an rm would cost a
      # process per step). `command` keeps a failed redirection of exec from ending the shell.
      # RUNBOOK-RUN: the tool has written the file itself.
      if [ "$verb" = RUNBOOK-BEGIN ]; then
        { command exec 3>"$f"; } 2>/dev/null || { echo "RUNBOOK-DONE-$key $n 126"; echo "RUNBOOK-DONE-$key $n" >&5; continue; }
        if [ -n "$cnt" ]; then printf "%s" "$body" >&3
        else while IFS= read -r l; do [ "$l" = "RUNBOOK-END-$n" ] && break; printf "%s\\n" "$l" >&3; done; fi
        exec 3>&-
      fi
      # The become password goes from the input of the loop straight to sudo -S, never into a
      # variable of this shell, whose memory a step of the same user could read; where sudo
      # does not ask for one, it is read and dropped.
      [ "$pwn" = 0 ] || [ "$as" = pw ] || dd bs=1 count="$pwn" of=/dev/null <&9 2>/dev/null
      if [ -n "$fast" ]; then
        # The runner writes the started line itself, once it has the step. One that is gone
        # before that (killed while it waited: perhaps not yet reaped) is replaced, and the
        # step handed to the new one. (Under job control fd 2 of the loop is /dev/null.)
        [ -n "$rp" ] || run "$1"
        for try in 1 2; do
          a=; read -r a </proc/sys/kernel/ns_last_pid
          echo "$n" >&7 || { unrun; run "$rsh"; echo "$n" >&7; }
          # Said once the step is handed to the runner (a runner that dies before it reads
          # the step is replaced below): the timeout of the tool counts from here.
          [ -z "$timed" ] || [ "$try" = 2 ] || echo "RUNBOOK-STARTED-$key $n"
          # The runner answers with the status of the step; no answer: it is gone, and its
          # status is that of the step, if it had started it.
          IFS= read -r -u 6 rc && break
          exec 6<&- 7>&-; wait "$rp"; rc=$?; rp=
          grep -q "^$n started " "$d/status-$$" && break
          run "$rsh"
        done
        # Processes the step left in the group: the pids made meanwhile (Linux: the last
        # one before and after, until it stays put), one by one. With any, or where this
        # cannot tell, the runner ends: the next step gets a new one and a new group.
        l=1
        case $a in ""|*[!0-9]*) ;; *)
          if [ -n "$rp" ] && read -r z </proc/sys/kernel/ns_last_pid; then
            # One pid made meanwhile is the subshell of the step, which has ended: nothing is left.
            l=; [ "$z" = $((a + 1)) ] && a=$z
            while [ "$z" != "$a" ]; do
              if [ "$z" -le "$a" ] || [ $((z - a)) -gt 4096 ]; then l=1; break; fi
              p=$((a + 1))
              while [ "$p" -le "$z" ]; do
                if read -r s </proc/$p/stat; then set -f; set -- ${s##*) }; set +f; [ "$3" = "$rp" ] && { l=1; break 2; }; fi
                p=$((p + 1))
              done
              a=$z; read -r z </proc/sys/kernel/ns_last_pid || { l=1; break; }
            done
          fi ;;
        esac
        [ -z "$l" ] || unrun
      else
        # The group of a pipeline is led by its first process, not by $!: setsid makes the
        # last one a group of its own.
        if [ "$as" = pw ]; then { dd bs=1 count="$pwn" <&9 2>/dev/null; cat "$f"; } 2>&5 | $ssid "$@" 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- &
        elif [ -n "$as" ]; then $sid "$@" <"$f" 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- &
        else $sid "$@" "$f" </dev/null 2>&5 4>&- 5>&- 6>&- 7>&- 8>&- 9<&- & fi
        pid=$!
        echo "$n started $pid $$" >&4
        [ -z "$timed" ] || echo "RUNBOOK-STARTED-$key $n"
        # Under job control wait also returns when the step is stopped (SIGSTOP): it is
        # waited for again while it exists. Only a stop signal means that: a step killed by
        # TERM or KILL has ended, and a second wait (its pid perhaps another process by
        # then) would lose its status.
        while :; do
          wait "$pid"; rc=$?
          [ -n "$jc" ] && [ "$rc" -gt 128 ] || break
          case $(kill -l "$rc" 2>/dev/null) in STOP|TSTP|TTIN|TTOU) ;; *) break ;; esac
          kill -0 "$pid" 2>/dev/null || break
          sleep 1
        done
      fi
      echo "$n done $rc" >&4
      # Emptied before the answer: a local tool writes the next script as soon as it has it.
      : >"$f"
      echo "RUNBOOK-DONE-$key $n $rc"
      echo "RUNBOOK-DONE-$key $n" >&5
    done
    unrun
    """
  }

  /// The runner's loop (POSIX sh, and bash): for each line (the step's nonce), the started
  /// line on the status file (fd 4), then the script file (`$0`) in a subshell that holds
  /// none of the runner's variables, descriptors or arguments; then the step's status.
  static let runner = """
    while IFS= read -r w; do
      echo "$w started $$ $PPID" >&4
      (unset w; set --; exec </dev/null >&8 2>&5 4>&- 5>&- 8>&-; . "$0")
      echo "$?"
    done
    """

  /// The shell script that stops a step: its pid comes from the state file the loop wrote,
  /// so nothing a step prints can choose what is killed; a step that has ended is left.
  /// A step that runs as another user is signalled through sudo (unless the stop runs as
  /// root), which reads the become password, when there is one, from the first line of
  /// the script's standard input.
  static func stopScript(stateToken: String, nonce: String, escalated: Bool) -> String {
    // dash's built-in kill takes `-SIG -PGID` but not `--`; sudo runs kill(1), which needs it.
    let choose =
      escalated
      ? """
      if [ "$(id -u)" = 0 ]; then k() { kill "-$1" "-$2"; }
      else
        IFS= read -r pw || pw=
        if [ -n "$pw" ] && ! sudo -k -n true 2>/dev/null; then
          k() { printf "%s\\n" "$pw" | sudo -k -S -p "" kill "-$1" -- "-$2"; }
        else k() { sudo -n kill "-$1" -- "-$2"; }; fi
      fi

      """ : "k() { kill \"-$1\" \"-$2\"; }\n"
    return choose + """
      d="${TMPDIR:-/tmp}/runbook-state-\(stateToken)"
      r=$(grep -h "^\(nonce) started " "$d"/status-* 2>/dev/null | head -n 1)
      p=$(echo "$r" | cut -d " " -f 3)
      case "$p" in ""|*[!0-9]*) exit 0 ;; esac
      [ "$p" -gt 1 ] && ! grep -q "^\(nonce) done " "$d"/status-* 2>/dev/null || exit 0
      k TERM "$p" 2>/dev/null
      for i in 1 2 3 4 5 6 7 8 9 10; do k 0 "$p" 2>/dev/null || exit 0; sleep 0.2 2>/dev/null || sleep 1; done
      k KILL "$p" 2>/dev/null; true
      """
  }

  /// The script that checks, before a run, that the host can run steps as `users` (`-`
  /// for root, as `become` does): as root, that each user exists (runuser needs nothing
  /// else); otherwise that sudo works for each, without a password or with the become
  /// password (its first line of input), so that a wrong one stops the run before it starts.
  static func escalationCheck(users: [String]) -> String {
    let words = users.map(ShellQuote.word).joined(separator: " ")
    return """
      if [ "$(id -u)" = 0 ]; then
        for u in \(words); do [ "$u" = - ] || id -u "$u" >/dev/null 2>&1 || { echo "there is no user $u" >&2; exit 1; }; done
        exit 0
      fi
      IFS= read -r pw || pw=
      for u in \(words); do
        [ "$u" = - ] && u=root
        if [ -z "$pw" ]; then sudo -n -u "$u" true || exit 1; continue; fi
        sudo -k -n -u "$u" true 2>/dev/null && continue
        e=$(printf "%s\\n" "$pw" | sudo -k -S -p "" -u "$u" true 2>&1) && continue
        echo "sudo -u $u refused the become password: $(printf "%s\\n" "$e" | tail -n 1)" >&2
        exit 1
      done
      """
  }
}
