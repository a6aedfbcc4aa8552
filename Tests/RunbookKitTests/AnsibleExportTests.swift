import Foundation
import Testing
import Yams

@testable import RunbookKit

/// `runbook export --ansible`: the project's playbook, what it leaves to run time, and the
/// Python that does runbook's file edits there.
@Suite struct AnsibleExportTests {
  static let inventory = """
    [web]
    w1 ansible_host=192.0.2.11 port=8080
    w2 ansible_host=192.0.2.12 port=8081
    [db]
    d1 ansible_host=192.0.2.21
    """

  static let runbook = """
    ---
    title: Export sample
    vars:
      banner: "{% not jinja %} {# nor this #}"
    secrets: [db_password]
    ---
    ```sh {role=db name=token capture=tok}
    echo tok-123
    ```

    ```sh {role=web name=use unless="test -e /x" timeout=1500ms retries=2 delay=1s tags=t1,t2}
    echo "{{ tok }} {{ banner }} {{ port }}" && mysql -p{{ db_password | quote }}
    ```

    ```ini {role=web name=cfg file=/etc/app.ini section=main create}
    listen = {{ host.address }}:{{ port }}
    ```

    ```sh {role=web,db name=both serial}
    hostname
    ```
    """

  func export(_ markdown: String = runbook, defaultRole: String? = nil) throws -> AnsibleExport {
    let (book, problems) = Runbook.parse(markdown, file: "r.md")
    #expect(problems.filter { $0.severity == .error }.isEmpty)
    let inv = try InventoryParser.parse(Self.inventory, file: "hosts")
    var options = PlanOptions()
    options.defaultRole = defaultRole
    let (plan, more) = Planner.plan(book, inventory: inv, options: options)
    #expect(more.filter { $0.severity == .error }.isEmpty, "\(more)")
    return AnsibleExport.make(
      plan: plan, runbookFile: "r.md", runbookText: markdown,
      inventory: (name: "hosts", text: Self.inventory))
  }

  /// The plays of the steps, without the session's first and last plays.
  func playbook(_ export: AnsibleExport) throws -> [[String: Any]] {
    try allPlays(export).filter { ($0["name"] as? String)?.hasPrefix("runbook: ") != true }
  }

  func allPlays(_ export: AnsibleExport) throws -> [[String: Any]] {
    let text = try #require(export.files.first { $0.path == "playbook.yml" }?.text)
    return try #require(try Yams.load(yaml: text) as? [[String: Any]])
  }

  /// Shell and program tasks take part in their host's session as in exec: the state is
  /// set up before and written after a shell step, only set up before a program step, left
  /// alone by an isolated one; the run names its sessions first and removes them last.
  @Test func shellTasksCarryTheSessionAndIsolatedOnesDoNot() throws {
    let export = try export(
      """
      ```sh {role=web name=a env="MODE=x"}
      cd /srv
      ```

      ```python {role=web name=p}
      print(1)
      ```

      ```sh {role=web name=i isolated}
      pwd
      ```

      ```sh {role=db name=b user=postgres}
      pwd
      ```
      """)
    let plays = try allPlays(export)
    #expect(plays.first?["hosts"] as? String == "localhost")
    #expect(plays.last?["hosts"] as? String == "all")
    let tasks = plays.flatMap { ($0["tasks"] as? [[String: Any]]) ?? [] }
    func task(_ name: String) -> [String: Any]? {
      tasks.first { ($0["name"] as? String)?.hasPrefix("\(name) (r.md:") == true }
    }
    func cmd(_ name: String) -> String {
      ((task(name)?["ansible.builtin.shell"] as? [String: Any])?["cmd"] as? String) ?? ""
    }
    func session(_ name: String) -> Bool {
      (task(name)?["environment"] as? [String: Any])?["RUNBOOK_SESSION"] != nil
    }
    #expect(cmd("a").hasPrefix("eval \"$RUNBOOK_SESSION\"\nrunbook_session_restore\n"))
    #expect(cmd("a").hasSuffix("runbook_session_unkeep MODE 'x'\nrunbook_session_save\n"))
    #expect(cmd("p").contains("runbook_session_restore") && !cmd("p").contains("_save"))
    #expect(session("a") && session("p") && session("b") && !session("i"))
    #expect(!cmd("i").contains("runbook_session"))
    // The cleanup removes each user's state where that user has a session.
    let cleanup = try #require(plays.last?["tasks"] as? [[String: Any]])
    #expect(cleanup.count == 2)
    #expect(cleanup.contains { $0["become_user"] as? String == "postgres" })
    let variables = try #require(
      export.files.first { $0.path == "group_vars/all/runbook_session.yml" }?.text)
    #expect(variables.contains("runbook_session: !unsafe |\n"))
    let loaded = try #require(
      try Yams.load(yaml: variables.replacingOccurrences(of: "!unsafe ", with: ""))
        as? [String: String])
    #expect(loaded["runbook_session"] == PlaybookBuilder.sessionLibrary)
  }

  /// The exported tasks of a Runme document, run one after the other by a local shell as
  /// Ansible's shell module would: only what a cell exports reaches the next, as under exec.
  @Test(arguments: ["/bin/sh", "/bin/bash"])
  func runmeCellsCarryOnlyTheirExportsThroughTheExport(shell: String) throws {
    let export = try export(
      """
      ---
      runme:
        version: v3
      shell: \(shell == "/bin/sh" ? "sh" : "bash")
      ---
      ```sh {"name":"first"}
      cd /; export SHARED=1; LOCAL=2
      ```

      ```sh {"name":"second"}
      echo "pwd=$PWD shared=${SHARED:-} local=${LOCAL:-}"; export SHARED=3 LATER=4; LOCAL=5
      ```

      ```sh {"name":"third"}
      echo "shared=${SHARED:-} later=${LATER:-} local=${LOCAL:-}"
      ```
      """, defaultRole: "web")
    let tasks = try allPlays(export).flatMap { ($0["tasks"] as? [[String: Any]]) ?? [] }
    let commands = ["first", "second", "third"].compactMap { name in
      let task = tasks.first { ($0["name"] as? String)?.hasPrefix("\(name) (r.md:") == true }
      return (task?["ansible.builtin.shell"] as? [String: Any])?["cmd"] as? String
    }
    #expect(commands.count == 3)
    let home = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-runme-export-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: home) }
    var printed: [String] = []
    for command in commands {
      let process = Process()
      process.executableURL = URL(fileURLWithPath: shell)
      process.arguments = ["-c", command]
      process.currentDirectoryURL = home
      process.environment = [
        "HOME": home.path, "PATH": "/usr/bin:/bin",
        "RUNBOOK_SESSION": PlaybookBuilder.sessionLibrary,
        "RUNBOOK_SESSION_ID": "runme-test-local",
      ]
      let output = Pipe()
      process.standardOutput = output
      process.standardError = output
      try process.run()
      let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      process.waitUntilExit()
      #expect(process.terminationStatus == 0, "\(text)")
      printed.append(text)
    }
    // The first cell's cd did not carry (each cell starts in the document's directory).
    #expect(printed[1].hasPrefix("pwd=") && !printed[1].hasPrefix("pwd=/ "), "\(printed)")
    #expect(printed[1].hasSuffix(" shared=1 local=\n"), "\(printed)")
    #expect(printed[2] == "shared=3 later=4 local=\n", "\(printed)")
  }

  @Test func playsFollowTheDocumentAndTheRolesOfEachStep() throws {
    let export = try export()
    #expect(export.diagnostics.isEmpty, "\(export.diagnostics)")
    let plays = try playbook(export)
    #expect(plays.map { $0["hosts"] as? String } == ["db", "web", "web:db"])
    #expect(plays.allSatisfy { $0["gather_facts"] as? Bool == false })
    #expect(plays.last?["serial"] as? Int == 1)
    let paths = Set(export.files.map(\.path))
    #expect(
      paths.isSuperset(of: [
        "playbook.yml", "inventory.yml", "ansible.cfg", "library/runbook_file.py",
        "filter_plugins/runbook.py", "group_vars/all/runbook_secrets.yml",
      ]))
  }

  @Test func whatOnlyTheRunKnowsIsJinjaAndTheRestIsLiteral() throws {
    let plays = try playbook(try export())
    let web = try #require(plays[1]["tasks"] as? [[String: Any]])
    // Per-host values differ: one task per rendering, each for its host.
    let use = web.filter {
      ($0["name"] as? String).map { $0.hasPrefix("use (r.md:") && $0.hasSuffix(")") } == true
    }
    #expect(use.count == 2)
    let cmd = try #require(
      (use.first?["ansible.builtin.shell"] as? [String: Any])?["cmd"] as? String)
    #expect(
      cmd.contains("{{ (tok if tok is defined else hostvars['localhost']['runbook_latest_tok']) }}")
    )
    #expect(cmd.contains("{{ '{%' }} not jinja %} {{ '{#' }} nor this #}"))
    #expect(cmd.contains("8080") && !cmd.contains("8081"))
    #expect(cmd.contains("{{ db_password | runbook_quote }}"))
    #expect(use.first?["no_log"] as? Bool == true)
    #expect(use.first?["timeout"] as? Int == 2)
    #expect(use.first?["retries"] as? Int == 2 && use.first?["delay"] as? Int == 1)
    #expect(use.first?["tags"] as? [String] == ["t1", "t2"])
    #expect((use.first?["when"] as? [String])?.contains("runbook_use_unless.rc != 0") == true)
    let cfg = web.first { ($0["name"] as? String)?.hasPrefix("cfg (r.md:") == true }
    let args = try #require(cfg?["runbook_file"] as? [String: Any])
    #expect(args["edit"] as? String == "ini" && args["section"] as? String == "main")
    #expect(args["content"] as? String == "listen = 192.0.2.11:8080\n")
  }

  @Test func noSecretValueReachesAnyFile() throws {
    let export = try export()
    let secrets = try #require(
      export.files.first { $0.path == "group_vars/all/runbook_secrets.yml" }?.text)
    #expect(secrets.contains("lookup('ansible.builtin.env', 'RUNBOOK_SECRET_DB_PASSWORD')"))
    // An inventory that sets the secret: the project's inventory is written from the plan
    // and never carries it.
    let withValue = Self.inventory + "\n[all:vars]\ndb_password=s3cr3t-in-inventory\n"
    let (book, _) = Runbook.parse(Self.runbook, file: "r.md")
    let (plan, _) = Planner.plan(
      book, inventory: try InventoryParser.parse(withValue, file: "hosts"), options: PlanOptions())
    let exported = AnsibleExport.make(
      plan: plan, runbookFile: "r.md", runbookText: Self.runbook,
      inventory: (name: "hosts", text: withValue))
    #expect(!exported.diagnostics.hasErrors, "\(exported.diagnostics)")
    #expect(exported.files.contains { $0.path == "inventory.yml" })
    for file in exported.files {
      #expect(!file.text.contains("s3cr3t-in-inventory"), "\(file.path)")
    }
  }

  /// Literal text never opens a Jinja tag, also where an expression follows it.
  @Test func literalTextIsEscapedForJinja() {
    #expect(
      PlaybookBuilder.jinjaLiteral("a {{ b }} {% c %} {# d #}")
        == "a {{ '{{' }} b }} {{ '{%' }} c %} {{ '{#' }} d #}")
    #expect(PlaybookBuilder.jinjaLiteral("json {") == "json {{ '{' }}")
    #expect(PlaybookBuilder.jinjaLiteral("{ a }") == "{ a }")
  }

  @Test func sqlStepsThatShareAClientUnderExecShareItInThePlaybook() throws {
    let export = try export(SessionNoteTests.twoStepsOfOneClient)
    #expect(export.diagnostics.isEmpty, "\(export.diagnostics)")
    let tasks = try allPlays(export).flatMap { ($0["tasks"] as? [[String: Any]]) ?? [] }
    func cmd(_ name: String) -> String {
      let task = tasks.first { ($0["name"] as? String)?.hasPrefix("\(name) (r.md:") == true }
      return ((task?["ansible.builtin.shell"] as? [String: Any])?["cmd"] as? String) ?? ""
    }
    // Both name the client the first opened (after the run's session on the host); the
    // second knows it should find it open; each stops at an error, as under exec.
    let directory = SQLClientSession(exportedFrom: "open", command: "", continues: false)
      .assignment
    #expect(cmd("open").contains(directory) && cmd("again").contains(directory))
    #expect(cmd("open").contains("runbook_client_continues=0\nrunbook_client_idle=30\n"))
    #expect(cmd("again").contains("runbook_client_continues=1\n"))
    #expect(cmd("again").contains("set -- psql -v ON_ERROR_STOP=1 -d app\n"))
    // The last play ends the clients with the sessions.
    let cleanup = try #require(try allPlays(export).last?["tasks"] as? [[String: Any]])
    let end = (cleanup.first?["ansible.builtin.shell"] as? [String: Any])?["cmd"] as? String
    #expect(end?.contains("runbook_client_end") == true)
  }

  @Test func aConsoleStepRunsItsCommandsAndChecksTheTranscript() throws {
    let export = try export(
      """
      ```console {role=web name=c}
      $ echo {{ port }}
      8080 (re)
      ```
      """)
    #expect(export.diagnostics.isEmpty)
    let tasks = try #require(try playbook(export).first?["tasks"] as? [[String: Any]])
    let check = try #require(
      tasks.first { ($0["name"] as? String)?.hasSuffix("transcript") == true })
    let transcript = (check["vars"] as? [String: Any])?["runbook_transcript"] as? [[String: Any]]
    #expect(transcript?.first?["command"] as? String == "echo 8080")
    #expect(transcript?.first?["expected"] as? [String] == ["8080 (re)"])
  }

  /// The filter plugin's transcript check agrees with `ConsoleTranscript.matches`.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
  func theTranscriptCheckIsRunbooks() throws {
    let cases: [(actual: [String], expected: [String])] = [
      (["a", "b"], ["a", "b"]), (["a", "b"], ["a"]), (["x1", "y", "z"], ["x[0-9] (re)", "..."]),
      (["hello world"], ["hel*d (glob)"]), (["a.c"], ["a?c (glob)"]), (["abc"], ["a.c (glob)"]),
      ([], ["..."]), (["a", "b", "c"], ["...", "c"]), (["1.2"], ["[0-9]+ (re)"]),
    ]
    let results = try Self.filter("lines_match", on: cases.map { [$0.actual, $0.expected] })
    #expect(results as? [Bool] == cases.map { ConsoleTranscript.matches($0.actual, $0.expected) })
  }

  /// `expect=` patterns find in the filter what they find in `exec` (ICU allows flags
  /// inside a pattern, Python only at its start).
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
  func expectPatternsFindWhatExecFinds() throws {
    let cases: [(text: String, pattern: String)] = [
      ("public\ninternal\nadmin", "(?s)public.*internal.*admin|(?s)admin.*internal.*public"),
      ("admin\ninternal\npublic", "(?s)public.*internal.*admin|(?s)admin.*internal.*public"),
      ("a\nb", "a.b"), ("Active: active (running)", "active \\(running\\)"),
      ("\"id\": \"v3.8\"", "\"id\": \"v3"), ("x", "^y$"),
    ]
    let found = try Self.filter("runbook_search", on: cases.map { [$0.text, $0.pattern] })
    #expect(
      found as? [Bool]
        == cases.map { $0.text.range(of: $0.pattern, options: .regularExpression) != nil })
  }

  /// The journal callback masks what it writes as `SecretMasker` does (each secret and its
  /// encoded forms, longest first), and names logs as `RunLayout` does, so that a host name
  /// from the inventory never leaves the run directory.
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
  func theCallbacksMaskAndLogNamesAreExecs() throws {
    let cases: [(text: String, values: [String])] = [
      ("pw=s3cr'et and 's3cr'\\''et' and s3cr%27et", ["s3cr'et"]),
      ("ab abc abcd", ["abc", "abcd"]), ("nothing here", ["x y"]), ("empty", [""]),
      ("a\\b 'a\\\\b'", ["a\\b"]),
      ("-BEGIN KEY-\r\n+MIIEpAIBAAKCAQEA\n x\n", ["-----BEGIN KEY-----\r\nMIIEpAIBAAKCAQEA\nx\n"]),
    ]
    let masked = try Self.filter("runbook_mask", on: cases.map { [$0.text, $0.values] })
    #expect(masked as? [String] == cases.map { SecretMasker(values: $0.values).mask($0.text) })
    let names = ["web1", "../../etc/x", ".hidden", "a/b", "a_b", "h\u{e9}te", "ok-1.example_2"]
    let safe = try Self.filter("runbook_file_name", on: names.map { [$0] })
    #expect(safe as? [String] == names.map(RunLayout.fileName))
    #expect((safe as? [String])?.contains { $0.contains("/") } == false)
  }

  /// The filter plugin's function `name` applied to each case's arguments, by python3.
  static func filter(_ name: String, on cases: [[Any]]) throws -> Any {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-filter-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    try AnsibleExport.filterPlugin.write(
      to: dir.appendingPathComponent("runbook_filters.py"), atomically: true, encoding: .utf8)
    try JSONSerialization.data(withJSONObject: cases).write(
      to: dir.appendingPathComponent("cases.json"))
    return try python(
      "import json, runbook_filters as f; print(json.dumps([f.\(name)(*c) for c in json.load(open('cases.json'))]))",
      in: dir)
  }

  static func python(_ code: String, in dir: URL) throws -> Any {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
    process.currentDirectoryURL = dir
    process.arguments = ["-c", code]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return try JSONSerialization.jsonObject(with: data)
  }

  /// The module's ini merge and append block give what `FileEdit` gives, on the same
  /// inputs (Ansible's module API is a stand-in here: only the edit functions run): a few
  /// cases, the rules of `FileEditTests` and every step of the merges in Fixtures/ini/merges
  /// (each on the file as the steps before it left it).
  @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/python3")))
  func theModulesFileEditsAreRunbooks() throws {
    var cases: [(block: String, original: String, section: String?)] = [
      ("port = 1\nnew = 2\n", "[main]\n# port = 0\nport = 0\n\n[other]\nx = 1\n", "main"),
      ("[a]\nk = v\n  more\n[b]\nz = 9", "top = 1\n[a]\nk = old\n  cont\nj = 2", nil),
      ("key: value\n", "", "s"),
      ("x = 1\n", "[s]\nx = 0\n[s2]\n", nil),
      ("k = 'v\n", "k = 'a' # b\nj = 1 # c\n", nil),
      ("k = x # y\n", "k = 'open # b\nj = 1 # c\nl = 2 # d\n", nil),
    ]
    cases += FileEditTests.rules.map { ($0.block, $0.original, $0.section) }
    for name in FileEditTests.fixtureMerges {
      let merge = try FileEditTests.fixtureMerge(name)
      var text = merge.original
      for step in merge.steps {
        cases.append((step.block, text, step.section))
        text = FileEdit.mergeINI(step.block, into: text, section: step.section)
      }
    }
    #expect(FileEditTests.fixtureMerges.count >= 5)
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-module-\(UUID().uuidString.prefix(8))")
    defer { try? FileManager.default.removeItem(at: dir) }
    let stub = dir.appendingPathComponent("ansible/module_utils")
    try FileManager.default.createDirectory(at: stub, withIntermediateDirectories: true)
    for path in ["ansible/__init__.py", "ansible/module_utils/__init__.py"] {
      try "".write(to: dir.appendingPathComponent(path), atomically: true, encoding: .utf8)
    }
    try "AnsibleModule = None\n".write(
      to: stub.appendingPathComponent("basic.py"), atomically: true, encoding: .utf8)
    try AnsibleExport.fileModule.write(
      to: dir.appendingPathComponent("runbook_file.py"), atomically: true, encoding: .utf8)
    let input = try JSONSerialization.data(
      withJSONObject: cases.map { [$0.block, $0.original, $0.section ?? NSNull()] as [Any] })
    try input.write(to: dir.appendingPathComponent("cases.json"))
    let results = try #require(
      try Self.python(
        "import json, runbook_file as m; c = json.load(open('cases.json')); print(json.dumps([[m.merge_ini(b, o, s), m.append_block(b, o, 'step-1')] for b, o, s in c]))",
        in: dir) as? [[String]])
    #expect(results.count == cases.count)
    for (c, result) in zip(cases, results) {
      #expect(result[0] == FileEdit.mergeINI(c.block, into: c.original, section: c.section))
      #expect(result[1] == FileEdit.appendBlock(c.block, to: c.original, id: "step-1"))
    }
    // `owner=` as chown takes it (the ids of root and Debian's nobody:nogroup).
    let owners = try #require(
      try Self.python(
        "import json, runbook_file as m; print(json.dumps([m.owner_ids(o) for o in ['', 'root', 'root:nogroup', ':nogroup', 'nobody:', '0:65534']]))",
        in: dir) as? [[Int]])
    #expect(
      owners == [[-1, -1], [0, -1], [0, 65534], [-1, 65534], [65534, 65534], [0, 65534]])
  }
}
