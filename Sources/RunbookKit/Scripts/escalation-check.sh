# Checks, before a run, that the host can run steps as each of USERS (- for root, as
# become does): as root, that each user exists (runuser needs nothing else); otherwise
# that sudo works for each, without a password or with the become password (the first
# line of standard input), so that a wrong one stops the run before it starts.
# shellcheck shell=sh disable=SC2043
if [ "$(id -u)" = 0 ]; then
  for user in @USERS@; do [ "$user" = - ] || id -u "$user" >/dev/null 2>&1 || { echo "there is no user $user" >&2; exit 1; }; done
  exit 0
fi
IFS= read -r password || password=
for user in @USERS@; do
  [ "$user" = - ] && user=root
  if [ -z "$password" ]; then sudo -n -u "$user" true || exit 1; continue; fi
  sudo -k -n -u "$user" true 2>/dev/null && continue
  refusal=$(printf "%s\n" "$password" | sudo -k -S -p "" -u "$user" true 2>&1) && continue
  echo "sudo -u $user refused the become password: $(printf "%s\n" "$refusal" | tail -n 1)" >&2
  exit 1
done
