import Foundation
import RunbookTestSupport
import Testing

@testable import RunbookKit

/// Runs runbooks for real on this machine (local transport) in a temporary directory.
struct LocalRun {
  let dir: URL
  var records: [StepRecord] = []
  var end: RunEndRecord?
  var summary: RunSummary?
  var lines: [String] = []

  init() throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-exec-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
  }

  var path: String { dir.path }

  func cleanUp() { try? FileManager.default.removeItem(at: dir) }

  /// Plans `markdown` (with `{{ dir }}` set to the temporary directory) and runs it.
  mutating func exec(
    _ markdown: String, vars: [String: String] = [:], runDirectory: String? = nil,
    configure: (inout ExecOptions) -> Void = { _ in }
  ) async throws {
    let file = dir.appendingPathComponent("runbook.md")
    try markdown.write(to: file, atomically: true, encoding: .utf8)
    var preflight = Preflight(runbookPath: file.path)
    preflight.variables = ["dir=\(dir.path)"] + vars.map { "\($0.key)=\($0.value)" }
    let outcome = preflight.run()
    guard let plan = outcome.plan, !outcome.diagnostics.hasErrors else {
      throw DiagnosticsError(outcome.diagnostics)
    }
    var options = ExecOptions(
      runDirectory: runDirectory ?? dir.appendingPathComponent("run").path,
      ssh: SSHSettings(controlDirectory: dir.path), operatorName: "tester@test")
    configure(&options)
    var executor = Executor(plan: plan, options: options)
    let sink = LineSink()
    executor.echo = { sink.add($0) }
    summary = try await executor.run()
    lines = sink.lines
    let journal = try Journal.read(path: options.runDirectory + "/journal.jsonl")
    records = journal.steps
    end = journal.end
  }

  func status(_ step: String) -> StepStatus? { records.last { $0.step == step }?.status }
  func record(_ step: String) -> StepRecord? { records.last { $0.step == step } }
  func read(_ name: String) -> String? {
    try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
  }
}

final class LineSink: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: [String] = []
  func add(_ line: String) { lock.withLock { stored.append(line) } }
  var lines: [String] { lock.withLock { stored } }
}

@Suite(.serialized) struct LocalExecutionTests {
  @Test func shellStopsAtTheFirstFailingCommandAndTheRunStops() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      # S
      ```sh {role=a name=fails}
      echo one > {{ dir }}/one
      false
      echo two > {{ dir }}/two
      ```
      ```sh {role=a name=never}
      touch {{ dir }}/never
      ```
      """)
    #expect(run.status("fails") == .failed)
    #expect(run.record("fails")?.exitCode == 1)
    #expect(run.read("one") == "one\n")
    #expect(run.read("two") == nil)
    #expect(run.record("never") == nil)
    #expect(run.summary?.status == .failed)
    #expect(run.summary?.exitStatus == 1)
  }

  /// A step that is stopped (SIGSTOP) has not ended: it is not recorded as done while its
  /// processes wait, stopped; its timeout ends it like any step that hangs.
  @Test func aStoppedStepIsNotAnEndedOne() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=local name=stopped timeout=4s allow-fail}
      echo $$ > {{ dir }}/stopped.pid
      kill -STOP $$
      echo resumed
      ```
      """)
    #expect(run.status("stopped") == .timeout)
    let pid = Int32(run.read("stopped.pid")?.trimmingWhitespace() ?? "") ?? 0
    let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
      .split(separator: ")").last?.split(separator: " ").first
    #expect(pid > 0 && (state == nil || state == "Z"), "the stopped step was ended, not left")
  }

  @Test func bashUsesPipefailAndCommandsCannotSwallowTheScript() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=stdin}
      cat > {{ dir }}/stdin.txt
      echo after > {{ dir }}/after
      ```
      ```bash {role=a name=pipe}
      false | true
      ```
      """)
    #expect(run.status("stdin") == .ok)
    #expect(run.read("stdin.txt") == "")
    #expect(run.read("after") == "after\n")
    #expect(run.status("pipe") == .failed)
  }

  @Test func consoleTranscriptsAreChecked() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```console {role=a name=good}
      $ echo hello
      hello
      $ printf 'no newline'
      no newline
      $ sh -c 'exit 3'
      [3]
      $ seq 1 5
      1
      ...
      5
      ```
      ```console {role=a name=bad allow-fail}
      $ echo actual
      expected
      ```
      """)
    #expect(run.status("good") == .ok)
    #expect(run.status("bad") == .failed)
    #expect(run.record("bad")?.mismatch == "$ echo actual\n- expected\n+ actual")
    #expect(run.summary?.status == .passed)
  }

  @Test func sqlIsPipedToTheClientWithoutPrompts() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sql {role=a client="cat > {{ dir }}/sql.txt"}
      MariaDB [(none)]> CREATE DATABASE glance;
      MariaDB [(none)]> GRANT ALL PRIVILEGES ON glance.* TO 'glance'@'%' IDENTIFIED BY 'g';
      ```
      """)
    #expect(run.records.first?.status == .ok)
    #expect(
      run.read("sql.txt")
        == "CREATE DATABASE glance;\nGRANT ALL PRIVILEGES ON glance.* TO 'glance'@'%' IDENTIFIED BY 'g';\n"
    )
  }

  @Test func fileStepsWriteMergeAppendOnceAndRecordDiffs() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try "[database]\n# keep me\nconnection = sqlite://\n".write(
      to: run.dir.appendingPathComponent("app.conf"), atomically: true, encoding: .utf8)
    let runbook = """
      ```text {role=a name=write file={{ dir }}/motd mode=0600}
      Welcome
      ```
      ```ini {role=a name=merge file={{ dir }}/app.conf section=database}
      connection = mysql://db/app
      ```
      ```conf {role=a name=add file={{ dir }}/haproxy.cfg append}
      listen keystone
        bind :5000
      ```
      """
    try await run.exec(runbook, runDirectory: run.path + "/first")
    #expect(run.records.map(\.status) == [.ok, .ok, .ok])
    #expect(run.records.map(\.changed) == [true, true, true])
    #expect(run.read("motd") == "Welcome\n")
    let mode =
      try FileManager.default.attributesOfItem(atPath: run.path + "/motd")[.posixPermissions]
      as? Int
    #expect(mode == 0o600)
    #expect(run.read("app.conf") == "[database]\n# keep me\nconnection = mysql://db/app\n")
    #expect(run.read("app.conf.runbook-orig") == "[database]\n# keep me\nconnection = sqlite://\n")
    #expect(
      run.record("merge")?.diff?.contains("-connection = sqlite://\n+connection = mysql://db/app")
        == true)
    #expect(
      run.read("haproxy.cfg")
        == "# BEGIN RUNBOOK add\nlisten keystone\n  bind :5000\n# END RUNBOOK add\n")

    try await run.exec(runbook, runDirectory: run.path + "/second")
    #expect(run.records.map(\.status) == [.ok, .ok, .ok])
    #expect(run.records.map(\.changed) == [false, false, false])
    #expect(run.read("app.conf.runbook-orig") == "[database]\n# keep me\nconnection = sqlite://\n")
  }

  @Test func anIniMergeOnAMissingFileFailsUnlessItMayCreateIt() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let merge = """
      ```ini {role=a name=agent file={{ dir }}/agent.ini section=vxlan}
      enable_vxlan = false
      ```
      """
    try await run.exec(merge, runDirectory: run.path + "/missing")
    #expect(run.status("agent") == .failed)
    #expect(
      run.record("agent")?.reason?.hasSuffix(
        "agent.ini does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)"
      ) == true, "\(run.record("agent")?.reason ?? "")")
    #expect(!FileManager.default.fileExists(atPath: run.path + "/agent.ini"))

    // With `create`, the file is made, readable by others as a config file usually is.
    try await run.exec(
      merge.replacingOccurrences(of: "section=vxlan}", with: "section=vxlan create}"),
      runDirectory: run.path + "/created")
    #expect(run.status("agent") == .ok)
    #expect(run.read("agent.ini") == "[vxlan]\nenable_vxlan = false\n")
    func mode(_ name: String) throws -> Int? {
      try FileManager.default.attributesOfItem(atPath: run.path + "/" + name)[.posixPermissions]
        as? Int
    }
    #expect(try mode("agent.ini") == 0o644)
    // mode= still applies to a file it creates.
    try await run.exec(
      merge.replacingOccurrences(of: "agent.ini", with: "secret.ini").replacingOccurrences(
        of: "section=vxlan}", with: "section=vxlan create mode=0640}"),
      runDirectory: run.path + "/moded")
    #expect(try mode("secret.ini") == 0o640)
    // An existing file merges as before, without `create`.
    try await run.exec(
      merge.replacingOccurrences(of: "false", with: "true"), runDirectory: run.path + "/again")
    #expect(run.status("agent") == .ok)
    #expect(run.read("agent.ini") == "[vxlan]\nenable_vxlan = true\n")
    #expect(try mode("agent.ini") == 0o644)
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/sqlite3"),
      "needs sqlite3: Scripts/setup --tests installs it"))
  func filtersCarryAnyValueThroughShellSQLAndURLsByteForByte() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let value = "it's \"quoted\" $HOME \\n `id` @host/path; rm -rf x\nsecond line"
    let runbook = """
      ---
      secrets: [pw]
      ---
      ```sh {role=a name=shell}
      printf '%s' {{ pw | quote }} > {{ dir }}/shell.out
      printf '%s' {{ pw | url }} > {{ dir }}/url.out
      ```
      ```sql {role=a name=sql client="sqlite3 {{ dir }}/t.db"}
      CREATE TABLE t(v TEXT);
      INSERT INTO t VALUES ({{ pw | sql }});
      ```
      ```sh {role=a name=read}
      sqlite3 {{ dir }}/t.db 'SELECT hex(v) FROM t' > {{ dir }}/sql.out
      ```
      """
    try await run.exec(runbook, vars: ["pw": value])
    #expect(run.records.map(\.status) == [.ok, .ok, .ok], "\(run.records.map(\.reason))")
    #expect(run.read("shell.out") == value)
    #expect(run.read("url.out")?.removingPercentEncoding == value)
    #expect(
      run.read("url.out")?.allSatisfy { $0.isLetter || $0.isNumber || "%-._~".contains($0) } == true
    )
    let hex = Data(value.utf8).map { String(format: "%02X", $0) }.joined()
    #expect(run.read("sql.out") == hex + "\n")
    // The encoded forms are secrets too: the recorded scripts hold none of them.
    let journal = try String(contentsOfFile: run.path + "/run/journal.jsonl", encoding: .utf8)
    for form in Template.Filter.encodedForms(of: value) + [value] {
      #expect(!journal.contains(form), "\(form)")
    }
    #expect(run.record("shell")?.script.contains("printf '%s' ******** >") == true)
  }

  /// A merge of one setting into real configuration files: every other byte stays, and
  /// Python's configparser reads the result with only that setting changed.
  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
      "needs python3: Scripts/setup --tests installs it"),
    arguments: [
      (
        "nginx.service", "Service",
        "ExecStart=/usr/sbin/nginx \\\n    -g 'daemon on;'",
        "ExecStart=/usr/sbin/nginx \\\n    -g 'daemon on; master_process on;'",
        "ExecStart", "/usr/sbin/nginx \\\n-g 'daemon on;'"
      ),
      (
        "tox.ini", "testenv", "deps =\n    pytest>=8\n    requests",
        "deps =\n    pytest>=7\n    pytest-cov\n    requests", "deps", "\npytest>=8\nrequests"
      ),
      (
        "keystone.conf", "database", "connection = mysql+pymysql://keystone:pw@10.0.0.5/keystone",
        "connection = sqlite:////var/lib/keystone/keystone.db", "connection",
        "mysql+pymysql://keystone:pw@10.0.0.5/keystone"
      ),
      (
        "php.ini", "Date", "date.timezone = UTC", ";date.timezone =", "date.timezone", "UTC"
      ),
    ])
  func anIniMergeKeepsRealFilesValid(
    file: String, section: String, setting: String, replaced: String, key: String, value: String
  ) async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let original = try Fixtures.text("ini/" + file)
    try original.write(to: run.dir.appendingPathComponent(file), atomically: true, encoding: .utf8)
    try await run.exec(
      "```ini {role=a name=merge file={{ dir }}/\(file) section=\(section)}\n\(setting)\n```\n")
    #expect(run.status("merge") == .ok, "\(run.record("merge")?.reason ?? "")")
    let merged = try #require(run.read(file))
    // Byte for byte: only the setting's lines differ (a new key goes after what it follows).
    let expected =
      key == "date.timezone"
      ? original.replacingOccurrences(of: replaced, with: replaced + "\n" + setting)
      : original.replacingOccurrences(of: replaced, with: setting)
    #expect(merged == expected)
    #expect(original.hasSuffix("\n") == merged.hasSuffix("\n"), "the final newline as it was")
    let check = """
      import configparser, json, sys
      def load(path):
          parser = configparser.RawConfigParser(strict=False, interpolation=None)
          parser.optionxform = str
          parser.read(path)
          return {s: dict(parser.items(s)) for s in parser.sections()}
      before, after = load(sys.argv[1]), load(sys.argv[2])
      before.setdefault(sys.argv[3], {})[sys.argv[4]] = sys.argv[5]
      print("same" if before == after else json.dumps([before, after]))
      """
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.arguments = [
      "-c", check, Fixtures.url("ini/" + file).path, run.path + "/" + file, section, key, value,
    ]
    let out = Pipe()
    process.standardOutput = out
    try process.run()
    let printed = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(printed == "same\n", "\(file): \(printed)")
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3"),
      "needs python3: Scripts/setup --tests installs it"))
  func interpretersWorkingDirectoryEnvironmentAndStepContext() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try FileManager.default.createDirectory(
      at: run.dir.appendingPathComponent("work"), withIntermediateDirectories: true)
    try await run.exec(
      """
      ---
      env:
        GREETING: "hello from {{ who }}"
        APP_ENV: staging
      vars:
        who: runbook
      ---
      ```python {role=a name=py cwd={{ dir }}/work env="APP_ENV=production EXTRA='two words'"}
      import os
      print(os.getcwd().endswith("/work"), os.environ["GREETING"], os.environ["APP_ENV"], os.environ["EXTRA"])
      print(os.environ["RUNBOOK_STEP"], os.environ["RUNBOOK_HOST"], os.environ["RUNBOOK_ROLE"], os.environ["RUNBOOK_RUN_ID"])
      ```
      ```perl {role=a name=pl}
      print "perl: $ENV{GREETING}\n";
      ```
      ```sh {role=a name=sh cwd={{ dir }}/work}
      pwd > where
      echo "$GREETING/$APP_ENV"
      ```
      ```text {role=a name=py-fails interpreter=python3}
      import sys
      sys.exit(3)
      ```
      """, configure: { $0.continueOnError = true })
    #expect(run.records.map(\.status) == [.ok, .ok, .ok, .failed])
    #expect(
      run.record("py")?.outputTail
        == "True hello from runbook production two words\npy localhost a run\n")
    #expect(run.record("pl")?.outputTail == "perl: hello from runbook\n")
    #expect(run.read("work/where") == run.dir.appendingPathComponent("work").path + "\n")
    #expect(run.record("sh")?.outputTail == "hello from runbook/staging\n")
    #expect(run.record("py-fails")?.exitCode == 3)
  }

  /// As root, `user=` needs no sudo (it need not even be installed): runuser does it, and
  /// the other user runs a script it could not open from our private state directory.
  @Test(
    .enabled(
      if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"),
      "needs root and runuser: it runs a step as another user")
  )
  func asRootUserAndBecomeNeedNoSudo() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=as-nobody user=nobody}
      id -un
      ```
      ```sh {role=a name=as-root become}
      id -un
      ```
      ```sh {role=a name=stopped user=nobody timeout=4s}
      sleep 30
      ```
      """, configure: { $0.continueOnError = true })
    #expect(
      run.record("as-nobody")?.outputTail == "nobody\n", "\(run.record("as-nobody")?.reason ?? "")")
    #expect(run.record("as-root")?.outputTail == "root\n")
    // The timeout stops the other user's process too.
    #expect(run.status("stopped") == .timeout)
    #expect((run.record("stopped")?.durationMs ?? 99_999) < 10_000)
  }

  @Test func anEnvValueWithALineBreakCannotSetOtherVariables() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=env env="GREETING={{ greeting }}"}
      echo "$GREETING" > {{ dir }}/ran
      ```
      """, vars: ["greeting": "hi\nLD_PRELOAD=/tmp/evil.so"])
    #expect(run.status("env") == .failed)
    #expect(
      run.record("env")?.reason
        == "the value of env GREETING holds a line break, which would set other variables; give it a one-line value"
    )
    #expect(run.read("ran") == nil)
    try await run.exec(
      "```sh {role=a name=env env=\"GREETING={{ greeting }}\"}\necho \"$GREETING\"\n```\n",
      vars: ["greeting": "a=b c"], runDirectory: run.path + "/ok")
    #expect(run.record("env")?.outputTail == "a=b c\n")
  }

  @Test func guardsCapturesExpectAndManual() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=guarded creates={{ dir }}}
      touch {{ dir }}/should-not-exist
      ```
      ```sh {role=a name=unless unless="true"}
      touch {{ dir }}/nor-this
      ```
      ```sh {role=a name=cap capture=token}
      echo "  abc123  "
      ```
      ```sh {role=a name=use expect="^token=abc123$"}
      echo "token={{ token }}"
      ```
      ```sh {role=a name=nomatch expect="^never$" allow-fail}
      echo something
      ```
      ```manual {name=browse}
      Open the dashboard.
      ```
      """)
    #expect(run.status("guarded") == .skipped)
    #expect(run.status("unless") == .skipped)
    #expect(run.read("should-not-exist") == nil)
    #expect(run.record("cap")?.captured == ["token": "abc123"])
    #expect(run.status("use") == .ok)
    #expect(run.status("nomatch") == .failed)
    #expect(run.record("browse")?.status == .pending)
    #expect(run.record("browse")?.host == "operator")
  }

  @Test func timeoutStopsAHungCommandAndItsChildren() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let start = ContinuousClock.now
    try await run.exec(
      """
      ```sh {role=a name=hang timeout=4s}
      sleep 60 &
      echo $! > {{ dir }}/child.pid
      sleep 60
      ```
      """)
    let elapsed = ContinuousClock.now - start
    #expect(run.status("hang") == .timeout)
    #expect(elapsed < .seconds(10))
    let pid = Int32(run.read("child.pid")?.trimmingWhitespace() ?? "") ?? 0
    #expect(pid > 0)
    // Gone, or a zombie waiting for a parent that does not reap (PID 1 of a container).
    let stopped = await eventually {
      let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
        .split(separator: ")").last?.split(separator: " ").first
      return state == nil || state == "Z"
    }
    #expect(stopped, "the background child must be stopped with its group")
  }

  @Test func retriesUntilTheCommandSucceeds() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=flaky retries=3 delay=100ms}
      n=$(cat {{ dir }}/count 2>/dev/null || echo 0)
      echo $((n + 1)) > {{ dir }}/count
      [ "$n" -ge 2 ]
      ```
      """)
    #expect(run.status("flaky") == .ok)
    #expect(run.record("flaky")?.attempts == 3)
  }

  @Test func secretsNeverReachLogsJournalOrTerminal() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ---
      secrets: [db_pass]
      ---
      ```sh {role=a name=leak}
      echo "password is {{ db_pass }}"
      echo "{{ db_pass }}" >&2
      ```
      ```sh {role=a name=guarded unless="test -n '{{ db_pass }}'"}
      echo never
      ```
      """, vars: ["db_pass": "Tr0ub4dor&3"])
    #expect(run.status("guarded") == .skipped)
    #expect(run.record("guarded")?.reason?.contains("********") == true)
    #expect(run.status("leak") == .ok)
    let journal = try String(contentsOfFile: run.path + "/run/journal.jsonl", encoding: .utf8)
    let log = try String(
      contentsOfFile: run.path + "/run/" + (run.record("leak")?.log ?? ""), encoding: .utf8)
    #expect(!journal.contains("Tr0ub4dor"))
    #expect(!log.contains("Tr0ub4dor"))
    // Standard output and error are two pipes: their lines may arrive in either order.
    #expect(log.split(separator: "\n").sorted() == ["********", "password is ********"])
    #expect(!run.lines.joined().contains("Tr0ub4dor"))
  }

  @Test func continueOnErrorAndResume() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let runbook = """
      ```sh {role=a name=first}
      echo x >> {{ dir }}/first-count
      ```
      ```sh {role=a name=gate}
      test -e {{ dir }}/ready
      ```
      ```sh {role=a name=last}
      echo done > {{ dir }}/last
      ```
      """
    let runDir = run.path + "/resumable"
    try await run.exec(runbook, runDirectory: runDir)
    #expect(run.summary?.status == .failed)
    #expect(run.record("last") == nil)

    FileManager.default.createFile(atPath: run.path + "/ready", contents: nil)
    try await run.exec(runbook, runDirectory: runDir) { $0.resume = true }
    #expect(run.summary?.status == .passed)
    #expect(run.read("first-count") == "x\n", "the step that succeeded is not run again")
    #expect(run.records.filter { $0.step == "first" }.map(\.status) == [.ok, .skipped])
    #expect(run.read("last") == "done\n")

    var other = try LocalRun()
    defer { other.cleanUp() }
    try await other.exec(runbook) { $0.continueOnError = true }
    #expect(other.summary?.status == .failed)
    #expect(other.status("last") == .ok)
  }
}

/// The session loop where the host has no bash: `/bin/sh` with `setsid` gives each step
/// its process group, and a stop (here, the timeout) ends all the step started.
@Suite struct ShellLoopWithoutBashTests {
  @Test func aTimeoutStopsTheStepsWholeGroupUnderPlainSh() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-sh-loop-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let local = LocalSession()
    let session = local.session
    let pidFile = dir.appendingPathComponent("child.pid").path
    let script = StepScript.shell(
      "sleep 60 &\necho $! > \(pidFile)\n[ \"$(ps -o sid= -p $$ | tr -d ' ')\" = \"$$\" ] && echo own-session\nwait\n",
      bash: false
    )
    let collector = OutputCollector(
      logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil)
    // Opened first: the timeout counts from the session's start, which a busy test run can
    // delay; this test is about the stop.
    #expect(await session.ensureOpen())
    let outcome = await local.run(script, timeout: .seconds(1), collector: collector)
    await session.close(forget: true)
    #expect(outcome.timedOut)
    // Under plain sh, setsid made the step a session (and a process group) of its own.
    #expect(collector.finish().stdout.contains("own-session"))
    let pid =
      Int32((try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingWhitespace() ?? "")
      ?? 0
    let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
      .split(separator: ")").last?.split(separator: " ").first
    #expect(pid > 0 && (state == nil || state == "Z"), "the step's child was stopped with it")
  }
}

/// The runner: the shell that runs plain steps as subshells, one process group for as long
/// as no step leaves a process in it.
@Suite(.serialized) struct RunnerTests {
  /// A runner killed while it waits is replaced, and the step runs; under plain sh (no job
  /// control) there is no runner, and every step is a process of its own.
  @Test(arguments: [false, true])
  func aRunnerKilledWhileItWaitsIsReplaced(underBash: Bool) async throws {
    let token = "runner" + Digest.randomHex(4)
    let host = PlanHost(name: "h", address: "127.0.0.1", connection: .local)
    let runner = SubprocessRunner()
    let launch =
      underBash
      ? ProcessCommand("/bin/sh", ["-c", HostSession.launcher(stateToken: token)])
      : ProcessCommand("/bin/sh", ["-c", HostSession.server(stateToken: token)])
    let session = HostSession(host: host, launch: launch, runner: runner)
    func run(_ body: String) async -> (CommandOutcome, String) {
      let collector = OutputCollector(
        logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil)
      let outcome = await session.run(
        StepScript.shell(body, bash: false), command: ["/bin/sh"], timeout: .seconds(20),
        collector: collector, stop: {})
      return (outcome, collector.finish().stdout)
    }
    // Opened first: a step's timeout counts from the session's start, which a test run that
    // keeps the cooperative pool busy can delay by seconds.
    #expect(await session.ensureOpen())
    let (first, group) = await run("cut -d ' ' -f 5 /proc/self/stat\n")
    #expect(first.succeeded)
    let leader = Int32(group.trimmingWhitespace()) ?? 0
    let line = Self.commandLine(leader)
    if underBash {
      // The step ran in the runner's group: the runner leads it.
      let isRunner = leader > 1 && line.contains("read -r w")
      #expect(isRunner, "the group's leader is the runner: \(line)")
      // Only the runner this session started, by its pid.
      if isRunner { kill(leader, SIGKILL) }
    } else {
      #expect(!line.contains("read -r w"))
    }
    let (second, printed) = await run("echo second ran\n")
    #expect(second.succeeded)
    #expect(printed == "second ran\n")
    let (third, again) = await run("echo third ran\n")
    await session.close(forget: true)
    #expect(third.succeeded && again == "third ran\n")
  }

  /// Plain steps share the runner's group, and see nothing of the runner: no variable, no
  /// argument, no descriptor beyond standard input, output and error.
  @Test func plainStepsShareTheRunnerAndSeeNothingOfIt() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=one}
      cut -d ' ' -f 5 /proc/self/stat > {{ dir }}/one
      echo "args=$# w=${w-} a=${a-} z=${z-} p=${p-} s=${s-} l=${l-} rc=${rc-}" > {{ dir }}/vars
      ls /proc/self/fd | sort -n | tr '\\n' ' ' > {{ dir }}/fds
      ```
      ```bash {role=a name=two}
      cut -d ' ' -f 5 /proc/self/stat > {{ dir }}/two
      ```
      ```bash {role=a name=three}
      cut -d ' ' -f 5 /proc/self/stat > {{ dir }}/three
      ```
      """)
    #expect(run.status("three") == .ok)
    #expect(run.read("vars") == "args=0 w= a= z= p= s= l= rc=\n")
    // 0, 1, 2, and the directory ls reads.
    #expect(run.read("fds") == "0 1 2 3 ")
    // A bash step gets a bash runner; the next bash step runs in the same one.
    #expect(run.read("one") != run.read("two"))
    #expect(run.read("two") == run.read("three"))
  }

  /// A process a step leaves behind keeps a group no later step runs in: the timeout of a
  /// later step does not end it.
  @Test func aLaterStopLeavesWhatAnEarlierStepLeftRunning() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=leaves}
      sleep 60 >/dev/null 2>&1 &
      echo $! > {{ dir }}/left.pid
      ```
      ```sh {role=a name=hangs timeout=4s}
      sleep 60
      ```
      """)
    #expect(run.status("leaves") == .ok)
    #expect(run.status("hangs") == .timeout)
    let pid = Int32(run.read("left.pid")?.trimmingWhitespace() ?? "") ?? 0
    #expect(pid > 0)
    let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?
      .split(separator: ")").last?.split(separator: " ").first
    #expect(state == "S", "the process the first step left is still there")
    if pid > 0, Self.commandLine(pid).hasPrefix("sleep 60") { kill(pid, SIGKILL) }
  }

  /// A process a step leaves behind with the session's output open does not keep the run
  /// from ending: the session stops reading a few seconds after it was closed.
  @Test func aProcessHoldingTheOutputDoesNotHoldTheRun() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    let start = ContinuousClock.now
    try await run.exec(
      """
      ```sh {role=a name=leaves}
      sleep 60 &
      echo $! > {{ dir }}/left.pid
      ```
      """)
    let elapsed = ContinuousClock.now - start
    #expect(run.status("leaves") == .ok)
    let pid = Int32(run.read("left.pid")?.trimmingWhitespace() ?? "") ?? 0
    #expect(
      pid > 0 && Self.commandLine(pid).hasPrefix("sleep 60"), "still there when the run ended")
    if pid > 0, Self.commandLine(pid).hasPrefix("sleep 60") { kill(pid, SIGKILL) }
    // The session waits 5 s for its shell before it stops reading; sleep would hold it 60.
    #expect(elapsed < .seconds(30), "the run took \(elapsed)")
  }

  /// A step that names its shell's pid gets a shell of its own, which leads its group; a
  /// step that signals its own group ends with that signal, and the next step runs.
  @Test func aStepNamingItsPIDHasItsOwnShellAndKill0EndsOnlyItsStep() async throws {
    var run = try LocalRun()
    defer { run.cleanUp() }
    try await run.exec(
      """
      ```sh {role=a name=own}
      [ "$(cut -d ' ' -f 5 /proc/$$/stat)" = "$$" ] && echo leader > {{ dir }}/own
      ```
      ```sh {role=a name=group allow-fail}
      kill 0
      ```
      ```sh {role=a name=after}
      echo after > {{ dir }}/after
      ```
      """)
    #expect(run.read("own") == "leader\n")
    #expect(run.status("group") == .failed)
    #expect(run.record("group")?.exitCode == 143)
    #expect(run.read("after") == "after\n")
  }

  static func children(of pid: String) -> [Int32] {
    let all = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return all.compactMap(Int32.init).filter { candidate in
      let stat = (try? String(contentsOfFile: "/proc/\(candidate)/stat", encoding: .utf8)) ?? ""
      let fields = stat.split(separator: ")").last?.split(separator: " ") ?? []
      return fields.count > 1 && String(fields[1]) == pid
    }
  }

  static func commandLine(_ pid: Int32) -> String {
    let raw = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
    return String(decoding: raw.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
  }
}

/// The one way a local process group is stopped: TERM, a grace period while the group
/// ends, KILL for what is left; awaited, also when the stop comes from a cancellation.
@Suite struct ProcessGroupTeardownTests {
  static func runner() -> SubprocessRunner {
    var runner = SubprocessRunner()
    runner.gracePeriod = .milliseconds(300)
    return runner
  }

  /// A group that ends on TERM is not sent KILL, nor held for the grace period; one that
  /// ignores TERM is killed, and gone when the run returns.
  @Test(arguments: [false, true])
  func aTimedOutGroupIsGoneWhenTheRunReturns(ignoresTerm: Bool) async throws {
    let dir = try ReportTests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let script =
      (ignoresTerm ? "trap '' TERM; " : "")
      + "sleep 60 & echo $$ > \(dir)/group; wait"
    var runner = Self.runner()
    // A long grace period: a group that ends on TERM returns long before it is over (its
    // leader, a zombie until the run has its status, does not hold the stop).
    if !ignoresTerm { runner.gracePeriod = .seconds(120) }
    let began = ContinuousClock.now
    let outcome = await runner.run(
      ProcessCommand("/bin/sh", ["-c", script]), input: "", timeout: .milliseconds(300),
      stdout: { _ in }, stderr: { _ in })
    #expect(outcome.timedOut)
    if !ignoresTerm { #expect(ContinuousClock.now - began < .seconds(60)) }
    #expect(outcome.signal == (ignoresTerm ? SIGKILL : SIGTERM))
    let group = try #require(
      Int32(String(contentsOfFile: dir + "/group", encoding: .utf8).trimmingWhitespace()))
    // Every process of the group has ended (the sleep too), not only its leader.
    #expect(await eventually { kill(-group, 0) != 0 && errno == ESRCH })
  }

  /// Cancelling the task that runs a command stops its group and waits for the stop.
  @Test func aCancelledRunStopsItsGroup() async throws {
    let dir = try ReportTests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let runner = Self.runner()
    let run = Task {
      await runner.run(
        ProcessCommand("/bin/sh", ["-c", "trap '' TERM; sleep 60 & echo $$ > \(dir)/group; wait"]),
        input: "", timeout: nil, stdout: { _ in }, stderr: { _ in })
    }
    #expect(await eventually { FileManager.default.fileExists(atPath: dir + "/group") })
    run.cancel()
    let outcome = await run.value
    #expect(outcome.interrupted)
    #expect(outcome.signal == SIGKILL)
    let group = try #require(
      Int32(String(contentsOfFile: dir + "/group", encoding: .utf8).trimmingWhitespace()))
    #expect(await eventually { kill(-group, 0) != 0 && errno == ESRCH })
  }
}

/// A step's timeout is waited for on the run's clock: a clock that has already moved past
/// the timeout stops a step that would otherwise run for a minute.
@Suite struct HostSessionClockTests {
  @Test func aStepsTimeoutIsWaitedForOnTheRunsClock() async throws {
    let clock = RecordingClock()
    let local = LocalSession(clock: clock)
    let collector = OutputCollector(
      logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil)
    #expect(await local.session.ensureOpen())
    let outcome = await local.run(
      StepScript.shell("sleep 60\n", bash: false), timeout: .seconds(3600), collector: collector)
    await local.session.close(forget: true)
    #expect(outcome.timedOut)
    // The wait was the step's whole hour, less what had passed on the clock: none.
    #expect(clock.sleeps == [.seconds(3600)])
  }
}

/// A host session on this machine under plain sh, and the step's stop as the transports
/// give it, for tests of the session itself.
struct LocalSession {
  let token = "session" + Digest.randomHex(4)
  let runner = SubprocessRunner()
  let session: HostSession

  init(clock: any RunClock = SystemRunClock()) {
    session = HostSession(
      host: PlanHost(name: "h", address: "127.0.0.1", connection: .local),
      launch: ProcessCommand("/bin/sh", ["-c", HostSession.server(stateToken: token)]),
      runner: runner, clock: clock)
  }

  /// Runs `script` with its timeout; a stop runs the stop script as a transport would.
  func run(_ script: StepScript, timeout: Duration, collector: OutputCollector) async
    -> CommandOutcome
  {
    let stop = ProcessCommand(
      "/bin/sh",
      ["-c", HostSession.stopScript(stateToken: token, nonce: script.nonce, escalated: false)])
    let runner = self.runner
    return await session.run(
      script, command: ["/bin/sh"], timeout: timeout, collector: collector,
      stop: {
        _ = await runner.run(
          stop, input: "", timeout: .seconds(10), stdout: { _ in }, stderr: { _ in })
      })
  }
}
