import Foundation
import RunbookTestSupport
import Testing

/// `runbook export --ansible` run by ansible-playbook itself against real sshd hosts on
/// loopback, compared with `runbook exec` of the same runbook on the same hosts.
@Suite(
  .serialized,
  .enabled(
    if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs openssh-server"),
  .enabled(
    if: TestEnvironment.hasAnsible,
    "needs ansible-core: Scripts/setup --tests installs it in .build/ansible")
)
struct ExportTests {
  static let secret = "p'w \"$x\" \\ ;"

  /// Every kind the export writes, per-host values, a capture used on other hosts, a
  /// secret through `| quote`, guards, retries, text that looks like Jinja.
  static func runbook(dir: String) -> String {
    """
    ---
    title: Export end to end
    vars:
      out: \(dir)/files
    secrets: [db_password]
    ---
    ```sh {role=db name=token capture=tok}
    mkdir -p {{ out }}/{{ host.name }}
    echo tok-$(echo {{ host.address }} | tr . -)
    ```

    ```sh {role=db name=stash}
    mkdir -p {{ out }}/{{ host.name }}
    printf '%s\\n' {{ db_password | quote }} > {{ out }}/{{ host.name }}/pw
    ```

    A step that names no secret but prints one: its output is masked all the same.

    ```sh {role=db name=reveal}
    cat {{ out }}/{{ host.name }}/pw
    ```

    ```bash {role=web name=use retries=1 delay=1s}
    mkdir -p {{ out }}/{{ host.name }}
    echo "{{ tok }} {% raw %} {# #} $(printf %s {{ db_password | quote }} | wc -c)" | tee {{ out }}/{{ host.name }}/use.txt
    ```

    ```ini {role=web name=cfg file={{ out }}/{{ host.name }}/app.ini section=main create}
    listen = {{ host.address }}
    ```

    ```sh {role=web name=block}
    echo keep > {{ out }}/{{ host.name }}/motd
    ```

    ```text {role=web name=motd file={{ out }}/{{ host.name }}/motd append}
    managed line
    ```

    ```text {role=web,db name=conf file={{ out }}/{{ host.name }}/plain.conf mode=0640}
    a = 1
    ```

    ```sh {role=web,db name=once creates={{ out }}/{{ host.name }}/done}
    echo once >> {{ out }}/{{ host.name }}/count; touch {{ out }}/{{ host.name }}/done
    ```

    ```console {role=web name=check}
    $ cat {{ out }}/{{ host.name }}/use.txt
    {{ tok }} * (glob)
    $ printf 'a\\nb\\nc\\n'
    ...
    c
    $ false
    [1]
    ```

    ```python {role=web name=py}
    print("py", 6 * 7, "{{ host.name }}")
    ```

    ```sql {role=db name=db client="sqlite3 {{ out }}/{{ host.name }}/t.db"}
    CREATE TABLE IF NOT EXISTS t(x TEXT);
    INSERT INTO t VALUES({{ tok | sql }});
    ```

    ```sh {role=web name=who user=nobody expect="^nobody\\s*$"}
    id -un
    ```

    ```sh {role=web,db name=one-by-one serial timeout=10s tags=slow}
    echo {{ host.name }} >> {{ out }}/serial.txt
    ```

    ```sh {role=web,db name=skipped unless="true"}
    echo never > {{ out }}/{{ host.name }}/never
    ```
    """
  }

  /// Each file under `dir` with its mode and text.
  static func tree(_ dir: URL) -> [String: String] {
    var out: [String: String] = [:]
    let manager = FileManager.default
    guard let walker = manager.enumerator(atPath: dir.path) else { return [:] }
    for case let path as String in walker {
      let url = dir.appendingPathComponent(path)
      var isDir: ObjCBool = false
      guard manager.fileExists(atPath: url.path, isDirectory: &isDir), !isDir.boolValue else {
        continue
      }
      let mode = (try? manager.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? 0
      out[path] =
        String(mode, radix: 8) + " " + ((try? String(contentsOf: url, encoding: .utf8)) ?? "")
    }
    return out
  }

  /// A guide that sets up a session (`cd`, `export`, a plain variable, a function, a sourced
  /// file) in its first step and relies on it later prints the same under exec and under
  /// the exported playbook, on two hosts; an isolated step sees none of it; a step's own
  /// `cwd=` and `env=` stay its own; a user without a home keeps a session too.
  @Test func aSessionChainIsTheSameThroughTheExport() throws {
    let hosts = try SSHHosts(["s1", "s2"], base: 23970)
    defer { hosts.tearDown() }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-export-session-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try """
    ```bash {role=app name=setup}
    mkdir -p {{ work }}/{{ host.name }}/app && cd {{ work }}/{{ host.name }}/app
    printf 'export VIRTUAL_ENV=%s/venv\\nPATH="$VIRTUAL_ENV/bin:$PATH"\\n' "$PWD" > activate
    . ./activate
    export PORT=3000
    GREETING="it's {{ host.name }}"
    greet() { echo "hello $1 from $GREETING"; }
    ```

    ```bash {role=app name=use}
    echo "$(basename "$PWD") $PORT ${VIRTUAL_ENV##*/}"; greet you; case $PATH in */venv/bin:*) echo venv first;; esac
    ```

    ```python {role=app name=py}
    import os; print(os.path.basename(os.getcwd()), os.environ.get("PORT"), os.environ.get("GREETING"))
    ```

    ```sh {role=app name=own cwd=/ env="PORT=1"}
    echo "own $PWD $PORT [$GREETING]"
    ```

    ```sh {role=app name=after}
    echo "after $(basename "$PWD") $PORT"; cd ..
    ```

    ```bash {role=app name=alone isolated}
    echo "alone [${PORT:-}] [${GREETING:-}] $(type -t greet || echo none)"
    ```

    ```bash {role=app name=last}
    echo "last $(basename "$PWD")"; greet again
    ```

    ```sh {role=app name=nobody user=nobody}
    cd /; NOBODY=1
    ```

    ```sh {role=app name=nobody-again user=nobody}
    echo "nobody $PWD $NOBODY [${PORT:-}]"
    ```

    ```sql {role=app name=temp client="sqlite3 {{ work }}/{{ host.name }}/app.db"}
    CREATE TEMP TABLE seen(host);
    INSERT INTO seen VALUES ('{{ host.name }}');
    ```

    ```sql {role=app name=temp-again client="sqlite3 {{ work }}/{{ host.name }}/app.db"}
    SELECT 'seen ' || host FROM seen;
    ```

    ```sh {role=app name=prompt-left}
    true
    ```

    ```sql {role=app name=temp-gone client="sqlite3 {{ work }}/{{ host.name }}/app.db"}
    SELECT 'temporary tables ' || count(*) FROM sqlite_temp_master;
    ```
    """.write(to: dir.appendingPathComponent("rb.md"), atomically: true, encoding: .utf8)
    try hosts.inventory(groups: ["s1": "app", "s2": "app"]).write(
      to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    let work = ["--var", "work=\(dir.path)/work"]

    let native = try CLI.run(
      ["exec", "rb.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--report-dir", "native"]
        + work, in: dir)
    #expect(native.status == 0, "\(native.stdout)\n\(native.stderr)")
    let exported = try CLI.run(
      ["export", "rb.md", "-i", "hosts", "--ansible", "-o", "out"] + work, in: dir)
    #expect(exported.status == 0, "\(exported.stdout)\n\(exported.stderr)")
    let runDir = dir.appendingPathComponent("ansible-run")
    let sessionsBefore = Self.sessionFiles()
    let clientsBefore = Self.clientDirectories()
    let (status, printed) = try Self.playbook(
      in: dir.appendingPathComponent("out"), hosts: hosts,
      environment: ["RUNBOOK_RUN_DIR": runDir.path])
    #expect(status == 0, "\(printed)")

    let byExec = Self.tree(dir.appendingPathComponent("native/logs"))
    let byAnsible = Self.tree(runDir.appendingPathComponent("logs"))
    #expect(byExec["002-use/s1.log"] == "600 app 3000 venv\nhello you from it's s1\nvenv first\n")
    #expect(byExec["003-py/s2.log"] == "600 app 3000 None\n")
    #expect(byExec["004-own/s1.log"] == "600 own / 1 [it's s1]\n")
    #expect(byExec["005-after/s1.log"] == "600 after app 3000\n")
    #expect(byExec["006-alone/s1.log"] == "600 alone [] [] none\n")
    #expect(byExec["007-last/s2.log"] == "600 last s2\nhello again from it's s2\n")
    #expect(byExec["009-nobody-again/s1.log"] == "600 nobody / 1 []\n")
    // Two SQL steps share one client, kept open; a shell step between ends it.
    #expect(byExec["011-temp-again/s2.log"] == "600 seen s2\n")
    #expect(byExec["013-temp-gone/s1.log"] == "600 temporary tables 0\n")
    // exec writes no log for a step that printed nothing; the playbook's callback does.
    #expect(byExec.count == 18)
    #expect(byAnsible.filter { $0.value != "600 " } == byExec)
    // The playbook's last play removed the state it kept on the hosts (the hosts' users
    // are this machine's: the login's state directory, and nobody's under /tmp).
    #expect(Self.sessionFiles() == sessionsBefore)
    // And it ended the clients the SQL tasks kept open.
    #expect(Self.clientDirectories() == clientsBefore)
    #expect(
      eventually(timeout: .seconds(10)) {
        ClientSessionTests.processes(mentioning: "\(dir.path)/work").isEmpty
      })
  }

  /// The exported playbooks' SQL client directories of hosts s1 and s2 under /tmp (the
  /// hosts' users are this machine's; other tests' clients have other names).
  static func clientDirectories() -> Set<String> {
    Set(
      ((try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []).filter {
        $0.hasPrefix("runbook-client-") && ($0.contains("-s1-") || $0.contains("-s2-"))
      })
  }

  /// The state files exported playbooks keep on this machine (its users' sessions).
  static func sessionFiles() -> Set<String> {
    let manager = FileManager.default
    let home = manager.homeDirectoryForCurrentUser.path + "/.local/state/runbook/sessions"
    var found = Set(
      ((try? manager.contentsOfDirectory(atPath: home)) ?? []).map { home + "/" + $0 })
    for folder in (try? manager.contentsOfDirectory(atPath: "/tmp")) ?? []
    where folder.hasPrefix("runbook-sessions-") {
      let path = "/tmp/" + folder
      found.formUnion(
        ((try? manager.contentsOfDirectory(atPath: path)) ?? []).map { path + "/" + $0 })
    }
    return found
  }

  @Test func anExportedPlaybookDoesWhatExecDoes() throws {
    let hosts = try SSHHosts(["w1", "d1"], base: 23950)
    defer { hosts.tearDown() }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-export-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try Self.runbook(dir: dir.path).write(
      to: dir.appendingPathComponent("rb.md"), atomically: true, encoding: .utf8)
    try hosts.inventory(groups: ["w1": "web", "d1": "db"]).write(
      to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    let files = dir.appendingPathComponent("files")
    let env = ["RUNBOOK_SECRET_DB_PASSWORD": Self.secret]

    let native = try CLI.run(
      ["exec", "rb.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--report-dir", "native"],
      in: dir, environment: env)
    #expect(native.status == 0, "\(native.stdout)\n\(native.stderr)")
    let byExec = Self.tree(files)
    try FileManager.default.removeItem(at: files)

    let exported = try CLI.run(
      ["export", "rb.md", "-i", "hosts", "--ansible", "-o", "out"], in: dir)
    #expect(exported.status == 0, "\(exported.stdout)\n\(exported.stderr)")
    let project = dir.appendingPathComponent("out")
    for (path, text) in Self.tree(project) {
      #expect(!text.contains(Self.secret), "the secret is in \(path)")
    }

    let runDir = dir.appendingPathComponent("ansible-run")
    let (status, printed) = try Self.playbook(
      in: project, hosts: hosts, environment: env.merging(["RUNBOOK_RUN_DIR": runDir.path]) { $1 })
    #expect(status == 0, "\(printed)")
    #expect(!printed.contains(Self.secret), "ansible-playbook printed the secret")
    let byAnsible = Self.tree(files)

    // The callback wrote runbook's run directory: reports render, verify accepts it, and
    // each step ended on each host as it did under exec.
    let report = try CLI.run(["report", runDir.path], in: dir)
    #expect(report.status == 0, "\(report.stdout)\n\(report.stderr)")
    let verify = try CLI.run(["verify", runDir.path], in: dir)
    #expect(verify.status == 0, "\(verify.stdout)\n\(verify.stderr)")
    #expect(Self.outcomes(dir.appendingPathComponent("native")) == Self.outcomes(runDir))
    #expect(
      Self.outcomes(dir.appendingPathComponent("native"), field: "captured")
        == Self.outcomes(runDir, field: "captured"))
    #expect(Self.outcomes(runDir, field: "captured")["token@d1"] == "{\"tok\":\"tok-127-0-0-22\"}")
    #expect(Self.outcomes(runDir).count == 19)
    // The steps' own text, as exec records it, for shell and file steps.
    let scripts = Self.outcomes(runDir, field: "script")
    let nativeScripts = Self.outcomes(dir.appendingPathComponent("native"), field: "script")
    for key in ["block@w1", "once@d1", "cfg@w1", "motd@w1", "conf@d1"] {
      #expect(scripts[key] != nil && scripts[key] == nativeScripts[key], "\(key)")
    }
    let journal =
      (try? String(contentsOf: runDir.appendingPathComponent("journal.jsonl"), encoding: .utf8))
      ?? ""
    #expect(!journal.contains(Self.secret))
    // Nothing either run wrote holds the secret, though `reveal` printed it.
    for run in [runDir, dir.appendingPathComponent("native")] {
      for (path, text) in Self.tree(run) {
        #expect(!text.contains(Self.secret), "the secret is in \(run.lastPathComponent)/\(path)")
      }
    }
    #expect(
      (try? String(
        contentsOf: runDir.appendingPathComponent("logs/003-reveal/d1.log"), encoding: .utf8))
        == "********\n")

    #expect(!byExec.isEmpty)
    #expect(byAnsible == byExec)
    #expect(
      byExec["w1/use.txt"]?.hasSuffix("tok-127-0-0-22 {% raw %} {# #} \(Self.secret.utf8.count)\n")
        == true)
    #expect(byExec["w1/app.ini"] == "644 [main]\nlisten = 127.0.0.21\n")
    #expect(byExec["d1/plain.conf"] == "640 a = 1\n")
    #expect(byExec["w1/never"] == nil)
    #expect(
      byExec["w1/motd"] == "644 keep\n# BEGIN RUNBOOK motd\nmanaged line\n# END RUNBOOK motd\n")

    // A transcript the output does not match fails the play, as it fails exec.
    try """
    ```console {role=web name=wrong}
    $ echo actual
    expected
    ```
    """.write(to: dir.appendingPathComponent("wrong.md"), atomically: true, encoding: .utf8)
    let wrong = try CLI.run(
      ["export", "wrong.md", "-i", "hosts", "--ansible", "-o", "wrong"], in: dir)
    #expect(wrong.status == 0)
    let wrongRun = dir.appendingPathComponent("wrong-run")
    let (failed, said) = try Self.playbook(
      in: dir.appendingPathComponent("wrong"), hosts: hosts,
      environment: ["RUNBOOK_RUN_DIR": wrongRun.path])
    #expect(failed != 0)
    #expect(said.contains("differs from the transcript"), "\(said)")
    // Its journal says failed, and never said ok first: the step is recorded once its
    // output has been checked.
    let wrongJournal =
      (try? String(contentsOf: wrongRun.appendingPathComponent("journal.jsonl"), encoding: .utf8))
      ?? ""
    #expect(Self.outcomes(wrongRun) == ["wrong@w1": "failed"])
    #expect(!wrongJournal.contains("\"status\":\"ok\""))
    #expect(try CLI.run(["report", wrongRun.path], in: dir).status == 0)
    let verified = try CLI.run(["verify", wrongRun.path], in: dir)
    #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
    // The run directory is the operator's alone, as runbook exec's.
    let manager = FileManager.default
    let mode = { (url: URL) in
      (try? manager.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int) ?? -1
    }
    #expect(mode(wrongRun) == 0o700)
    #expect(mode(wrongRun.appendingPathComponent("journal.jsonl")) == 0o600)
    #expect(mode(wrongRun.appendingPathComponent("logs/001-wrong/w1.log")) == 0o600)
    // A second run into the same directory never appends to its journal.
    let reported = try? String(
      contentsOf: wrongRun.appendingPathComponent("journal.jsonl"), encoding: .utf8)
    let (_, again) = try Self.playbook(
      in: dir.appendingPathComponent("wrong"), hosts: hosts,
      environment: ["RUNBOOK_RUN_DIR": wrongRun.path])
    #expect(again.contains("already holds a run"))
    #expect(
      (try? String(contentsOf: wrongRun.appendingPathComponent("journal.jsonl"), encoding: .utf8))
        == reported)
  }

  /// Each step's last status (or another field, as JSON) per host, from a run directory's
  /// journal.
  static func outcomes(_ run: URL, field: String = "status") -> [String: String] {
    let text =
      (try? String(contentsOf: run.appendingPathComponent("journal.jsonl"), encoding: .utf8)) ?? ""
    var out: [String: String] = [:]
    for line in text.split(separator: "\n") {
      guard
        let record = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
        record["type"] as? String == "step", let step = record["step"] as? String,
        let host = record["host"] as? String
      else { continue }
      guard let value = record[field] else { continue }
      out[step + "@" + host] =
        value as? String
        ?? (try? JSONSerialization.data(withJSONObject: value, options: .sortedKeys)).map {
          String(decoding: $0, as: UTF8.self)
        }
    }
    return out
  }

  /// Runs ansible-playbook on the project's playbook; its status and what it printed.
  static func playbook(in project: URL, hosts: SSHHosts, environment: [String: String]) throws
    -> (Int32, String)
  {
    try CLI.program(
      TestEnvironment.ansiblePlaybook, ["playbook.yml"], in: project,
      environment: environment.merging([
        "ANSIBLE_SSH_ARGS": "-F \(hosts.sshConfig)", "ANSIBLE_NOCOLOR": "1",
      ]) { $1 })
  }

}
