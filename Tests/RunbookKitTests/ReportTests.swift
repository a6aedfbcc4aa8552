import Foundation
import Testing

@testable import RunbookKit

/// A run directory made from fixed records (no execution, no clock): the input of the
/// golden-file tests.
enum FixedRun {
  static let runbook = """
    ---
    title: Golden <report> & co
    vars:
      vip: 10.0.0.5
    secrets: [db_pass]
    ---
    # Install

    1. Packages:
        ```sh {role=web name=install}
        apt-get install -y nginx
        ```
        ![installed](shot.png)
    2. Config:
        ```ini {role=web name=conf file=/etc/app.ini section=main}
        listen = {{ vip }}
        ```

    ## Check

    ```console {role=web name=check}
    $ curl -s http://{{ vip }}/
    ok
    ```

    ```sh {role=db name=never}
    echo not reached
    ```
    """

  /// The run; with `resumed`, a second attempt finds the first steps done, runs the failed
  /// check again as the operator edited it, and the operator skips the last step.
  static func make(in dir: String, resumed: Bool = true) async throws {
    let fm = FileManager.default
    try fm.createDirectory(atPath: dir + "/logs/001-install", withIntermediateDirectories: true)
    try fm.createDirectory(atPath: dir + "/logs/003-check", withIntermediateDirectories: true)
    try runbook.write(toFile: dir + "/runbook.md", atomically: true, encoding: .utf8)
    let hostile = "line with ```fence``` inside\n</pre><script>alert('x')</script>\n````\n"
    try hostile.write(toFile: dir + "/logs/001-install/web1.log", atomically: true, encoding: .utf8)
    try "".write(toFile: dir + "/logs/001-install/web2.log", atomically: true, encoding: .utf8)
    try "bad gateway\n".write(
      toFile: dir + "/logs/003-check/web1.log", atomically: true, encoding: .utf8)
    let journal = try Journal(path: dir + "/journal.jsonl")
    try await journal.append(
      RunRecord(
        runID: "golden-20260101T000000Z", runbook: "guides/golden.md",
        title: "Golden <report> & co",
        runbookSHA256: runbook.sha256, inventory: "hosts.ini",
        inventorySHA256: String(repeating: "ab", count: 32),
        operatorName: "alice@bastion", toolVersion: "0.1.0", startedAt: "2026-01-01T00:00:00.000Z",
        variables: ["vip": "10.0.0.5", "db_pass": "********"], stepCount: 4,
        hosts: ["web1", "web2", "db1"],
        dryRun: false, resumes: nil, selectedSteps: [0, 1, 2, 3], attempt: 1))
    func record(
      _ step: String, _ index: Int, _ kind: StepKind, _ line: Int, _ path: [String], _ host: String,
      _ status: StepStatus, log: String?, tail: String, script: String, ms: Int
    ) -> StepRecord {
      StepRecord(
        step: step, index: index, kind: kind, line: line, headingPath: path, host: host,
        status: status,
        reason: status == .failed
          ? "console: output of 'curl -s http://10.0.0.5/' differs from the transcript" : nil,
        exitCode: status == .failed ? 1 : 0, attempts: 1,
        startedAt: "2026-01-01T00:00:0\(index).000Z",
        endedAt: "2026-01-01T00:00:0\(index).500Z", durationMs: ms, script: script,
        contentSHA256: script.sha256, log: log, outputBytes: tail.utf8.count,
        outputSHA256: tail.sha256, outputTail: tail, outputTruncated: false)
    }
    var install = record(
      "install", 0, .shell, 10, ["Install"], "web1", .ok, log: "logs/001-install/web1.log",
      tail: hostile,
      script: "apt-get install -y nginx\n", ms: 1500)
    // What the step left in web1's session: a directory, variables (one secret, one with
    // markup), a function.
    let change = ShellStateChange(
      cwd: "/srv/<app>",
      set: [
        "PORT": ShellVariable("3000", exported: true),
        "PATH": ShellVariable("/srv/app/bin:/usr/bin"),
        "DB_PASS": ShellVariable("s3cret-value"),
      ],
      unset: ["OLD"], functions: ["greet": "greet () \n{ \n    echo hi\n}\n"])
    var before = ShellState(cwd: "/root")
    before.variables["PATH"] = ShellVariable("/usr/bin", exported: true)
    before.variables["OLD"] = ShellVariable("x")
    // Sealing is random; the golden journal is not: the secret is masked as a run masks it.
    var session = SessionRecord(
      change, from: before, user: nil, masker: SecretMasker(values: []),
      key: RunKey(bytes: Array(repeating: 7, count: 32)), secret: { _ in false })
    session.set?["DB_PASS"]?.text = SecretMasker.mask
    session.set?["DB_PASS"]?.sealed = "sealed-with-the-run-key"
    install.session = session
    install.stderrLines = [[2, 2]]  // the markup came on standard error
    try await journal.append(install)
    try await journal.append(
      record(
        "install", 0, .shell, 10, ["Install"], "web2", .ok, log: "logs/001-install/web2.log",
        tail: "",
        script: "apt-get install -y nginx\n", ms: 1200))
    var conf = record(
      "conf", 1, .iniMerge, 15, ["Install"], "web1", .ok, log: nil, tail: "",
      script: "listen = 10.0.0.5\n", ms: 20)
    conf.changed = true
    conf.diff = " [main]\n-listen = 127.0.0.1\n+listen = 10.0.0.5\n"
    try await journal.append(conf)
    var check = record(
      "check", 2, .console, 22, ["Install", "Check"], "web1", .failed,
      log: "logs/003-check/web1.log",
      tail: "bad gateway\n", script: "$ curl -s http://10.0.0.5/\nok\n", ms: 30)
    check.mismatch = "$ curl -s http://10.0.0.5/\n- ok\n+ bad gateway"
    try await journal.append(check)
    try await journal.append(
      RunEndRecord(
        status: .failed, endedAt: "2026-01-01T00:00:05.000Z", counts: ["ok": 3, "failed": 1]))
    guard resumed else {
      await journal.close()
      return
    }
    try runbook.write(toFile: dir + "/runbook.attempt-2.md", atomically: true, encoding: .utf8)
    try "ok\n".write(
      toFile: dir + "/logs/003-check/web1.attempt-2.log", atomically: true, encoding: .utf8)
    var second = RunRecord(
      runID: "golden-20260101T000000Z", runbook: "guides/golden.md",
      title: "Golden <report> & co", runbookSHA256: runbook.sha256, inventory: "hosts.ini",
      inventorySHA256: String(repeating: "ab", count: 32), operatorName: "bob@bastion",
      toolVersion: "0.1.0", startedAt: "2026-01-01T01:00:00.000Z",
      variables: ["vip": "10.0.0.5", "db_pass": "********", "url": "http://10.0.0.5/"],
      stepCount: 4, hosts: ["web1", "web2", "db1"], dryRun: false,
      resumes: "golden-20260101T000000Z", selectedSteps: [0, 1, 2, 3], attempt: 2)
    second.snapshot = "runbook.attempt-2.md"
    second.interactive = true
    second.variableDefinitions = ["url": "http://{{ vip }}/"]
    second.roleHosts = ["web": [0, 1], "db": [2]]
    try await journal.append(second)
    for host in ["web1", "web2"] {
      var kept = record(
        "install", 0, .shell, 10, ["Install"], host, .skipped, log: nil, tail: "",
        script: "apt-get install -y nginx\n", ms: 0)
      kept.reason = "done in attempt 1, unchanged since: not run again"
      kept.keptFrom = 1
      kept.attempt = 2
      try await journal.append(kept)
    }
    var edited = record(
      "check", 2, .console, 22, ["Install", "Check"], "web1", .ok,
      log: "logs/003-check/web1.attempt-2.log", tail: "ok\n",
      script: "$ curl -s http://10.0.0.5:8080/\nok\n", ms: 40)
    edited.attempt = 2
    edited.startedAt = "2026-01-01T01:00:01.000Z"
    edited.endedAt = "2026-01-01T01:00:01.040Z"
    edited.operatorAction = .edited
    edited.runbookScript = "$ curl -s http://10.0.0.5/\nok\n"
    edited.deviation = "- $ curl -s http://10.0.0.5/\n+ $ curl -s http://10.0.0.5:8080/\n  ok"
    try await journal.append(edited)
    var skipped = record(
      "never", 3, .shell, 27, ["Install", "Check"], "db1", .skipped, log: nil, tail: "",
      script: "echo not reached\n", ms: 0)
    skipped.reason = "skipped by the operator"
    skipped.operatorAction = .skipped
    skipped.attempt = 2
    try await journal.append(skipped)
    try await journal.append(
      RunEndRecord(
        status: .passed, endedAt: "2026-01-01T01:00:02.000Z", counts: ["ok": 1, "skipped": 3]))
    await journal.close()
  }
}

@Suite(.serialized) struct ReportTests {
  static func tempDir() throws -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-report-\(UUID().uuidString)"
    ).path
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    return dir
  }

  @Test(arguments: RunDirectory.reportFiles)
  func reportsMatchTheirGoldenFiles(name: String) async throws {
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await FixedRun.make(in: dir)
    try await RunDirectory.writeReports(directory: dir)
    let rendered = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
    let golden = Fixtures.url("reports/golden-" + name)
    // Recording a golden file proves nothing: the run that records fails, so a record
    // switch left on can never pass silently.
    if ProcessInfo.processInfo.environment["RUNBOOK_UPDATE_GOLDEN"] != nil {
      try rendered.write(to: golden, atomically: true, encoding: .utf8)
      Issue.record("recorded \(golden.lastPathComponent); run again without RUNBOOK_UPDATE_GOLDEN")
    }
    #expect(rendered == (try String(contentsOf: golden, encoding: .utf8)))
  }

  @Test func outputCannotBreakOutOfTheHTML() async throws {
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await FixedRun.make(in: dir)
    let html = try RunReport.load(directory: dir).html()
    #expect(html.contains("&lt;/pre&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
    #expect(html.components(separatedBy: "<script>").count == 2, "only the report's own script")
    #expect(html.contains("Golden &lt;report&gt; &amp; co"))
    #expect(!html.contains("src=\"shot.png\""), "no external resource")
    for external in ["<link", "<img", "src=", "@import", "url("] {
      #expect(!html.contains(external), "no external resource: \(external)")
    }
    let markdown = try RunReport.load(directory: dir).markdown()
    #expect(
      markdown.contains("    `````text\n    line with ```fence``` inside"),
      "a fence longer than any in the output")
  }

  @Test func markdownReplacesTheScreenshotWithTheOutput() async throws {
    let dir = try Self.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await FixedRun.make(in: dir)
    let markdown = try RunReport.load(directory: dir).markdown()
    #expect(!markdown.contains("![installed](shot.png)"))
    #expect(
      markdown.contains(
        "**Output on `web1` (in place of the guide's screenshot) — [full log](logs/001-install/web1.log)**"
      ))
  }

  @Test func verifyAcceptsAnIntactRunAndNamesTheFirstEditedFile() async throws {
    for (file, offset) in [
      ("journal.jsonl", 300), ("logs/001-install/web1.log", 3), ("run.json", 40),
      ("report.html", 100),
    ] {
      let dir = try Self.tempDir()
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try await FixedRun.make(in: dir)
      try await RunDirectory.writeReports(directory: dir)
      #expect(RunDirectory.verify(directory: dir).isEmpty)
      var data = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + file))
      data[offset] = data[offset] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
      try data.write(to: URL(fileURLWithPath: dir + "/" + file))
      let problems = RunDirectory.verify(directory: dir)
      #expect(problems.first?.file.hasPrefix(file) == true, "\(file): \(problems)")
    }
  }

  @Test func timelineTimestampsAreReadLikeFoundationReadsThem() throws {
    let parse = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    for text in [
      "1970-01-01T00:00:00.000Z", "2026-01-01T00:00:05.500Z", "2024-02-29T23:59:59.999Z",
      "2000-03-01T12:34:56.125Z", "2100-12-31T01:02:03.040Z",
    ] {
      let expected = try parse.parse(text).timeIntervalSince1970
      let read = try #require(RunReport.epochSeconds(text))
      #expect(abs(read - expected) < 0.0005, "\(text): \(read) vs \(expected)")
    }
    #expect(RunReport.epochSeconds("yesterday") == nil)
    #expect(RunReport.epochSeconds("2026-01-01 00:00:00.000Z") == nil)
  }

  /// Two runs of the fixed runbook, loaded as `diff` reads them.
  static func twoRuns() async throws -> (RunReport, RunReport) {
    var runs: [RunReport] = []
    for _ in 0..<2 {
      let dir = try tempDir()
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try await FixedRun.make(in: dir, resumed: false)
      runs.append(try RunReport.load(directory: dir))
    }
    return (runs[0], runs[1])
  }

  @Test func diffShowsStatusScriptAndOutputChanges() async throws {
    var (runA, runB) = try await Self.twoRuns()
    runB.results[2]![0].status = .ok
    runB.results[2]![0].outputTail = "ok\n"
    let text = RunDirectory.diff(runA, runB)
    #expect(
      text.contains(
        "check on web1:\n  status: failed → ok\n  output:\n    - bad gateway\n    + ok\n"))
  }
}

extension ReportTests {
  @Test func diffLeavesOutProgressLinesUnlessAsked() async throws {
    var (runA, runB) = try await Self.twoRuns()
    // Lines as apt-get, dpkg, curl, pip and wget print them on Debian 12.
    runA.results[2]![0].outputTail = """
      Get:1 http://deb.debian.org/debian bookworm/main amd64 jq amd64 1.6-2.1 [135 kB]
      Fetched 135 kB in 0s (2,714 kB/s)
      Selecting previously unselected package jq.
      (Reading database ... 41235 files and directories currently installed.)
      Unpacking jq (1.6-2.1) ...
        % Total    % Received % Xferd  Average Speed   Time    Time     Time  Current
                                       Dload  Upload   Total   Spent    Left  Speed
      100  1256  100  1256    0     0   8934      0 --:--:-- --:--:-- --:--:--  8971
      Collecting requests==2.31.0
        Downloading requests-2.31.0-py3-none-any.whl (62 kB)
           ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 62.6/62.6 kB 4.1 MB/s eta 0:00:00
      --2026-12-06 02:10:11--  https://example.org/app.tar.gz
      Resolving example.org (example.org)... 93.184.216.34
      Connecting to example.org (example.org)|93.184.216.34|:443... connected.
      HTTP request sent, awaiting response... 200 OK
      Length: 1256 (1.2K) [application/gzip]
      Saving to: 'app.tar.gz'
           0K .                                                     100% 11.2M=0s
      the service is up

      """
    runB.results[2]![0].outputTail = """
      Hit:1 http://deb.debian.org/debian bookworm InRelease
      Reading package lists...
      the service is up

      """
    let quiet = RunDirectory.diff(runA, runB)
    #expect(!quiet.contains("output:"), "\(quiet)")
    #expect(!quiet.contains("Get:1") && !quiet.contains("Hit:1"))
    let all = RunDirectory.diff(runA, runB, progress: true)
    #expect(all.contains("    - Get:1 http://deb.debian.org/debian"))
    #expect(all.contains("    + Hit:1 http://deb.debian.org/debian bookworm InRelease"))
    // Words that only look like progress stay.
    for line in ["Setting the clock", "Getting started", "Downloaded 3 files", "100 users"] {
      #expect(!RunDirectory.isProgress(line), "\(line)")
    }
  }

  @Test func gridLabelsAreReadableAndNeverShared() {
    let (runbook, _) = Runbook.parse(
      """
      ## Step 2 — Creating the PostgreSQL Database and its owner

      ```sh {role=db}
      # as postgres
      sudo -u postgres createdb app
      ```

      ```console {role=db}
      $ psql -l
      app
      ```

      ## Again

      ```sh {role=db}
      echo same
      ```

      ## Again

      ```sh {role=db}
      echo same
      ```

      ```ini {role=db file=/etc/app.ini}
      [a]
      b = 1
      ```

      ```sh {role=db name=named}
      echo named
      ```
      """, file: "g.md")
    let labels = RunReport.labels(of: runbook).sorted { $0.key < $1.key }.map(\.value)
    #expect(
      labels == [
        "Step 2 — Creating the PostgreSQ…: sudo -u postgres createdb app",
        "Step 2 — Creating the PostgreSQ…: psql -l",
        "Again: echo same (line 15)", "Again: echo same (line 21)", "Again: /etc/app.ini",
        "named",
      ])
  }

  @Test func theHostsTableSaysWhereAndAsWhom() async throws {
    var (report, _) = try await Self.twoRuns()
    report.attempts[report.attempts.count - 1].hostDetails = [
      HostRecord(
        name: "web1", address: "192.0.2.11", port: 2222, connection: "ssh", user: "deploy",
        becomes: ["postgres", "root"]),
      HostRecord(
        name: "db<1>", address: "db1", port: nil, connection: "ssh", user: nil, becomes: nil),
    ]
    let markdown = report.markdown()
    #expect(
      markdown.contains(
        "| `web1` | `192.0.2.11:2222` | ssh | `deploy` | `postgres`, `root` (sudo) |\n| `db<1>` | `db1` | ssh | ssh's default (User in its config, else your login name) | — |\n"
      ),
      "\(markdown.prefix(2000))")
    let html = report.html()
    #expect(
      html.contains(
        "<tr><td><code>web1</code></td><td><code>192.0.2.11:2222</code></td><td>ssh</td><td><code>deploy</code></td><td><code>postgres</code>, <code>root</code> (sudo)</td></tr>"
      ))
    #expect(html.contains("<code>db&lt;1&gt;</code>"))
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
    let hosts = try #require((json["run"] as? [String: Any])?["hostDetails"] as? [[String: Any]])
    #expect(hosts.first?["port"] as? Int == 2222 && hosts.first?["user"] as? String == "deploy")
    #expect(hosts.last?["becomes"] as? [String] == [])
    #expect(hosts.first?["becomeMethod"] as? String == "sudo")
    // Logged in as root, steps become other users with runuser; without a login named,
    // either may be.
    #expect(
      HostRecord(
        name: "a", address: "a", port: nil, connection: "ssh", user: "root", becomes: ["app"]
      ).becomeMethod == "runuser")
    #expect(
      HostRecord(name: "a", address: "a", port: nil, connection: "ssh", user: nil, becomes: ["app"])
        .becomeMethod == "sudo, or runuser if the login is root")
  }

  @Test func diffShowsWhatAStepLeftInItsSessionThatDiffers() async throws {
    var (runA, runB) = try await Self.twoRuns()
    func record(_ json: String) throws -> SessionRecord {
      try JSONDecoder().decode(SessionRecord.self, from: Data(json.utf8))
    }
    // A secret's sealed value differs in every run: its masked text is what is compared.
    runA.results[0]![0].session = try record(
      #"{"cwd":{"text":"/srv/app"},"set":{"PORT":{"text":"3000","exported":true,"isNew":true},"TOKEN":{"text":"********","sealed":"one"}},"functions":{"greet":{"text":"greet () { echo hi; }"}}}"#
    )
    runB.results[0]![0].session = try record(
      #"{"cwd":{"text":"/srv/app2"},"set":{"PORT":{"text":"3001","exported":true},"TOKEN":{"text":"********","sealed":"two"}},"unset":["OLD"]}"#
    )
    let text = RunDirectory.diff(runA, runB)
    #expect(
      text.contains(
        "  session:\n    cwd: '/srv/app' → '/srv/app2'\n    OLD: (not set) → (unset)\n    PORT: '3000' (exported) → '3001' (exported)\n    greet(): (defined) → (not defined)\n"
      ), "\(text)")
    #expect(!text.contains("TOKEN"))
    runB.results[0]![0].session = runA.results[0]![0].session
    #expect(!RunDirectory.diff(runA, runB).contains("session:"))
  }
}

/// The HTML report opened in a real browser (Debian's chromium, headless).
@Suite struct BrowserTests {
  static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first {
    FileManager.default.isExecutableFile(atPath: $0)
  }

  @Test(
    .enabled(if: chromium != nil, "chromium is not installed (Scripts/setup --tests installs it)"))
  func htmlLoadsWithoutConsoleErrorsAndShowsEveryStep() async throws {
    let dir = try ReportTests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: dir) }
    try await FixedRun.make(in: dir)
    try await RunDirectory.writeReports(directory: dir)
    let (dom, consoleErrors) = try Self.open(dir + "/report.html", profile: dir + "/profile")
    #expect(dom.components(separatedBy: "<section class=\"step ").count - 1 == 4)
    // The script ran: it shows the filter buttons it hides for readers without JavaScript.
    #expect(dom.contains("<p class=\"filters\">"))
    #expect(consoleErrors.isEmpty, "\(consoleErrors)")
  }

  @Test(
    .enabled(if: chromium != nil, "chromium is not installed (Scripts/setup --tests installs it)"))
  func theIndexOfRunsLoadsAndLinksEachRun() async throws {
    let folder = try ReportTests.tempDir()
    defer { try? FileManager.default.removeItem(atPath: folder) }
    for name in ["first", "second"] {
      try FileManager.default.createDirectory(
        atPath: folder + "/" + name, withIntermediateDirectories: true)
      try await FixedRun.make(in: folder + "/" + name)
      try await RunDirectory.writeReports(directory: folder + "/" + name)
    }
    try RunIndex.read(folder).html.write(
      toFile: folder + "/index.html", atomically: true, encoding: .utf8)
    let (dom, consoleErrors) = try Self.open(
      folder + "/index.html", profile: folder + "/profile")
    #expect(dom.contains("<a href=\"first/report.html\">first</a>"))
    #expect(dom.contains("<a href=\"second/report.html\">second</a>"))
    #expect(consoleErrors.isEmpty, "\(consoleErrors)")
  }

  /// The DOM chromium built from `path`, and the console errors it logged.
  static func open(_ path: String, profile: String) throws -> (
    dom: String, consoleErrors: [String]
  ) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: chromium!)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
      "--user-data-dir=\(profile)", "--dump-dom", "file://\(path)",
    ]
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let dom = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let errors = log.split(separator: "\n").filter {
      $0.contains("CONSOLE") || $0.contains("Uncaught")
    }
    return (dom, errors.map(String.init))
  }
}
