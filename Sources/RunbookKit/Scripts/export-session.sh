# shellcheck shell=sh
# The session of an exported playbook's shell tasks (runbook export --ansible): read by each
# task with `eval "$RUNBOOK_SESSION"`. Before the step, runbook_session_restore sets up what
# the steps before it on this host, as this user, left (directory, variables; under bash,
# functions and arrays); after a step that passed, runbook_session_save writes what it leaves.
# The state is a file of the user's own, 0600, under
# ${XDG_STATE_HOME:-~/.local/state}/runbook/sessions/ (or /tmp/runbook-sessions-UID/, 0700,
# for a user without a home to write), named after the run
# (RUNBOOK_SESSION_ID): a POSIX part any shell reads and a part only bash reads. The names
# the session does not carry (the shell's own, the tool's) are those exec does not carry.
# POSIX sh, read by dash and bash; external commands through `command -p`, since a step
# may have changed PATH.

# Sets runbook_session_file: in the user's state directory, or, for a user whose home is
# not theirs to write (nobody's /nonexistent), in a directory of theirs alone under /tmp.
runbook_session_where() {
  runbook_d="${XDG_STATE_HOME:-${HOME:-/nonexistent}/.local/state}/runbook/sessions"
  if ! (umask 077 && command -p mkdir -p -- "$runbook_d") 2>/dev/null || [ ! -w "$runbook_d" ]; then
    runbook_d="${TMPDIR:-/tmp}/runbook-sessions-$(command -p id -u)"
    (umask 077 && command -p mkdir -- "$runbook_d") 2>/dev/null
    if [ -L "$runbook_d" ] || [ ! -d "$runbook_d" ] || [ ! -O "$runbook_d" ]; then
      printf '%s\n' "runbook: no directory of this user's own to keep the session in ($runbook_d)" >&2
      runbook_d=/nonexistent
    fi
  fi
  runbook_session_file="$runbook_d/$RUNBOOK_SESSION_ID"
}
runbook_session_where

# Sets runbook_o to $1 as one single-quoted shell word.
runbook_q() {
  runbook_r=$1
  runbook_o=
  while :; do
    case $runbook_r in
      *\'*)
        runbook_p=${runbook_r%%\'*}
        runbook_r=${runbook_r#*\'}
        runbook_o=$runbook_o$runbook_p"'\\''"
        ;;
      *) break ;;
    esac
  done
  runbook_o="'$runbook_o$runbook_r'"
}

# The names of the variables the session carries that are set now, one per line.
runbook_session_names() {
  set | command -p sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' | command -p sort -u |
    while IFS= read -r runbook_n; do
      case $runbook_n in
        @OWN_NAMES@) ;;
        *) eval "[ -z \"\${$runbook_n+x}\" ]" || printf '%s\n' "$runbook_n" ;;
      esac
    done
}

# Sets up the state the steps before left; none before the first step.
runbook_session_restore() {
  if [ -f "$runbook_session_file" ]; then
    for runbook_n in $(runbook_session_names); do unset "$runbook_n" 2>/dev/null || :; done
    # shellcheck source=/dev/null
    . "$runbook_session_file"
    if [ -n "${BASH_VERSION:-}" ] && [ -f "$runbook_session_file.bash" ]; then
      # shellcheck source=/dev/null
      . "$runbook_session_file.bash"
    fi
  fi
  runbook_session_cwd=$PWD
}

# Keeps what the variable $1 held before the step's env= sets it: that value is the step's
# own, as its cwd= directory is.
runbook_session_keep() {
  eval "runbook_had_$1=\${$1+x} runbook_was_$1=\${$1-}"
}

# Puts back what the variable $1 held when it still holds the step's env= value $2.
runbook_session_unkeep() {
  eval "[ \"\${$1-}\" = \"\$2\" ]" || return 0
  if eval "[ -n \"\$runbook_had_$1\" ]"; then eval "$1=\$runbook_was_$1"; else unset "$1"; fi
}

# Writes the state this step leaves (a failure to write fails the step, saying where).
runbook_session_save() {
  set +e
  (
    umask 077
    runbook_x=" $(export -p | command -p sed -n -e 's/^export \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' \
      -e 's/^declare -[A-Za-z]*x[A-Za-z]* \([A-Za-z_][A-Za-z0-9_]*\).*/\1/p' | command -p tr '\n' ' ') "
    {
      # A directory the step's cwd= took it to is the step's own, unless it went on.
      if [ "$PWD" = "${runbook_cwd-}" ]; then runbook_q "$runbook_session_cwd"; else runbook_q "$PWD"; fi
      printf 'cd -- %s || { printf "%%s\\n" "runbook: the session'"'"'s directory %s is gone" >&2; exit 1; }\n' \
        "$runbook_o" "$runbook_o"
      for runbook_n in $(runbook_session_names); do
        if [ -n "${BASH_VERSION:-}" ] && ! runbook_session_scalar "$runbook_n"; then continue; fi
        eval "runbook_q \"\${$runbook_n}\""
        case $runbook_x in *" $runbook_n "*) printf 'export ' ;; esac
        printf '%s=%s\n' "$runbook_n" "$runbook_o"
      done
    } >"$runbook_session_file.new" || exit 1
    command -p mv -f -- "$runbook_session_file.new" "$runbook_session_file" || exit 1
    if [ -n "${BASH_VERSION:-}" ]; then runbook_session_save_bash || exit 1; fi
  ) && return 0
  printf '%s\n' "runbook: cannot keep the session in ${runbook_session_file%/*}" >&2
  return 1
}

# bash keeps functions and arrays too, in a part of the state only bash reads. A step of a
# POSIX shell leaves that part as it was, as exec does.
if [ -n "${BASH_VERSION:-}" ]; then
  eval '
runbook_session_scalar() {
  case ${!1@a} in *[aAr]*) return 1 ;; esac
}
runbook_session_save_bash() {
  {
    for runbook_n in $(runbook_session_names); do
      case ${!runbook_n@a} in
        *r*) ;;
        *[aA]*) declare -p "$runbook_n" | command -p sed "1s/^declare -/declare -g/" ;;
      esac
    done
    for runbook_f in $(compgen -A function); do
      case $runbook_f in runbook_*) ;; *) declare -f "$runbook_f" ;; esac
    done
  } >"$runbook_session_file.bash.new" &&
    command -p mv -f -- "$runbook_session_file.bash.new" "$runbook_session_file.bash"
}'
fi
