import Foundation
import RunbookTestSupport
import Testing

/// Consecutive `sql` steps with the same client type into one client kept open, as an
/// operator keeps one prompt open: against sqlite3 locally and over ssh on two real sshd
/// hosts (killed mid-run), and against real PostgreSQL, MariaDB and Redis servers started
/// on sockets of the test's own (`Scripts/test-databases`).
@Suite struct ClientSessionTests {
  static let hasSQLite = FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3")

  /// A directory of the test's own, and TMPDIR for the run inside it: the clients' private
  /// directories are made there, so the test sees that none is left.
  static func workspace(_ name: String) throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-\(name)-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(
      at: dir.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    // Servers that run as nobody (PostgreSQL under root) reach their folders through it.
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: dir.path)
    return dir
  }

  /// The processes whose command line mentions `text`.
  static func processes(mentioning text: String) -> [String] {
    let ids = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return ids.filter { $0.allSatisfy(\.isNumber) && $0 != "\(getpid())" }.compactMap { id in
      guard let data = FileManager.default.contents(atPath: "/proc/\(id)/cmdline") else {
        return nil
      }
      let line = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
      return line.contains(text) ? "\(id): \(line)" : nil
    }
  }

  /// The client directories left in a run's TMPDIR.
  static func clientDirectories(_ dir: URL) -> [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("tmp").path))
      ?? []).filter { $0.hasPrefix("runbook-client-") }
  }

  /// The 1-based line of `text` in `guide`.
  static func line(of text: String, in guide: String) -> Int {
    (guide.components(separatedBy: "\n").firstIndex { $0.contains(text) } ?? -1) + 1
  }

  @Test(.enabled(if: hasSQLite, "needs sqlite3: Scripts/setup --tests installs it"))
  func sqliteStepsShareATemporaryTableUntilAnotherStepLeavesThePrompt() throws {
    let dir = try Self.workspace("sqlite-session")
    defer { try? FileManager.default.removeItem(at: dir) }
    let client = "client=\"sqlite3 {{ dir }}/app.db\""
    let guide = """
      # Notes

      ```sql {role=local \(client) name=create}
      sqlite> CREATE TEMP TABLE seen(x);
      sqlite> INSERT INTO seen VALUES (41);
      ```

      ```sql {role=local \(client) name=alone isolated}
      SELECT 'alone sees ' || count(*) FROM sqlite_temp_master;
      ```

      ```sql {role=local \(client) name=use}
      SELECT 'answer ' || (x + 1)
        FROM seen
      ```

      ```sh {role=local name=shell}
      echo typed at the shell
      ```

      ```sql {role=local \(client) name=after}
      SELECT 'after the shell sees ' || count(*) FROM sqlite_temp_master;
      SELECT missing FROM nowhere;
      SELECT 'not reached';
      ```
      """
    try guide.write(to: dir.appendingPathComponent("guide.md"), atomically: true, encoding: .utf8)
    let result = try CLI.run(
      ["exec", "guide.md", "--var", "dir=\(dir.path)", "--report-dir", "run"], in: dir,
      environment: ["TMPDIR": dir.appendingPathComponent("tmp").path])
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    // The temporary table lives in the one client the first and third steps share; the
    // isolated step has a client of its own, and does not end the shared one.
    #expect(result.stdout.contains("alone sees 0"))
    #expect(result.stdout.contains("answer 42"), "\(result.stdout)")
    // The shell step left the prompt: the next step has a new client.
    #expect(result.stdout.contains("after the shell sees 0"))
    #expect(!result.stdout.contains("not reached"))
    // The error's line is the guide's, though the client had read earlier steps' lines.
    let failing = Self.line(of: "SELECT missing FROM nowhere", in: guide)
    #expect(
      result.stdout.contains("guide.md:\(failing): Parse error: no such table: nowhere"),
      "\(result.stdout)")
    // Nothing is left of the clients: their directories, their processes.
    #expect(Self.clientDirectories(dir) == [])
    #expect(eventually(timeout: .seconds(10)) { Self.processes(mentioning: dir.path).isEmpty })
  }

  @Test(.enabled(if: hasSQLite, "needs sqlite3: Scripts/setup --tests installs it"))
  func aStatementLeftOpenFailsTheStepAndNoPasswordShowsInPs() throws {
    let dir = try Self.workspace("sqlite-open")
    defer { try? FileManager.default.removeItem(at: dir) }
    // A password in the client's words (as PGPASSWORD=… would be) is not an argument of
    // any process while the client waits at its gate.
    let secret = "hunter2-\(UUID().uuidString.prefix(6))"
    let client = "client=\"SECRET_WORD=\(secret) sqlite3 {{ dir }}/app.db\""
    try """
    ```sql {role=local \(client) name=gate}
    .shell while [ ! -e {{ dir }}/go ]; do sleep 0.1; done
    SELECT 'through the gate';
    ```

    ```sql {role=local \(client) name=open}
    SELECT 'an unterminated quote;
    ```

    ```sql {role=local \(client) name=after isolated}
    SELECT 'never ran';
    ```
    """.write(to: dir.appendingPathComponent("guide.md"), atomically: true, encoding: .utf8)
    let running = try CLI.start(
      ["exec", "guide.md", "--var", "dir=\(dir.path)", "--report-dir", "run"], in: dir)
    #expect(eventually { !Self.processes(mentioning: "\(dir.path)/app.db").isEmpty })
    #expect(Self.processes(mentioning: secret).isEmpty, "\(Self.processes(mentioning: secret))")
    FileManager.default.createFile(atPath: dir.appendingPathComponent("go").path, contents: nil)
    // The open statement waits for input that never comes: the step fails within seconds.
    #expect(eventually(timeout: .seconds(30)) { !running.process.isRunning })
    if running.process.isRunning { running.process.terminate() }
    let result = CLI.finish(running)
    #expect(result.status == 1)
    #expect(result.stdout.contains("through the gate"))
    #expect(
      result.stdout.contains(
        "failed — the SQL client is left waiting for more input after this step's statements"),
      "\(result.stdout)")
    #expect(!result.stdout.contains("never ran"))
  }

  @Test(
    .enabled(if: hasSQLite, "needs sqlite3: Scripts/setup --tests installs it"),
    .enabled(
      if: TestEnvironment.hasSSHD, "needs sshd: Scripts/setup --tests installs openssh-server")
  )
  func overSSHEachHostHasItsClientAndAKilledToolLeavesNoneRunning() throws {
    let hosts = try SSHHosts(["c1", "c2"], base: 24400)
    defer { hosts.tearDown() }
    let dir = try Self.workspace("sqlite-ssh")
    defer { try? FileManager.default.removeItem(at: dir) }
    try hosts.inventory(groups: ["c1": "db", "c2": "db"]).write(
      to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    // sqlite3's .shell runs a command: the gate waits at the client's prompt.
    let client = "client=\"sqlite3 {{ dir }}/{{ host.name }}.db\""
    let guide = """
      ```sql {role=db \(client) name=create}
      CREATE TEMP TABLE seen(host);
      INSERT INTO seen VALUES ('{{ host.name }}');
      ```

      ```sql {role=db \(client) name=gate}
      .shell while [ ! -e {{ dir }}/go ]; do sleep 0.1; done
      SELECT 'gate sees ' || host FROM seen;
      ```

      ```sql {role=db \(client) name=after}
      SELECT 'after sees ' || count(*) FROM sqlite_temp_master;
      ```
      """
    try guide.write(to: dir.appendingPathComponent("guide.md"), atomically: true, encoding: .utf8)
    let go = dir.appendingPathComponent("go").path
    let arguments = [
      "exec", "guide.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var",
      "dir=\(dir.path)",
    ]

    FileManager.default.createFile(atPath: go, contents: nil)
    let whole = try CLI.run(arguments + ["--report-dir", "whole"], in: dir)
    #expect(whole.status == 0, "\(whole.stdout)\(whole.stderr)")
    // The reports say where each host was reached.
    let data = try Data(contentsOf: dir.appendingPathComponent("whole/run.json"))
    let json = try JSONSerialization.jsonObject(with: data) as? [String: Any]
    let details = (json?["run"] as? [String: Any])?["hostDetails"] as? [[String: Any]]
    #expect(
      details?.map { "\($0["name"] ?? "") \($0["address"] ?? ""):\($0["port"] ?? "")" }
        == hosts.hosts.map { "\($0.name) \($0.address):\($0.port)" })
    for host in ["c1", "c2"] {
      #expect(whole.stdout.contains("[\(host)] gate sees \(host)"), "\(whole.stdout)")
      #expect(whole.stdout.contains("[\(host)] after sees 1"))
    }
    #expect(eventually(timeout: .seconds(10)) { Self.processes(mentioning: dir.path).isEmpty })

    // Killed while both clients wait at the gate: once the gate opens and the step ends,
    // the hosts' session loops end and the clients with them.
    try FileManager.default.removeItem(atPath: go)
    let running = try CLI.start(arguments + ["--report-dir", "killed"], in: dir)
    #expect(
      eventually { CLI.starts(of: "gate", in: dir.appendingPathComponent("killed")) == 2 })
    #expect(
      eventually {
        Self.processes(mentioning: "\(dir.path)/c2.db").contains { $0.contains(": sqlite3 ") }
      })
    kill(running.process.processIdentifier, SIGKILL)
    _ = CLI.finish(running)
    FileManager.default.createFile(atPath: go, contents: nil)
    #expect(
      eventually(timeout: .seconds(20)) { Self.processes(mentioning: dir.path).isEmpty },
      "\(Self.processes(mentioning: dir.path))")

    // Resumed: the gate finished on the hosts; the next step finds the client gone and
    // says so, instead of seeming to carry what it cannot.
    let resumed = try CLI.run(arguments + ["--resume", "killed"], in: dir)
    #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
    #expect(resumed.stdout.contains("[c1] after sees 0"), "\(resumed.stdout)")
    #expect(
      resumed.stdout.contains(
        "the client the steps before this one left open has ended; this step starts a new one"))
  }

  /// Starts a server of `kind` in `dir`; nil (the test then returns) where it is not
  /// installed, which the test says.
  static func server(_ kind: String, in dir: URL) throws -> Bool {
    let (status, printed) = try CLI.program(
      CLI.packageRoot.appendingPathComponent("Scripts/test-databases").path,
      ["up", dir.appendingPathComponent("servers").path, kind])
    if status == 3 {
      print("skipped: \(printed)")
      return false
    }
    #expect(status == 0, "\(printed)")
    return status == 0
  }

  static func stopServers(in dir: URL) {
    _ = try? CLI.program(
      CLI.packageRoot.appendingPathComponent("Scripts/test-databases").path,
      ["down", dir.appendingPathComponent("servers").path])
  }

  /// Runs `guide` locally with `dir` and the server's socket as variables.
  static func exec(_ guide: String, in dir: URL, environment: [String: String] = [:]) throws
    -> CLI.Result
  {
    try guide.write(to: dir.appendingPathComponent("guide.md"), atomically: true, encoding: .utf8)
    return try CLI.run(
      [
        "exec", "guide.md", "--var", "dir=\(dir.path)", "--var",
        "servers=\(dir.appendingPathComponent("servers").path)", "--report-dir", "run",
      ], in: dir,
      environment: environment.merging(["TMPDIR": dir.appendingPathComponent("tmp").path]) { $1 })
  }

  @Test func psqlKeepsTemporaryTablesAndSettingsAndStopsAtAnError() throws {
    let dir = try Self.workspace("psql-session")
    defer { try? FileManager.default.removeItem(at: dir) }
    defer { Self.stopServers(in: dir) }
    guard try Self.server("postgres", in: dir) else { return }
    let client = "client=\"psql -X -h {{ servers }}/postgres -U postgres\""
    let guide = """
      ```sql {role=local \(client) name=create}
      postgres=# CREATE TEMP TABLE t(x int);
      postgres=# INSERT INTO t VALUES (41);
      postgres=# SET application_name = 'guide-session';
      ```

      ```sql {role=local \(client) name=use}
      SELECT x + 1 AS answer, current_setting('application_name') AS app FROM t;
      ```

      ```sql {role=local \(client) name=broken}
      SELECT 1/0;
      SELECT 'not reached';
      ```
      """
    let result = try Self.exec(guide, in: dir)
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("42 | guide-session"), "\(result.stdout)")
    #expect(result.stdout.contains("division by zero"))
    #expect(!result.stdout.contains("not reached"))
    #expect(Self.clientDirectories(dir) == [])
  }

  @Test func mariadbKeepsTheDatabaseInUseAndReportsTheGuidesLine() throws {
    let dir = try Self.workspace("mariadb-session")
    defer { try? FileManager.default.removeItem(at: dir) }
    defer { Self.stopServers(in: dir) }
    guard try Self.server("mariadb", in: dir) else { return }
    let client = "client=\"mysql -S {{ servers }}/mariadb/socket -u root\""
    let guide = """
      ```sql {role=local \(client) name=create}
      CREATE DATABASE IF NOT EXISTS app;
      USE app;
      CREATE TEMPORARY TABLE t (x INT);
      INSERT INTO t VALUES (41)
      ```

      ```sql {role=local \(client) name=use}
      MariaDB [app]> SELECT DATABASE() AS db, x + 1 AS answer FROM t;
      ```

      ```sql {role=local \(client) name=broken}
      SELECT 'first';
      SELECT * FROM missing;
      SELECT 'not reached';
      ```
      """
    let result = try Self.exec(guide, in: dir)
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("app\t42"), "\(result.stdout)")
    #expect(!result.stdout.contains("not reached"))
    let failing = Self.line(of: "SELECT * FROM missing", in: guide)
    #expect(
      result.stdout.contains(
        "guide.md:\(failing): ERROR 1146 (42S02): Table 'app.missing' doesn't exist"),
      "\(result.stdout)")
  }

  @Test func redisKeepsAuthAndFailsOnAnErrorReply() throws {
    let dir = try Self.workspace("redis-session")
    defer { try? FileManager.default.removeItem(at: dir) }
    defer { Self.stopServers(in: dir) }
    guard try Self.server("redis", in: dir) else { return }
    let password = try String(
      contentsOf: dir.appendingPathComponent("servers/redis/password"), encoding: .utf8)
    let client = "client=\"redis-cli -s {{ servers }}/redis/socket\""
    let guide = """
      ---
      secrets: [redis_password]
      ---

      ```sql {role=local \(client) name=auth}
      127.0.0.1:6379> AUTH {{ redis_password }}
      127.0.0.1:6379> SET greeting hello
      ```

      ```sql {role=local \(client) name=use}
      GET greeting
      ```

      ```sql {role=local \(client) name=broken}
      INCR greeting
      ```
      """
    let result = try Self.exec(
      guide, in: dir, environment: ["RUNBOOK_SECRET_REDIS_PASSWORD": password])
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains("\"hello\""), "\(result.stdout)")
    #expect(
      result.stdout.contains("failed — (error) ERR value is not an integer or out of range"),
      "\(result.stdout)")
    let report = try String(
      contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8)
    #expect(!report.contains(password) && !result.stdout.contains(password))
  }
}
