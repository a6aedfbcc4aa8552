#!/usr/bin/env bash
# Captures the failure outputs of the FailureReason corpus: real commands failing on this
# machine (Debian 12, root, no systemd, no network beyond loopback), each run in a scratch
# directory, its standard output and error kept apart as NAME.stdout and NAME.stderr.
# What each output's reason should be is written by hand in expected.tsv.
#
#   Tests/RunbookKitTests/Fixtures/failures/capture.sh [NAME…]    (default: every case)
#
# The database cases need Scripts/test-databases (PostgreSQL, MariaDB). The lock case
# holds dpkg's frontend lock for a few seconds with a lock of this script's own.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../.." && pwd)
scratch=$(mktemp -d)
trap '"$root/Scripts/test-databases" down "$scratch/db" >/dev/null 2>&1; dpkg --purge runbook-broken >/dev/null 2>&1; rm -rf "$scratch"' EXIT
# The database servers run as nobody when this runs as root: they must reach their folder.
chmod 755 "$scratch"

# case NAME COMMAND: runs COMMAND with bash in a fresh directory.
case_() {
  local name=$1 command=$2
  if [ ${#wanted[@]} -gt 0 ] && [[ ! " ${wanted[*]} " == *" $name "* ]]; then return; fi
  local dir="$scratch/$name"
  mkdir -p "$dir"
  (cd "$dir" && bash -c "$command") >"$here/$name.stdout" 2>"$here/$name.stderr" </dev/null
  echo "$name: exit $?"
  [ -s "$here/$name.stdout" ] || rm -f "$here/$name.stdout"
}

wanted=("$@")

case_ systemctl-without-systemd 'systemctl restart nginx'
case_ apt-lock-held 'python3 -c "
import fcntl, os, subprocess
fd = os.open(\"/var/lib/dpkg/lock-frontend\", os.O_RDWR | os.O_CREAT)
fcntl.lockf(fd, fcntl.LOCK_EX)
raise SystemExit(subprocess.call([\"apt-get\", \"install\", \"-y\", \"hello\"]))
"'
case_ apt-unknown-package 'apt-get install -y runbook-no-such-package'
case_ dpkg-missing-archive 'dpkg -i /nonexistent/app_1.0_amd64.deb'
case_ psql-no-server 'psql -h "$PWD" -U postgres -c "select 1"'
case_ mysql-no-server 'mysql -S "$PWD/mysqld.sock" -u root -e "select 1"'
case_ sqlite-no-table 'sqlite3 app.db "select * from users;"'
case_ redis-no-server 'redis-cli -p 1 ping'
case_ python-traceback 'python3 -c "
import json
def load(path):
    with open(path) as f:
        return json.load(f)
load(\"/etc/app/config.json\")
"'
case_ python-module-missing 'python3 -c "import yaml_no_such_module"'
case_ python-exit-message 'python3 -c "import sys; sys.exit(\"config file missing: /etc/app.yml\")"'
case_ pip-externally-managed '/usr/bin/python3 -m pip install requests'
case_ pip-offline 'python3 -m venv v && v/bin/pip install --retries 1 --timeout 1 runbook-no-such-package'
case_ java-caused-by 'cat > Main.java <<JAVA
import java.net.Socket;
public class Main {
  static void connect() {
    try { new Socket("127.0.0.1", 1).close(); }
    catch (java.io.IOException e) { throw new IllegalStateException("cannot reach the database", e); }
  }
  public static void main(String[] args) { connect(); }
}
JAVA
java Main.java'
case_ node-module-missing 'node -e "require(\"express-no-such-module\")"'
case_ npm-offline 'npm install --no-audit --fetch-retries=0 --fetch-timeout=2000 runbook-no-such-package'
case_ curl-refused 'curl -fsS http://127.0.0.1:1/health'
case_ curl-http-404 'python3 -m http.server 18931 --bind 127.0.0.1 >/dev/null 2>&1 & pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null http://127.0.0.1:18931/ && break; sleep 0.2; done
curl -fsS http://127.0.0.1:18931/v2/health; status=$?; kill $pid; exit $status'
case_ wget-refused 'wget http://127.0.0.1:1/app.tar.gz'
case_ make-gcc-error 'printf "int main(void) {\n  int x = 1\n  return x;\n}\n" > main.c
printf "all: main\nmain: main.c\n\tgcc -Wall -o main main.c\n" > Makefile
make'
case_ make-no-target 'printf "all:\n\ttrue\n" > Makefile; make install'
case_ rustc-error 'printf "fn main() {\n    println!(\"{}\", count);\n}\n" > main.rs; rustc main.rs'
case_ git-not-a-repository 'git pull'
case_ git-clone-refused 'git clone http://127.0.0.1:1/app.git'
case_ tar-missing 'tar xzf app-1.0.tar.gz'
case_ perl-module-missing 'perl -MNo::Such::Module -e 1'
case_ docker-no-daemon 'docker ps'
case_ kubectl-no-server 'kubectl get pods'
case_ useradd-exists 'useradd root'
case_ ssh-refused 'ssh -o BatchMode=yes -p 1 127.0.0.1 true'
case_ openssl-missing-file 'openssl x509 -in /etc/ssl/app.crt -noout -text'
case_ cp-missing 'cp /etc/app/app.conf /etc/app/app.conf.bak'
case_ gpg-missing 'gpg --verify app.tar.gz.asc app.tar.gz'
case_ unzip-missing 'unzip app.zip'
case_ python-chained 'python3 -c "
import socket
def connect():
    try:
        socket.create_connection((\"127.0.0.1\", 1), timeout=2)
    except ConnectionRefusedError as error:
        raise RuntimeError(\"the cache at 127.0.0.1:1 is down\") from error
connect()
"'
# A package whose post-installation script fails; the package is purged again on exit.
case_ dpkg-postinst-fails 'mkdir -p pkg/DEBIAN
printf "Package: runbook-broken\nVersion: 1.0\nArchitecture: all\nMaintainer: runbook tests <tests@example.invalid>\nDescription: fails on purpose\n" > pkg/DEBIAN/control
printf "#!/bin/sh\nset -e\necho \"listen = 0.0.0.0\" > /etc/runbook-no-such-dir/app.conf\n" > pkg/DEBIAN/postinst
chmod 755 pkg/DEBIAN/postinst
dpkg-deb --build pkg runbook-broken.deb >/dev/null && dpkg -i runbook-broken.deb'
case_ chown-unknown-user 'touch app.conf; chown app:app app.conf'
case_ mount-missing-device 'mkdir -p mnt; mount /dev/runbook-no-such-disk mnt'
case_ sshd-bad-option 'printf "PermitRootLogin no\nListenAdress 0.0.0.0\n" > sshd_config; /usr/sbin/sshd -t -f "$PWD/sshd_config"'
case_ service-unknown 'service nginx restart'
case_ cargo-offline 'cargo new --vcs none app >/dev/null 2>&1 && cd app && printf "serde = \"1\"\n" >> Cargo.toml && CARGO_HOME="$PWD/.cargo" cargo build --offline'

case_ javac-error 'printf "class Main {\n  public static void main(String[] a) {\n    int x = 1\n  }\n}\n" > Main.java; javac Main.java'
case_ gcc-link-error 'printf "void start(void);\nint main(void) { start(); return 0; }\n" > main.c; gcc -o main main.c'
case_ python-syntax-error 'printf "def main()\n    print(1)\n" > app.py; python3 app.py'
case_ node-syntax-error 'printf "const x = {\n  a: 1,,\n};\n" > app.js; node app.js'
case_ bash-syntax-error 'printf "if [ -f x ]\n  echo yes\nfi\n" > install.sh; bash install.sh'
case_ tar-not-gzip 'echo "not an archive" > app.tar.gz; tar xzf app.tar.gz'
case_ git-pathspec 'git init -q . && git checkout release-2.0'
case_ ln-exists 'touch current; ln -s /opt/app/releases/2 current'
case_ ssh-keygen-missing 'ssh-keygen -l -f /root/.ssh/deploy_key.pub'
case_ sqlite-syntax 'sqlite3 app.db "CREATE TABLE users (id integer primary key, name text);
INSERT INTO users VALUES (1, \"ada\");
SELEC * FROM users;"'

if [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" psql-sql-error "* || " ${wanted[*]} " == *" mysql-sql-error "* ]]; then
  mkdir -p "$scratch/db"
  "$root/Scripts/test-databases" up "$scratch/db" postgres >/dev/null
  "$root/Scripts/test-databases" up "$scratch/db" mariadb >/dev/null
  case_ psql-sql-error "psql -h '$scratch/db/postgres' -U postgres -v ON_ERROR_STOP=1 <<'SQL'
CREATE TABLE users (id int);
SELECT name FROM users;
SQL"
  case_ mysql-sql-error "mysql -S '$scratch/db/mariadb/socket' -u root <<'SQL'
CREATE DATABASE app;
USE app;
SELECT * FROM users;
SQL"
fi
