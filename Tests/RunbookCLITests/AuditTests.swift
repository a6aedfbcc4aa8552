import Foundation
import Testing

/// Runs that were resumed, retried and steered keep an audit-true record: the built
/// binary, real shells, real files.
@Suite(.serialized) struct AuditTests {
  static let runbook = """
    ---
    vars:
      greeting: hello
      message: "{{ greeting }} world"
    ---
    # Audit

    ## Prepare

    ```sh {role=web name=prepare}
    echo prepared on {{ host.name }}
    ```

    ```sh {role=db name=guarded creates=/}
    echo never printed
    ```

    ## Broken shell

    ```sh {role=web name=broken}
    echo before the error
    nosuchcommand-runbook-test
    ```

    ## Python

    ```sh {role=web name=py}
    python3 -c 'import sys
    def f():
        return os.getcwd()
    f()'
    ```

    ## Final

    ```sh {role=web,db name=final}
    echo {{ message }} from {{ host.name }}
    ```
    """

  struct Workspace {
    let dir: URL
    init() throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "runbook-audit-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try write("g.md", AuditTests.runbook)
      try write("hosts", "[web]\na ansible_connection=local\n[db]\nb ansible_connection=local\n")
      // The operator's "editor" fixes the Python step in place.
      try write("fix.sh", "#!/bin/sh\nsed -i 's/os.getcwd()/sys.version/' \"$1\"\n")
      chmod(dir.appendingPathComponent("fix.sh").path, 0o755)
    }
    func write(_ name: String, _ text: String) throws {
      try text.write(to: dir.appendingPathComponent(name), atomically: true, encoding: .utf8)
    }
    func read(_ name: String) -> String {
      (try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)) ?? ""
    }
    func exec(_ extra: [String], input: String? = nil) throws -> CLI.Result {
      try CLI.run(
        ["exec", "g.md", "-i", "hosts"] + extra, in: dir, input: input,
        environment: ["EDITOR": dir.appendingPathComponent("fix.sh").path])
    }
    /// Every regular file of the run directory, relative to it.
    func files(_ run: String) -> [String] {
      let root = dir.appendingPathComponent(run).path
      return (FileManager.default.enumerator(atPath: root)?.compactMap { $0 as? String } ?? [])
        .filter { path in
          var isDirectory: ObjCBool = false
          FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isDirectory)
          return !isDirectory.boolValue
        }.sorted()
    }
  }

  @Test func failFixResumeRetryEditThenVerifyAndReport() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }

    // Attempt 1 fails at the broken shell line, named by the runbook's file and line.
    let first = try ws.exec(["--report-dir", "run"])
    #expect(first.status == 1)
    let brokenLine =
      AuditTests.runbook.split(separator: "\n", omittingEmptySubsequences: false)
      .firstIndex { $0.contains("nosuchcommand-runbook-test") }! + 1
    #expect(
      first.stdout.contains(
        "a: failed — g.md:\(brokenLine): nosuchcommand-runbook-test: not found"),
      "\(first.stdout)")
    // The grid tells the five states apart.
    let firstHTML = ws.read("run/report.html")
    for cell in ["cell ok", "cell failed", "cell skipped", "cell unreached", "cell na"] {
      #expect(firstHTML.contains("class=\"\(cell)"), "grid lacks \(cell)")
    }
    #expect(firstHTML.contains("class=\"first-failure\""))
    #expect(ws.read("run/report.md").contains("| First failure | [broken](#step-broken)"))

    // The runbook is fixed; attempt 2 is interactive: the Python step fails, is retried,
    // fails again, and the operator quits.
    try ws.write(
      "g.md",
      AuditTests.runbook.replacingOccurrences(of: "nosuchcommand-runbook-test", with: "true"))
    let second = try ws.exec(
      ["--resume", "run", "--interactive"], input: "yes\ny\nplease\nr\nq\n")
    // Quitting is the operator's decision: its own status, not an interrupt's.
    #expect(second.status == 4, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.contains("run stopped"), "\(second.stdout)")
    #expect(second.stdout.contains("'please' is not an answer"))
    // Steps the first attempt did are not asked about: they do not run.
    #expect(!second.stdout.contains("──── [1/5] prepare"), "\(second.stdout)")
    #expect(second.stdout.contains("──── [3/5] broken"))
    #expect(second.stdout.contains("NameError: name 'os' is not defined"))
    let py = second.stdout.split(separator: "\n").filter { $0.contains("a: failed") }
    #expect(py.count == 2, "\(py)")
    #expect(py.allSatisfy { $0.contains("failed — NameError: name 'os' is not defined") }, "\(py)")

    // Attempt 3 runs the step as written again; in attempt 4 the operator edits it.
    let third = try ws.exec(["--resume", "run"])
    #expect(third.status == 1, "\(third.stdout)")
    let fourth = try ws.exec(["--resume", "run", "--interactive"], input: "e\ny\ny\n")
    #expect(fourth.status == 0, "\(fourth.stdout)\(fourth.stderr)")

    // verify accepts the honest sequence of attempts…
    let verified = try CLI.run(["verify", "run"], in: ws.dir)
    #expect(verified.status == 0, "\(verified.stderr)")
    // …and names any file edited by one byte.
    let files = ws.files("run")
    #expect(files.contains("runbook.attempt-4.md"))
    // A log for each run of a step that printed something (a silent one has none).
    let printed = ws.read("run/journal.jsonl").split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }.filter { $0["type"] as? String == "step" && ($0["outputBytes"] as? Int ?? 0) > 0 }
    #expect(printed.count >= 8)
    #expect(
      Set(files.filter { $0.hasPrefix("logs/") })
        == Set(printed.compactMap { $0["log"] as? String }), "\(files)")
    #expect(!files.contains("run.lock"))
    for file in files {
      let copy = "edited-" + file.replacingOccurrences(of: "/", with: "_")
      try FileManager.default.copyItem(
        at: ws.dir.appendingPathComponent("run"), to: ws.dir.appendingPathComponent(copy))
      defer { try? FileManager.default.removeItem(at: ws.dir.appendingPathComponent(copy)) }
      let url = ws.dir.appendingPathComponent(copy + "/" + file)
      var bytes = try Data(contentsOf: url)
      if bytes.isEmpty {
        bytes.append(UInt8(ascii: "x"))
      } else {
        let at = bytes.count / 2
        bytes[at] = bytes[at] == UInt8(ascii: "x") ? UInt8(ascii: "y") : UInt8(ascii: "x")
      }
      try bytes.write(to: url)
      let result = try CLI.run(["verify", copy], in: ws.dir)
      #expect(result.status == 1, "a one-byte edit of \(file) went unnoticed")
      #expect(result.stderr.contains(copy + "/" + file), "\(file): \(result.stderr)")
    }

    // The reports hold the real output of every step that ran in any attempt.
    let journal = ws.read("run/journal.jsonl").split(separator: "\n").compactMap {
      try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
    }
    let ran = journal.filter { $0["type"] as? String == "step" && $0["log"] is String }
    #expect(ran.count == printed.count)
    let markdown = ws.read("run/report.md")
    let html = ws.read("run/report.html")
    for record in ran {
      let output = ws.read("run/" + (record["log"] as! String))
      for line in output.split(separator: "\n") where !line.isEmpty {
        #expect(markdown.contains(line), "report.md lacks \(line)")
        #expect(
          html.contains(
            line.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(
              of: "<", with: "&lt;"
            ).replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(
              of: "'", with: "&#39;"
            ).replacingOccurrences(of: "\"", with: "&quot;")), "report.html lacks \(line)")
      }
    }
    #expect(markdown.contains("hello world from b"))
    #expect(markdown.contains("prepared on a"))
    // The header counts the results that count, the attempts, what the results did, and
    // every deviation: the edit, the retry, the step fixed between attempts. A run that
    // deviated is not shown as a clean pass.
    #expect(
      markdown.contains(
        "| Result | ⚠️ **passed, with deviations** — 5 ok, 1 skipped · 4 attempts · 1 skipped by guard, 5 ran · **with 1 edit, 1 interactive retry, 1 step changed between attempts (the script of broken)** |"
      ), "\(markdown.prefix(600))")
    #expect(html.contains("<span class=\"badge passed deviated\">passed, with deviations</span>"))
    // The edited step is a deviation, with the diff of what ran.
    #expect(markdown.contains("**Deviation on `a`: the operator edited the script before it ran**"))
    #expect(markdown.contains("+     return sys.version"))
    #expect(html.contains("<td class=\"cell ok edited\""))
    // History: the Python step failed three times before the edit.
    #expect(markdown.contains("History: 3 earlier runs of this step"))
    #expect(markdown.contains("attempt 2, retry 1: failed on a (exit 1) — NameError"))
    // run.json counts effective results and lists the attempts.
    let runJSON =
      try JSONSerialization.jsonObject(with: Data(ws.read("run/run.json").utf8)) as! [String: Any]
    #expect((runJSON["attempts"] as? [Any])?.count == 4)
    #expect((runJSON["counts"] as? [String: Int]) == ["ok": 5, "skipped": 1])
    #expect(
      (runJSON["deviationCounts"] as? [String: Int]) == ["edited": 1, "retried": 1, "changed": 1])
    let deviations = try #require(runJSON["deviations"] as? [[String: Any]])
    let changed = try #require(deviations.first { $0["kind"] as? String == "changed" })
    #expect(changed["step"] as? String == "broken" && changed["attempt"] as? Int == 2)
    #expect((changed["diff"] as? String)?.contains("\n+") == true, "\(changed)")
  }

  @Test func secretsCapturedDuringTheRunAreMaskedInDiffsAndMismatches() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let target = ws.dir.appendingPathComponent("app.conf").path
    try ws.write(
      "s.md",
      """
      ---
      secrets: [token]
      ---
      # Secrets

      ```sh {role=web name=mint capture=token}
      echo s3cr3t-$(( 40 + 2 ))-minted
      ```

      ```file {role=web name=conf file=\(target)}
      token = {{ token }}
      ```

      ```console {role=web name=show}
      $ echo the token is {{ token }}
      the token is something else
      ```
      """)
    let result = try CLI.run(
      ["exec", "s.md", "-i", "hosts", "--report-dir", "run", "--continue-on-error"], in: ws.dir)
    #expect(result.status == 1, "\(result.stdout)\(result.stderr)")
    #expect(ws.read("app.conf") == "token = s3cr3t-42-minted\n")
    var everything = result.stdout + result.stderr
    for file in ws.files("run") { everything += ws.read("run/" + file) }
    #expect(!everything.contains("s3cr3t-42-minted"), "the captured secret leaked")
    let journal = ws.read("run/journal.jsonl")
    #expect(journal.contains("+token = ********"), "the file diff, masked")
    #expect(journal.contains("the token is ********"), "the transcript mismatch, masked")
  }

  @Test func runsListsEachRunOfAFolderAndWritesItsIndex() throws {
    let dir = try CLI.scratch("runs")
    let reports = dir.appendingPathComponent("Reports")
    try FileManager.default.createDirectory(at: reports, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try CLI.makeKey(dir.appendingPathComponent("key"))
    try "```sh {role=local name=ok}\necho fine\n```\n".write(
      to: dir.appendingPathComponent("good.md"), atomically: true, encoding: .utf8)
    try "```sh {role=local name=bad}\nexit 3\n```\n".write(
      to: dir.appendingPathComponent("bad.md"), atomically: true, encoding: .utf8)
    let good = try CLI.run(
      [
        "exec", "good.md", "--report-dir", "Reports/good", "--sign-key", "key", "--operator", "Ada",
      ],
      in: dir)
    #expect(good.status == 0, "\(good.stderr)")
    let bad = try CLI.run(
      ["exec", "bad.md", "--report-dir", "Reports/bad", "--operator", "Grace"], in: dir)
    #expect(bad.status == 1)
    // A folder without a journal is no run; a journal that cannot be read is said so.
    try FileManager.default.createDirectory(
      at: reports.appendingPathComponent("notes"), withIntermediateDirectories: true)
    try FileManager.default.createDirectory(
      at: reports.appendingPathComponent("broken"), withIntermediateDirectories: true)
    try "not json\n".write(
      to: reports.appendingPathComponent("broken/journal.jsonl"), atomically: true, encoding: .utf8)

    let listed = try CLI.run(["runs"], in: dir)
    #expect(listed.status == 0, "\(listed.stderr)")
    let lines = listed.stdout.split(separator: "\n").map(String.init)
    #expect(lines.first?.hasPrefix("started") == true)
    let good1 = try #require(lines.first { $0.hasSuffix(" good") })
    #expect(good1.contains(" passed ") && good1.contains(" yes ") && good1.contains(" Ada "))
    let bad1 = try #require(lines.first { $0.hasSuffix(" bad") })
    #expect(bad1.contains(" failed ") && bad1.contains(" no ") && bad1.contains(" Grace "))
    #expect(lines.contains { $0.contains("unreadable") && $0.hasSuffix(" broken") })
    #expect(!lines.contains { $0.hasSuffix(" notes") })
    // The newest run comes first.
    #expect(
      lines.firstIndex { $0.hasSuffix(" bad") }! < lines.firstIndex { $0.hasSuffix(" good") }!)
    let index = try String(
      contentsOf: reports.appendingPathComponent("index.html"), encoding: .utf8)
    #expect(index.contains("<a href=\"good/report.html\">good</a>"))
    // Private to the operator, as the run directories it lists.
    let mode =
      try FileManager.default.attributesOfItem(
        atPath: reports.appendingPathComponent("index.html").path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
    #expect(index.contains("<span class=\"badge failed\">failed</span>"))

    let missing = try CLI.run(["runs", "nowhere"], in: dir)
    #expect(missing.status == 2 && missing.stderr.contains("nowhere is not a folder"))
  }

  @Test func theHeaderCountsWhatChangedWhatDidNotAndWhatAGuardSkipped() throws {
    let dir = try CLI.scratch("effects")
    defer { try? FileManager.default.removeItem(at: dir) }
    try """
    ```text {role=local file={{ dir }}/app.conf}
    level = 3
    ```

    ```sh {role=local name=made creates={{ dir }}/made}
    touch {{ dir }}/made
    ```

    ```sh {role=local name=look}
    ls {{ dir }} >/dev/null
    ```
    """.write(to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
    var lines: [String] = []
    for run in ["first", "second"] {
      let result = try CLI.run(
        ["exec", "r.md", "--var", "dir=\(dir.path)", "--report-dir", run], in: dir)
      #expect(result.status == 0, "\(result.stderr)")
      let markdown = try String(
        contentsOf: dir.appendingPathComponent("\(run)/report.md"), encoding: .utf8)
      lines.append(
        markdown.split(separator: "\n").first { $0.hasPrefix("| Result |") }.map(String.init) ?? "")
    }
    #expect(lines[0].contains("3 ok · 2 changed, 1 ran"), "\(lines[0])")
    #expect(lines[1].contains("· 1 unchanged, 1 skipped by guard, 1 ran"), "\(lines[1])")
    let html = try String(
      contentsOf: dir.appendingPathComponent("first/report.html"), encoding: .utf8)
    #expect(html.contains("title=\"localhost: ok, changed\">✓<sup>●</sup>"))
  }

  @Test func everyScreenshotKeepsItsPlaceAndSaysWhatBecameOfIt() throws {
    let dir = try CLI.scratch("shots")
    defer { try? FileManager.default.removeItem(at: dir) }
    FileManager.default.createFile(atPath: dir.appendingPathComponent("done").path, contents: nil)
    try """
    ```sh {role=local name=login}
    echo logged in
    ```

    ![terminal](pic/1.png)
    ![dashboard](pic/2.png)
    ![admin page](pic/3.png)

    ```sh {role=local name=made creates={{ dir }}/done}
    touch {{ dir }}/done
    ```

    ![made](pic/4.png)

    ```sh {role=local name=quiet}
    true
    ```

    ![quiet](pic/5.png)
    """.write(to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
    let result = try CLI.run(
      ["exec", "r.md", "--var", "dir=\(dir.path)", "--report-dir", "run"], in: dir)
    #expect(result.status == 0, "\(result.stderr)")
    let markdown = try String(
      contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8)
    let shots = markdown.split(separator: "\n").filter { $0.hasPrefix("> 📷 ") }.map(String.init)
    #expect(shots.count == 5, "\(shots)")
    #expect(
      shots.first?.contains(
        "“terminal” ([original image](<pic/1.png>), line 5): replaced by the real output of step `login` below (`localhost`)"
      ) == true)
    #expect(shots.dropFirst().first?.contains("“dashboard”") == true)
    #expect(
      shots[2].contains("“admin page”")
        && shots[2].contains("kept: the output of step `login` stands at its first screenshot"))
    #expect(
      shots[3].contains(
        "shown by the guard of step `made`, which found the work done: \(dir.path)/done exists (creates)"
      ))
    #expect(
      shots[4].contains(
        "not shown by any output of this run (its step printed nothing, step `quiet`)"))
    let html = try String(
      contentsOf: dir.appendingPathComponent("run/report.html"), encoding: .utf8)
    #expect(html.components(separatedBy: "<span class=\"shot\">").count - 1 == 5)
    #expect(
      html.contains(
        "“admin page” (<a href=\"pic/3.png\" rel=\"noreferrer\">original image</a>, line 7): kept"))
  }

  @Test func aLongOutputIsFoldedToItsLastFortyLinesWithTheLogLinked() throws {
    let dir = try CLI.scratch("fold")
    defer { try? FileManager.default.removeItem(at: dir) }
    try "```sh {role=local name=count}\nseq 1 100 | sed 's/^/line /'\n```\n".write(
      to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
    let result = try CLI.run(["exec", "r.md", "--report-dir", "run"], in: dir)
    #expect(result.status == 0)
    let markdown = try String(
      contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8)
    #expect(markdown.contains("<a href=\"logs/001-count/localhost.log\">full log</a>"))
    #expect(markdown.contains(" (the last 40 of 100 lines)</summary>"), "\(markdown)")
    #expect(markdown.contains("line 61\n") && markdown.contains("line 100\n"))
    #expect(!markdown.contains("line 60\n"))
  }

  /// The whole case: a signed run on an ssh host, resumed after its check was
  /// weakened, re-rendered, still verified; its reports say all of it.
  @Test func aSignedRunResumedAfterItsCheckWasWeakenedTellsTheWholeTruth() throws {
    let hosts = try SSHHosts(["s1"], base: 24500)
    defer { hosts.tearDown() }
    let dir = try CLI.scratch("signed")
    defer { try? FileManager.default.removeItem(at: dir) }
    try CLI.makeKey(dir.appendingPathComponent("key"))
    let publicKey = try String(contentsOf: dir.appendingPathComponent("key.pub"), encoding: .utf8)
      .split(separator: " ").prefix(2).joined(separator: " ")
    try "ada@example.com namespaces=\"runbook-run\" \(publicKey)\n".write(
      to: dir.appendingPathComponent("allowed"), atomically: true, encoding: .utf8)
    try hosts.inventory(groups: ["s1": "app"]).write(
      to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
    FileManager.default.createFile(atPath: dir.appendingPathComponent("done").path, contents: nil)
    let guide = """
      # Deploy

      ```text {role=app file={{ dir }}/app.conf}
      level = 2
      ```

      ```sh {role=app name=made unless="test -e {{ dir }}/done"}
      touch {{ dir }}/done
      ```

      ![made](pic/made.png)

      ```sh {role=app name=level expect="level = 3"}
      cat {{ dir }}/app.conf
      ```

      ![terminal](pic/1.png)
      ![dashboard](pic/2.png)
      ![admin page](pic/3.png)

      """
    try guide.write(to: dir.appendingPathComponent("g.md"), atomically: true, encoding: .utf8)
    func exec(_ more: [String]) throws -> CLI.Result {
      try CLI.run(
        [
          "exec", "g.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var",
          "dir=\(dir.path)",
          "--sign-key", "key", "--operator", "Ada Lovelace <ada@example.com>",
        ] + more, in: dir)
    }
    let first = try exec(["--report-dir", "run"])
    #expect(first.status == 1, "\(first.stdout)\(first.stderr)")
    try guide.replacingOccurrences(of: "level = 3", with: "level = 2").write(
      to: dir.appendingPathComponent("g.md"), atomically: true, encoding: .utf8)
    let second = try exec(["--resume", "run"])
    #expect(second.status == 0, "\(second.stdout)\(second.stderr)")
    #expect(second.stdout.contains("the check of level"), "\(second.stdout)")

    // Rendered again after signing: the signature still covers the whole journal.
    #expect(try CLI.run(["report", "run"], in: dir).status == 0)
    let verified = try CLI.run(["verify", "run", "--allowed-signers", "allowed"], in: dir)
    #expect(verified.status == 0, "\(verified.stdout)\(verified.stderr)")

    let listed = try CLI.sshKeygen(["-lf", dir.appendingPathComponent("key.pub").path])
    let fingerprint = try #require(listed.split(separator: " ").dropFirst().first.map(String.init))
    let markdown = try String(
      contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8)
    let html = try String(
      contentsOf: dir.appendingPathComponent("run/report.html"), encoding: .utf8)
    for report in [markdown, html] {
      #expect(report.contains("signed, naming"), "no signature")
      #expect(report.contains(fingerprint), "no fingerprint \(fingerprint)")
      #expect(report.contains("ada@example.com"))
      #expect(report.contains("Ada Lovelace"))
      #expect(report.contains("\(hosts.hosts[0].address):\(hosts.hosts[0].port)"), "no address")
      #expect(report.contains("1 changed"), "no change count")
      #expect(report.contains("the check of level"), "no deviation in the header")
      #expect(report.contains("shown by the guard of step"))
      for shot in ["pic/1.png", "pic/2.png", "pic/3.png", "pic/made.png"] {
        #expect(report.contains(shot), "\(shot) is gone")
      }
    }
    #expect(html.contains("passed, with deviations"))
    // The step that ran twice is marked so in the grid, and the timeline names its bars.
    #expect(
      html.contains(
        "title=\"s1: ok; after 1 earlier run: attempt 1 failed\">✓<sup>Δ</sup><sup>↻</sup>"))
    #expect(html.contains("class=\"barlabel\">level</text>"))
    // Step ids and start times outside code in report.md.
    let stepLines = markdown.split(separator: "\n").filter {
      $0.hasPrefix("**Step `level`** (shell, line 13) · app → `s1`")
    }
    #expect(!stepLines.isEmpty, "\(markdown)")
    let json = try #require(
      try JSONSerialization.jsonObject(
        with: Data(contentsOf: dir.appendingPathComponent("run/run.json"))) as? [String: Any])
    let deviations = try #require(json["deviations"] as? [[String: Any]])
    #expect(
      deviations.contains {
        $0["kind"] as? String == "changed" && $0["step"] as? String == "level"
          && $0["what"] as? String == "check" && $0["attempt"] as? Int == 2
      }, "\(deviations)")
    let signature = try #require(json["signature"] as? [String: Any])
    #expect(signature["signer"] as? String == "ada@example.com")
    #expect(signature["fingerprint"] as? String == fingerprint)
    #expect(signature["uncoveredRecords"] as? Int == 0)
    #expect(signature["signatureValid"] as? Bool == true)
    #expect(markdown.contains("(a valid signature by that key)"))

    // Resumed once more without signing: the signature no longer covers the whole run,
    // and both verify and the reports say so.
    let third = try CLI.run(
      [
        "exec", "g.md", "-i", "hosts", "--ssh-config", hosts.sshConfig, "--var", "dir=\(dir.path)",
        "--resume", "run", "--operator", "Ada Lovelace <ada@example.com>",
      ], in: dir)
    #expect(third.status == 0, "\(third.stdout)\(third.stderr)")
    let stale = try CLI.run(["verify", "run", "--allowed-signers", "allowed"], in: dir)
    #expect(stale.status == 1)
    #expect(stale.stderr.contains("were added after signing"), "\(stale.stderr)")
    let later = try String(contentsOf: dir.appendingPathComponent("run/report.md"), encoding: .utf8)
    #expect(later.contains("are not covered: sign the run again"))
  }
}
