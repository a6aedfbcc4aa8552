import Foundation
import RunbookTestSupport
import Testing

/// The session over ssh, on two real sshd hosts: a guide that sets up a session in its first
/// steps prints the same in its later steps whether the run went through at once, failed and
/// was resumed, or lost its tool (SIGKILL) and was resumed.
@Suite(
  .serialized,
  .enabled(if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs openssh-server")
)
struct SessionResumeTests {
  /// `gate` waits for the file `go` (`wait`) or fails without it (`test`).
  static func guide(gate: String) -> String {
    """
    ```sh {role=app name=setup}
    mkdir -p {{ dir }}/{{ host.name }}/app && cd {{ dir }}/{{ host.name }}/app
    printf 'VIRTUAL_ENV=%s/venv; export VIRTUAL_ENV\\nPATH="$VIRTUAL_ENV/bin:$PATH"\\n' "$PWD" > activate
    . ./activate
    export PORT=3000
    GREETING="hello from {{ host.name }}"
    ```

    ```bash {role=app name=define}
    greet() { echo "$GREETING in $(basename "$PWD") on port $PORT"; }
    cd ..
    ```

    ```sh {role=app name=gate}
    \(gate == "wait" ? "while [ ! -e {{ dir }}/go ]; do sleep 0.1; done" : "test -e {{ dir }}/go")
    ```

    ```bash {role=app name=use}
    greet
    echo "venv=${VIRTUAL_ENV##*/}"
    case $PATH in "$VIRTUAL_ENV/bin:"*) echo "venv first on PATH" ;; esac
    ```

    ```python {role=app name=py}
    import os
    print(os.path.basename(os.getcwd()), os.environ.get("PORT"), os.environ.get("GREETING"))
    ```

    ```sh {role=app name=alone isolated}
    echo "alone: [${PORT:-}] [${GREETING:-}]"
    ```
    """
  }

  /// The logs of the steps after the gate, by step and host (a resumed run's are its
  /// second attempt's: `HOST.attempt-2.log`).
  static func laterLogs(_ run: URL) -> [String: String] {
    var logs: [String: String] = [:]
    for step in ["004-use", "005-py", "006-alone"] {
      let folder = run.appendingPathComponent("logs/\(step)")
      let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
      for host in ["s1", "s2"] {
        for name in names where name.hasPrefix(host + ".") {
          logs["\(step)/\(host)"] = try? String(
            contentsOf: folder.appendingPathComponent(name), encoding: .utf8)
        }
      }
    }
    return logs
  }

  @Test func aFailedOrKilledRunResumesInTheSameSession() throws {
    let hosts = try SSHHosts(["s1", "s2"], base: 24300)
    defer { hosts.tearDown() }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-session-resume-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try hosts.inventory(groups: ["s1": "app", "s2": "app"]).write(
      to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    try Self.guide(gate: "test").write(
      to: dir.appendingPathComponent("test.md"), atomically: true, encoding: .utf8)
    try Self.guide(gate: "wait").write(
      to: dir.appendingPathComponent("wait.md"), atomically: true, encoding: .utf8)
    let go = dir.appendingPathComponent("go").path
    func exec(_ book: String, _ run: String, _ more: [String] = []) throws -> CLI.Result {
      try CLI.run(
        ["exec", book, "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var", "dir=\(dir.path)"]
          + (more.isEmpty ? ["--report-dir", run] : more), in: dir)
    }

    // At once.
    FileManager.default.createFile(atPath: go, contents: nil)
    let whole = try exec("test.md", "whole")
    #expect(whole.status == 0, "\(whole.stdout)\(whole.stderr)")
    let expected = Self.laterLogs(dir.appendingPathComponent("whole"))
    #expect(
      expected["004-use/s2"] == "hello from s2 in s2 on port 3000\nvenv=venv\nvenv first on PATH\n")
    #expect(expected["005-py/s1"] == "s1 3000 None\n")
    #expect(expected["006-alone/s1"] == "alone: [] []\n")

    // Failed at the gate, then resumed.
    try FileManager.default.removeItem(atPath: go)
    let failed = try exec("test.md", "failed")
    #expect(failed.status != 0)
    FileManager.default.createFile(atPath: go, contents: nil)
    let resumed = try exec("test.md", "failed", ["--resume", "failed"])
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(Self.laterLogs(dir.appendingPathComponent("failed")) == expected)

    // The tool killed while both hosts wait at the gate, then resumed.
    try FileManager.default.removeItem(atPath: go)
    let running = try CLI.start(
      [
        "exec", "wait.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var",
        "dir=\(dir.path)", "--report-dir", "killed",
      ], in: dir)
    #expect(
      eventually { CLI.starts(of: "gate", in: dir.appendingPathComponent("killed")) == 2 })
    kill(running.process.processIdentifier, SIGKILL)
    _ = CLI.finish(running)
    FileManager.default.createFile(atPath: go, contents: nil)
    let afterKill = try exec("wait.md", "killed", ["--resume", "killed"])
    #expect(afterKill.status == 0, "\(afterKill.stdout)\(afterKill.stderr)")
    #expect(Self.laterLogs(dir.appendingPathComponent("killed")) == expected)
  }
}
