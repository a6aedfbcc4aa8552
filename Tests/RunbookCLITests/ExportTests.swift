import Foundation
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
