import Foundation
import Testing

@testable import RunbookKit

@Suite struct ConsoleTranscriptTests {
  @Test func parsesCommandsOutputsAndStatus() {
    let t = ConsoleTranscript("$ echo a\na\n# false\n[1]\n$ printf 'x\\\n> y'\nxy\n")
    #expect(t.commands.map(\.command) == ["echo a", "false", "printf 'x\\\ny'"])
    #expect(t.commands.map(\.expected) == [["a"], [], ["xy"]])
    #expect(t.commands.map(\.expectedStatus) == [0, 1, 0])
  }

  @Test func patternsMatchLikeCram() {
    #expect(ConsoleTranscript.matches(["id 42 ok"], ["id [0-9]+ ok (re)"]))
    #expect(ConsoleTranscript.matches(["a", "b", "c", "end"], ["a", "...", "end"]))
    #expect(ConsoleTranscript.matches(["file.txt"], ["*.txt (glob)"]))
    #expect(!ConsoleTranscript.matches(["a", "b"], ["a"]))
    #expect(!ConsoleTranscript.matches(["x.txt"], ["?.doc (glob)"]))
  }

  @Test func aPythonSessionIsReadAsStatementsAndWhatTheyPrinted() {
    let session = ConsoleTranscript.python(
      ">>> def f():\n...     return 1\n...\n>>> f()\n1\n>>> print('a')\na\n...\n")
    #expect(session.commands.map(\.command) == ["def f():\n    return 1\n", "f()", "print('a')"])
    #expect(session.commands.map(\.expected) == [[], ["1"], ["a", "..."]])
  }

  /// The diff reads the transcript as the check does: a matching pattern is no difference.
  @Test func aMismatchShowsOnlyTheRealDifference() {
    // The real difference is a trailing blank line; the (re) line matched.
    #expect(
      ConsoleTranscript.diff(
        expected: ["Server version: [0-9.]+ (re)", "ready"],
        actual: ["Server version: 10.11.6", "ready", ""])
        == ["  Server version: 10.11.6", "  ready", "+ "])
    #expect(
      ConsoleTranscript.diff(
        expected: ["*.conf (glob)", "listening"], actual: ["app.conf", "stopped"])
        == ["  app.conf", "- listening", "+ stopped"])
    // `...` takes the lines it stands for; a line missing after it is named.
    #expect(
      ConsoleTranscript.diff(
        expected: ["start", "...", "done", "bye"], actual: ["start", "1", "2", "done"])
        == ["  start", "  ...", "  done", "- bye"])
    #expect(ConsoleTranscript.diff(expected: [], actual: ["x"]) == ["+ x"])
  }
}

@Suite struct FileEditTests {
  static let keystone = """
    [DEFAULT]
    # the admin token
    #admin_token = <None>
    debug = false

    [database]
    # connection = <None>
    connection = sqlite:////var/lib/keystone/keystone.db

    [token]
    provider = uuid

    """

  @Test func mergeReplacesKeysInPlaceAndKeepsComments() {
    let merged = FileEdit.mergeINI(
      "[database]\nconnection = mysql+pymysql://k:p@db/keystone\n[token]\nprovider = fernet\nexpiration = 3600\n",
      into: Self.keystone, section: nil)
    #expect(
      merged == """
        [DEFAULT]
        # the admin token
        #admin_token = <None>
        debug = false

        [database]
        # connection = <None>
        connection = mysql+pymysql://k:p@db/keystone

        [token]
        provider = fernet
        expiration = 3600

        """)
    // A second merge changes nothing.
    #expect(
      FileEdit.mergeINI(
        "[token]\nprovider = fernet\nexpiration = 3600\n", into: merged, section: nil) == merged)
  }

  @Test func sectionAttributeAndNewSections() {
    let merged = FileEdit.mergeINI("debug = true\n", into: Self.keystone, section: "DEFAULT")
    #expect(merged.contains("debug = true\n\n[database]"))
    let added = FileEdit.mergeINI("[cache]\nenabled = true\n", into: "[a]\nx = 1\n", section: nil)
    #expect(added == "[a]\nx = 1\n\n[cache]\nenabled = true\n")
    #expect(FileEdit.mergeINI("[s]\nk = v\n", into: "", section: nil) == "[s]\nk = v\n")
  }

  @Test func appendIsIdempotentAndReplacesItsBlock() {
    let once = FileEdit.appendBlock("listen x\n  bind :5000\n", to: "global\n", id: "haproxy")
    #expect(
      once == "global\n# BEGIN RUNBOOK haproxy\nlisten x\n  bind :5000\n# END RUNBOOK haproxy\n")
    #expect(FileEdit.appendBlock("listen x\n  bind :5000\n", to: once, id: "haproxy") == once)
    let changed = FileEdit.appendBlock("listen y\n", to: once + "tail\n", id: "haproxy")
    #expect(changed == "global\n# BEGIN RUNBOOK haproxy\nlisten y\n# END RUNBOOK haproxy\ntail\n")
  }
}

@Suite struct StepScriptTests {
  @Test func sqlPromptsAreStripped() {
    let sql = StepScript.stripPrompts(
      "MariaDB [(none)]> CREATE DATABASE keystone;\nmysql> GRANT ALL ON keystone.* TO 'k'@'%'\n    -> IDENTIFIED BY 'p';\nSELECT 1;"
    )
    #expect(
      sql
        == "CREATE DATABASE keystone;\nGRANT ALL ON keystone.* TO 'k'@'%'\nIDENTIFIED BY 'p';\nSELECT 1;"
    )
  }

  @Test func everyClientsPromptIsStrippedAndNothingElse() {
    let typed = """
      sqlite> SELECT 1
         ...> ;
      postgres=# \\c app
      app=> SELECT 2;
      app-# ;
      127.0.0.1:6379> AUTH pw
      localhost:6380[2]> GET k
      """
    #expect(
      StepScript.stripPrompts(typed) == "SELECT 1\n;\n\\c app\nSELECT 2;\n;\nAUTH pw\nGET k")
    #expect(SQLTranscript.typed("WHERE a => 1") == nil)
    #expect(SQLTranscript.typed("x = 2") == nil)
  }

  /// What the client printed between the statements is left out, never sent as SQL.
  @Test func aTranscriptsOutputIsNotSentToTheClient() {
    let transcript = SQLTranscript(
      """
      mysql> SELECT id, name
          -> FROM users;
      +----+------+
      | id | name |
      +----+------+
      |  1 | ada  |
      +----+------+
      1 row in set (0.00 sec)

      mysql> CREATE TABLE t (
      id int
      );
      Query OK, 0 rows affected (0.01 sec)
      sqlite> .tables
      t
      """)
    #expect(
      transcript.statements
        == "SELECT id, name\nFROM users;\n\nCREATE TABLE t (\nid int\n);\n.tables")
    #expect(transcript.outputLines == [3, 4, 5, 6, 7, 8, 13, 15])
    // A statement typed without its prompt is SQL all the same; a comment does not keep a
    // statement open.
    let mixed = SQLTranscript(
      "mysql> CREATE DATABASE app; -- the app's\nQuery OK, 1 row affected\nUSE app\nmysql> \\g\n")
    #expect(mixed.statements == "CREATE DATABASE app; -- the app's\nUSE app\n\\g\n")
    #expect(mixed.outputLines == [2])
    // Without prompts, the block is SQL as written.
    #expect(SQLTranscript("SELECT 1\nFROM t;\n").statements == "SELECT 1\nFROM t;\n")
  }

  @Test func aClientIsKnownByItsProgramWordAndGetsItsOptionsThere() {
    #expect(SQLClient("mysql")?.command == "mysql --unbuffered")
    // mysql reads option files only as its first options.
    #expect(
      SQLClient("mysql --defaults-file=/etc/mysql/debian.cnf -D app")?.command
        == "mysql --defaults-file=/etc/mysql/debian.cnf --unbuffered -D app")
    #expect(
      SQLClient("sudo -u postgres psql -d app")?.command
        == "sudo -u postgres psql -v ON_ERROR_STOP=1 -d app")
    #expect(SQLClient("MYSQL_PWD=x mariadb -u root")?.program == .mysql)
    #expect(SQLClient("MYSQL_PWD=\"$DB_PASS\" mysql")?.program == .mysql)
    // The last word that names a client is the program: the words before are a wrapper's.
    #expect(
      SQLClient("sudo -u mysql mysql -D app")?.command == "sudo -u mysql mysql --unbuffered -D app")
    #expect(
      SQLClient("docker exec -i db psql")?.command == "docker exec -i db psql -v ON_ERROR_STOP=1")
    #expect(
      SQLClient("/usr/bin/sqlite3 /srv/app.db")?.command == "/usr/bin/sqlite3 -bail /srv/app.db")
    #expect(SQLClient("redis-cli -a \"$PW\"")?.command == "redis-cli --no-raw -a \"$PW\"")
    // Unknown programs, and a program word the shell would not read as a command word.
    #expect(SQLClient("cqlsh db1") == nil)
    #expect(SQLClient("sh -c 'psql -d app'") == nil)
    #expect(SQLClient("$(which psql)") == nil)
  }

  /// The exported playbook's last play ends its run's clients by their names; a directory
  /// of such a name that is not the user's own is never trusted.
  @Test(.enabled(if: getuid() == 0, "needs root, to make a directory another user owns"))
  func aClientDirectoryOfAnotherUserIsLeftAlone() throws {
    let tmp = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-foreign-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: tmp) }
    let planted = tmp.appendingPathComponent("runbook-client-run1-planted")
    try FileManager.default.createDirectory(at: planted, withIntermediateDirectories: true)
    // A process of the test's own, in a group of its own, named as the client's group.
    let victim = Process()
    victim.executableURL = URL(fileURLWithPath: "/usr/bin/setsid")
    victim.arguments = ["sleep", "60"]
    try victim.run()
    defer { victim.terminate() }
    try "\(victim.processIdentifier)\n".write(
      to: planted.appendingPathComponent("pid"), atomically: true, encoding: .utf8)
    #expect(mkfifo(planted.appendingPathComponent("in").path, 0o600) == 0)
    for path in [
      planted.path, planted.appendingPathComponent("pid").path,
      planted.appendingPathComponent("in").path,
    ] {
      #expect(chown(path, 65534, 65534) == 0)
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", SQLClientSession.endExportedScript]
    process.environment = [
      "TMPDIR": tmp.path, "RUNBOOK_SESSION_ID": "run1", "PATH": "/usr/bin:/bin",
    ]
    try process.run()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    Thread.sleep(forTimeInterval: 0.2)
    #expect(victim.isRunning)
    #expect(FileManager.default.fileExists(atPath: planted.appendingPathComponent("pid").path))
  }

  @Test func aSessionStepEndsItsStatementsWithTheClientsEcho() {
    let session = SQLClientSession(command: "psql")
    let script = StepScript.sql(
      "postgres=# SELECT 1;", client: SQLClient("psql")!, session: session, nonce: "N")
    #expect(script.text.contains("set -- psql -v ON_ERROR_STOP=1\n"))
    #expect(script.text.contains("runbook_client_marker='N-end'\n"))
    #expect(script.text.hasSuffix("<<'N'\nSELECT 1;\n;\n\\echo N-end\nN\n"))
    #expect(script.text.contains(session.assignment))
  }

  @Test func shellScriptsRunInsideAGroupWithoutStdin() {
    let script = StepScript.shell("echo hi\n", bash: true, creates: "/x y", nonce: "N")
    #expect(script.shell == .bash)
    #expect(
      script.text
        == "if [ -e '/x y' ]; then echo 'N skip creates'; exit 0; fi\nset -eo pipefail\n{\necho hi\n} </dev/null\n"
    )
  }

  /// The session loop and the stop travel over ssh inside single quotes: one quote in them
  /// (a comment's apostrophe) breaks every ssh session, while a local run would not notice.
  @Test func sessionScriptsFitInSingleQuotesAndParse() throws {
    let scripts = [
      HostSession.server(stateToken: "abc"),
      HostSession.stopScript(stateToken: "abc", nonce: "n1", escalated: true),
      HostSession.stopScript(stateToken: "abc", nonce: "n1", escalated: false),
    ]
    for script in scripts {
      #expect(!script.contains("'"))
      let process = Process()
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-n", "-c", script]
      try process.run()
      process.waitUntilExit()
      #expect(process.terminationStatus == 0, "sh -n refuses:\n\(script)")
    }
  }

  /// The runner's program travels inside double quotes in the loop: it must come back as it
  /// was, whatever it holds.
  @Test func textInsideDoubleQuotesComesBackUnchanged() throws {
    let texts = [HostSession.runner, #"a "b" $c `d` \e \\ '$' ${x##*) } $(( 1 + 2 ))"#]
    for text in texts {
      let process = Process()
      let output = Pipe()
      process.executableURL = URL(fileURLWithPath: "/bin/sh")
      process.arguments = ["-c", "printf %s \"\(ShellQuote.insideDoubleQuotes(text))\""]
      process.standardOutput = output
      try process.run()
      let printed = output.fileHandleForReading.readDataToEndOfFile()
      process.waitUntilExit()
      #expect(String(decoding: printed, as: UTF8.self) == text)
    }
  }

  @Test func lineDiffMarksChanges() {
    #expect(LineDiff.lines(["a", "b", "c"], ["a", "x", "c"]) == ["  a", "- b", "+ x", "  c"])
  }
}

@Suite struct ProgressViewTests {
  final class Screen: @unchecked Sendable {
    private let lock = NSLock()
    private var written = ""
    func write(_ text: String) { lock.withLock { written += text } }
    var text: String { lock.withLock { written } }
  }

  static func record(_ host: String, _ status: StepStatus, reason: String? = nil) -> StepRecord {
    StepRecord(
      step: "s", index: 0, kind: .shell, line: 3, headingPath: ["Keystone"], host: host,
      status: status,
      reason: reason, exitCode: 0, attempts: 1, startedAt: "", endedAt: "", durationMs: 1500,
      script: "",
      contentSHA256: "", log: nil, outputBytes: 0, outputSHA256: "", outputTail: "",
      outputTruncated: false)
  }

  @Test func showsRunningHostsThenTheirResults() {
    let screen = Screen()
    let view = ProgressView(color: false, verbose: false, write: { screen.write($0) })
    let step = Step(
      id: "db-sync", index: 0, language: "sh", kind: .shell, attributes: StepAttributes(), body: "",
      line: 3, endLine: 5, headingPath: ["Keystone"])
    view.handle(.stepStarted(ordinal: 2, total: 9, step: step, hosts: ["ctl1", "ctl2"]))
    #expect(
      screen.text.contains("[2/9] Keystone  db-sync (shell)\n  ⠋ ctl1  0.0s\n  ⠋ ctl2  0.0s\n"))
    view.handle(.output(host: "ctl1", text: "hidden unless verbose"))
    view.handle(.hostFinished(Self.record("ctl2", .failed, reason: "exit 1")))
    #expect(screen.text.contains("  ✗ ctl2  failed — exit 1  1.5 s\n"))
    #expect(!screen.text.contains("hidden unless verbose"))
    #expect(!screen.text.contains("\u{1B}[3"), "no colours when colour is off")
    view.handle(.hostFinished(Self.record("ctl1", .ok)))
    #expect(screen.text.hasSuffix("  ✓ ctl1  ok  1.5 s\n"))
  }
}

@Suite struct FailureReasonTests {
  /// A shell step whose body starts at line 3 of its script and line 11 of `guide.md`.
  let shell = FailureReason(
    file: "guide.md", scriptBodyLine: 3, runbookBodyLine: 11, bodyLines: 4, sameLines: true)

  @Test func aTracebackIsExplainedByItsLastLineNotItsDecoration() {
    let lines = [
      "Traceback (most recent call last):",
      "  File \"/usr/lib/python3/dist-packages/app.py\", line 12, in run",
      "    return self._execute_with_wrappers(",
      "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
      "NameError: name 'os' is not defined",
      "",
    ]
    #expect(shell.pick(lines) == "NameError: name 'os' is not defined")
    #expect(shell.pick(Array(lines.prefix(4))) == "Traceback (most recent call last):")
  }

  @Test func shellMessagesAboutTheScriptNameTheRunbookLine() {
    #expect(
      shell.pick(["/tmp/runbook-state-ab12/step-4242.sh: 5: sudo: not found"])
        == "guide.md:13: sudo: not found")
    #expect(
      shell.pick(["/tmp/x/step-9.sh: line 3: frob: command not found"])
        == "guide.md:11: frob: command not found")
    // dash names a script it sources twice (a spare shell sources the step's script).
    #expect(
      shell.pick(["/tmp/x/step-9.sh: 5: /tmp/x/step-9.sh: sudo: not found"])
        == "guide.md:13: sudo: not found")
    // A line of the script that is not the runbook's (the guards, the wrapper).
    #expect(
      shell.pick(["/tmp/x/step-9.sh: line 1: set: bad option"]) == "step script: set: bad option")
    var edited = shell
    edited.sameLines = false
    #expect(
      edited.pick(["/tmp/x/step-9.sh: 4: x: not found"])
        == "guide.md: line 2 of the step as it ran: x: not found")
  }

  @Test func sqlClientErrorsCountFromTheStatements() {
    let sql = FailureReason(
      file: "db.md", scriptBodyLine: nil, runbookBodyLine: 20, bodyLines: 3, sameLines: true,
      sql: true)
    #expect(
      sql.pick(["ERROR 1064 (42000) at line 2: You have an error in your SQL syntax"])
        == "db.md:21: ERROR 1064 (42000): You have an error in your SQL syntax")
  }

  /// Real failures captured on a Debian machine (Fixtures/failures/capture.sh), each with
  /// the line an operator would point at (expected.tsv).
  static let corpus: [(name: String, expected: String)] = {
    let text = (try? Fixtures.text("failures/expected.tsv")) ?? ""
    return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.compactMap { line in
      let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
      return parts.count == 2 ? (parts[0], parts[1]) : nil
    }
  }()

  @Test func theCorpusIsLargeEnough() {
    #expect(Self.corpus.count >= 25, "\(Self.corpus.count) cases")
  }

  @Test(arguments: corpus.map(\.name))
  func theReasonOfARealFailureIsItsMostSpecificLine(name: String) throws {
    let expected = try #require(Self.corpus.first { $0.name == name }?.expected)
    let stderr = TextLines.split(try Fixtures.text("failures/\(name).stderr"))
    let stdout = (try? Fixtures.text("failures/\(name).stdout")).map(TextLines.split) ?? []
    // What the collector keeps: the last 40 lines of standard error and of the output.
    let reason = FailureReason(
      file: "guide.md", scriptBodyLine: nil, runbookBodyLine: 1, bodyLines: 1, sameLines: true)
    let picked = reason.pick(
      stderr: Array(stderr.suffix(40)), output: Array((stdout + stderr).suffix(40)))
    let shown = expected.count > 240 ? String(expected.prefix(239)) + "…" : expected
    #expect(picked == shown)
  }

  @Test func normalOutputIsNoReasonButAnErrorInItIs() {
    #expect(shell.pick(stderr: [], output: ["installing", "done"]) == nil)
    #expect(
      shell.pick(stderr: [], output: ["connecting", "Error: connection refused", "bye"])
        == "Error: connection refused")
    #expect(shell.pick(stderr: ["warning: x", "it broke"], output: []) == "it broke")
  }
}

/// The journal's background fsyncs: a wait returns once what was asked is done, and a
/// failed fsync is not lost (the journal's next append throws with it).
@Suite struct JournalSyncTests {
  @Test func recordsSyncedInTheBackgroundKeepEveryLineAndTheChain() async throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-journal-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let journal = try Journal(path: dir.path + "/journal.jsonl")
    for n in 0..<20 {
      try await journal.append(["n": n], durability: .beforeNextStep)
    }
    #expect(await journal.durable() == nil)
    await journal.close()
    #expect(try Journal.verifyChain(path: dir.path + "/journal.jsonl") == nil)
    let lines = try String(contentsOfFile: dir.path + "/journal.jsonl", encoding: .utf8)
      .split(separator: "\n")
    #expect(lines.count == 20)
  }

  @Test(.timeLimit(.minutes(1)))
  func everyWaiterReturnsWhenManyRequestsShareAnFsync() async throws {
    let path = FileManager.default.temporaryDirectory.path + "/runbook-sync-\(Digest.randomHex(4))"
    let fd = open(path, O_WRONLY | O_CREAT, 0o600)
    #expect(fd >= 0)
    defer {
      close(fd)
      unlink(path)
    }
    let sync = JournalSync(descriptor: fd)
    // Requests and waits from many tasks at once: one fsync covers what came before it, and
    // no waiter is left behind (the test would run out of time).
    await withTaskGroup(of: Void.self) { tasks in
      for _ in 0..<200 {
        tasks.addTask {
          sync.request()
          await sync.wait()
        }
      }
    }
    await sync.wait()
    #expect(sync.failure == nil)
  }

  @Test func aFailedFsyncIsReported() async {
    // fsync on a pipe fails (EINVAL): the failure is kept for the journal to throw.
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    defer {
      close(ends[0])
      close(ends[1])
    }
    let sync = JournalSync(descriptor: ends[1])
    #expect(sync.failure == nil)
    sync.request()
    await sync.wait()
    #expect(sync.failure != nil)
  }
}

@Suite struct ByteSearchTests {
  /// The first match by the plainest search there is.
  private func plain(_ needle: [UInt8], _ haystack: [UInt8], from: Int) -> Int? {
    guard !needle.isEmpty, from >= 0, haystack.count >= needle.count else { return nil }
    for i in stride(from: from, through: haystack.count - needle.count, by: 1)
    where Array(haystack[i..<i + needle.count]) == needle {
      return i
    }
    return nil
  }

  @Test func findsWhatAPlainSearchFinds() {
    // Few letters, so that partial matches and matches at both ends are common.
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let haystack = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
        UInt8.random(in: 97...99, using: &generator)
      }
      let needle = (0..<Int.random(in: 1...4, using: &generator)).map { _ in
        UInt8.random(in: 97...99, using: &generator)
      }
      let from = Int.random(in: 0...max(0, haystack.count), using: &generator)
      let found = haystack.withUnsafeBufferPointer {
        ByteSearch.firstIndex(of: needle, in: $0, from: from)
      }
      #expect(found == plain(needle, haystack, from: from), "\(needle) in \(haystack) from \(from)")
    }
    #expect([UInt8]().withUnsafeBufferPointer { ByteSearch.firstIndex(of: [1], in: $0) } == nil)
    #expect(
      [UInt8](repeating: 7, count: 5).withUnsafeBufferPointer {
        ByteSearch.firstIndex(of: [], in: $0)
      } == nil)
  }
}

@Suite struct SessionOutputTests {
  private let key = "0123456789abcdef0123456789abcdef"
  private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

  @Test func outputWithoutTheKeyGoesOnInWholeLines() {
    var stream = SessionOutput(key: key)
    #expect(stream.feed(bytes("one\ntw")) == [.output(bytes("one\n"))])
    #expect(stream.feed(bytes("o\nthree")) == [.output(bytes("two\n"))])
    // A marker with another key is output like any other line.
    #expect(
      stream.feed(bytes("\nRUNBOOK-DONE-ffff n1 0\n"))
        == [.output(bytes("three\nRUNBOOK-DONE-ffff n1 0\n"))])
  }

  @Test func keyedLinesAreToldFromOutputAroundThem() {
    var stream = SessionOutput(key: key)
    let events = stream.feed(
      bytes("a\nno end yetRUNBOOK-DONE-\(key) n1 3\nRUNBOOK-STARTED-\(key) n2\nb\n"))
    #expect(
      events == [
        .output(bytes("a\n")), .output(bytes("no end yet")), .marker(.done, ["n1", "3"]),
        .marker(.started, ["n2"]), .output(bytes("b\n")),
      ])
    // A marker split over two reads is found once its line has ended.
    #expect(stream.feed(bytes("RUNBOOK-SESS")) == [])
    #expect(
      stream.feed(bytes("ION-\(key) ready counted\n")) == [.marker(.session, ["ready", "counted"])])
  }

  @Test func aLongLineGoesOnBeforeItsEndButForWhatCouldStartAMarker() {
    var stream = SessionOutput(key: key)
    let long = [UInt8](repeating: UInt8(ascii: "x"), count: 70_000)
    #expect(stream.feed(long) == [.output(Array(long.dropLast(64)))])
    #expect(stream.feed(bytes("\n")) == [.output(Array(long.suffix(64)) + bytes("\n"))])
    stream.reset()
    #expect(
      stream.feed(bytes("RUNBOOK-STATE-\(key) n1 done 0\n")) == [
        .marker(.state, ["n1", "done", "0"])
      ])
  }
}

@Suite struct SessionInputTests {
  @Test func aSendThePipeCannotHoldReturnsAndArrivesWholeAndInOrder() {
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    let input = SessionInput()
    #expect(input.send("first\n"), "kept until the process starts")
    input.attach(ends[1])
    // Far more than a pipe holds (64 KB), with no reader yet.
    let big = String(repeating: "x", count: 1_000_000) + "\n"
    let sent = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let received = Locked<[UInt8]>([])
    let readerWaited = Locked(false)
    let readEnd = ends[0]
    let reader = Thread {
      // Reads only once the sends have returned; after 20 s it reads anyway, so that a send
      // that waits for it fails this test instead of hanging it.
      if sent.wait(timeout: .now() + 20) == .timedOut { readerWaited.set(true) }
      var buffer = [UInt8](repeating: 0, count: 65_536)
      while true {
        let n = buffer.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
        if n <= 0 { break }
        received.withLock { $0 += buffer[..<n] }
      }
      done.signal()
    }
    reader.start()
    #expect(input.send(big))
    #expect(input.send("last\n"))
    input.finish()
    sent.signal()
    // The reader sees the end of its input only once everything was written and closed.
    done.wait()
    close(ends[0])
    #expect(!readerWaited.get(), "a send waited for the reader")
    #expect(received.get() == Array(("first\n" + big + "last\n").utf8))
  }

  @Test func sendsFailOnceTheReaderHasGone() {
    var ends: [Int32] = [0, 0]
    #expect(pipe(&ends) == 0)
    close(ends[0])
    let input = SessionInput()
    input.attach(ends[1])
    #expect(!input.send("step\n"))
    #expect(!input.send("next\n"))
    input.finish()
  }
}

@Suite struct OutputCollectorStreamTests {
  static func collector() -> OutputCollector {
    OutputCollector(logPath: nil, masker: SecretMasker(values: []), hiddenPrefixes: [], echo: nil)
  }

  @Test func theLinesStandardErrorWroteAreNamedInTheTail() {
    let collector = Self.collector()
    collector.stdout(Array("out 1\n".utf8))
    collector.stderr(Array("err 1\nerr 2\n".utf8))
    collector.stdout(Array("out 2\n".utf8))
    // A partial line waits for its end; the stream that ends it owns it.
    collector.stderr(Array("err ".utf8))
    collector.stderr(Array("3\n".utf8))
    // The tool's own words are neither stream's.
    collector.note("--- a note ---\n")
    collector.stderr(Array("unterminated".utf8))
    let collected = collector.finish()
    #expect(collected.tail == "out 1\nerr 1\nerr 2\nout 2\nerr 3\n--- a note ---\nunterminated\n")
    #expect(collected.stderrLines == [[2, 3], [5, 5], [7, 7]])
  }

  @Test func onlyTheTailsLinesAreNamedWhenTheOutputIsCut() {
    let collector = Self.collector()
    collector.stderr(Array("early error\n".utf8))
    let line = String(repeating: "x", count: 99) + "\n"
    for _ in 0..<(OutputCollector.tailLimit / 100 + 10) { collector.stdout(Array(line.utf8)) }
    collector.stderr(Array("late error\nlast\n".utf8))
    let collected = collector.finish()
    let lines = TextLines.split(collected.tail)
    #expect(collected.truncatedTail)
    #expect(collected.stderrLines == [[lines.count - 1, lines.count]])
    #expect(lines[lines.count - 2] == "late error")
  }
}
