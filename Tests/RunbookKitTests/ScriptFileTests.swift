import Foundation
import Testing

@testable import RunbookKit

/// The programs kept as files in `Sources/RunbookKit/Scripts`: each is checked by its own
/// tools, and the text compiled into the binary is the file's.
@Suite struct ScriptFileTests {
  /// The folder of the scripts, found from this file's place in the package.
  static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent()
    .appending(path: "Sources/RunbookKit/Scripts")

  /// Each file with the text the binary holds for it: a file added without an entry here
  /// fails `everyFileIsEmbedded`.
  static let embedded: [String: String] = [
    "session-loop.sh": EmbeddedScripts.sessionLoop,
    "session-runner.sh": EmbeddedScripts.sessionRunner,
    "session-launcher.sh": EmbeddedScripts.sessionLauncher,
    "stop-step.sh": EmbeddedScripts.stopStep,
    "escalation-check.sh": EmbeddedScripts.escalationCheck,
    "export-session.sh": EmbeddedScripts.exportSession,
    "sql-client.sh": EmbeddedScripts.sqlClient,
    "runbook_file.py": EmbeddedScripts.runbookFile,
    "runbook_filters.py": EmbeddedScripts.runbookFilters,
    "runbook_journal.py": EmbeddedScripts.runbookJournal,
    "python_session.py": EmbeddedScripts.pythonSession,
  ]

  static func files(ending suffix: String) throws -> [URL] {
    try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(suffix) }
      .sorted().map { folder.appending(path: $0) }
  }

  /// The exit status and output of `command` run with `arguments`.
  static func run(_ command: String, _ arguments: [String]) throws -> (Int32, String) {
    let process = Process()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = [command] + arguments
    process.standardOutput = output
    process.standardError = output
    try process.run()
    let text = output.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: text, as: UTF8.self))
  }

  /// Whether `command` is on PATH.
  static func installed(_ command: String) -> Bool {
    (try? run("sh", ["-c", "command -v \(command)"]).0) == 0
  }

  @Test func everyFileIsEmbeddedAsItIs() throws {
    let names = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path)
      .filter { !$0.hasPrefix(".") }
    #expect(Set(names) == Set(Self.embedded.keys))
    for (name, text) in Self.embedded {
      let file = try String(contentsOf: Self.folder.appending(path: name), encoding: .utf8)
      #expect(file == text, "\(name) differs from its embedded text: rebuild")
    }
  }

  @Test func shellScriptsParse() throws {
    for file in try Self.files(ending: ".sh") {
      for shell in ["sh", "bash"] {
        let (status, output) = try Self.run(shell, ["-n", file.path])
        #expect(status == 0, "\(shell) -n \(file.lastPathComponent): \(output)")
      }
    }
  }

  @Test(
    .enabled(if: installed("shellcheck"), "shellcheck is not installed: the scripts are not linted")
  )
  func shellScriptsPassShellcheck() throws {
    for file in try Self.files(ending: ".sh") {
      let (status, output) = try Self.run("shellcheck", [file.path])
      #expect(status == 0, "shellcheck \(file.lastPathComponent):\n\(output)")
    }
  }

  /// The scripts travel inside single quotes over ssh (all but the exported playbook's,
  /// which travels in a task's environment, and the SQL client's, which is part of a step's
  /// script); a placeholder in a comment would put a filled value (the whole loop, in the
  /// launcher) where a line break ends the comment.
  @Test func shellScriptsHoldNoQuoteAndNoPlaceholderInAComment() throws {
    for file in try Self.files(ending: ".sh") {
      let text = try String(contentsOf: file, encoding: .utf8)
      #expect(
        ["export-session.sh", "sql-client.sh"].contains(file.lastPathComponent)
          || !text.contains("'"),
        "\(file.lastPathComponent) holds a single quote")
      for line in text.split(separator: "\n")
      where line.trimmingCharacters(in: .whitespaces).hasPrefix("#") {
        let placeholders = ScriptTemplate("", text: String(line)).placeholders
        #expect(placeholders.isEmpty, "\(file.lastPathComponent): a placeholder in \(line)")
      }
    }
  }

  @Test(.enabled(if: installed("python3"), "python3 is not installed"))
  func pythonFilesCompile() throws {
    let cache = FileManager.default.temporaryDirectory
      .appending(path: "runbook-pycache-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: cache) }
    for file in try Self.files(ending: ".py") {
      // The compiled file goes to a temporary place, not into the source tree.
      let (status, output) = try Self.run(
        "python3",
        [
          "-c",
          "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
          file.path, cache.appending(path: file.lastPathComponent + "c").path,
        ])
      #expect(status == 0, "py_compile \(file.lastPathComponent):\n\(output)")
    }
  }

  /// The generator picks more #s than any run after a quote or a backslash in a file, so
  /// no text can end the raw string early or interpolate into it; the constant is the file
  /// name in lower camel case.
  @Test func theGeneratorQuotesAnyText() throws {
    let directory = FileManager.default.temporaryDirectory
      .appending(path: "runbook-embed-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: directory) }
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let script = directory.appending(path: "tricky_file-name.py")
    try "x = \"\"\"#\n\\##(y)\n".write(to: script, atomically: true, encoding: .utf8)
    let output = directory.appending(path: "out/Embedded.swift")
    let generator = Self.folder.deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appending(path: "Scripts/embed-scripts")
    let (status, printed) = try Self.run("sh", [generator.path, output.path, script.path])
    #expect(status == 0, "\(printed)")
    let text = try String(contentsOf: output, encoding: .utf8)
    #expect(text.contains("static let trickyFileName = ###\"\"\"\n"))
    #expect(text.contains("\n\"\"\"###\n"))
  }

  @Test func everyScriptIsFilledWithoutLeftovers() {
    let scripts = [
      HostSession.launcher(stateToken: "abc"), HostSession.runner,
      HostSession.stopScript(stateToken: "abc", nonce: "n1", escalated: true),
      HostSession.escalationCheck(users: ["-", "bob"]),
    ]
    for script in scripts {
      #expect(ScriptTemplate("", text: script).placeholders.isEmpty)
    }
  }
}

@Suite struct ScriptTemplateTests {
  @Test func fillsEachPlaceholderOnceAndLeavesOtherAtSigns() throws {
    let template = ScriptTemplate("t", text: #"echo "$@" @A@ @B_2@ @A@ a@b.c @lower@"#)
    #expect(template.placeholders == ["A", "B_2"])
    // A value is not searched for placeholders in turn.
    #expect(
      try template.filled(["A": "@B_2@", "B_2": "x"])
        == #"echo "$@" @B_2@ x @B_2@ a@b.c @lower@"#)
  }

  @Test func refusesALeftoverPlaceholder() {
    let template = ScriptTemplate("t", text: "@A@ @B@ @C@")
    #expect(throws: ScriptTemplate.Mismatch.unfilled(["B", "C"])) {
      try template.filled(["A": "1"])
    }
  }

  @Test func refusesAnUnknownValue() {
    let template = ScriptTemplate("t", text: "@A@")
    #expect(throws: ScriptTemplate.Mismatch.unknown(["Z"])) {
      try template.filled(["A": "1", "Z": "2"])
    }
  }
}

@Suite struct SessionProtocolTests {
  /// Every word the loop's placeholders need is one the protocol has, and no other.
  @Test func theLoopUsesEveryProtocolWord() {
    let template = ScriptTemplate("session-loop.sh", text: EmbeddedScripts.sessionLoop)
    let local: Set = ["STATE_DIRECTORY", "RUNNER"]
    #expect(Set(template.placeholders).subtracting(local) == Set(SessionProtocol.words.keys))
  }

  @Test func theToolReadsWhatItsWordsSay() {
    #expect(SessionProtocol.readiness(["ready", "counted"]) == (true, true))
    #expect(SessionProtocol.readiness(["ready"]) == (true, false))
    #expect(SessionProtocol.readiness(["failed:", "cannot"]).ready == false)
    #expect(SessionProtocol.remoteState(["done", "3"]) == .done(3))
    #expect(SessionProtocol.remoteState(["done"]) == .done(-1))
    #expect(SessionProtocol.remoteState(["gone"]) == .gone)
    #expect(SessionProtocol.remoteState(["unknown"]) == .unknown)
    #expect(SessionProtocol.remoteState(["what"]) == nil)
    #expect(
      SessionProtocol.stepLine(
        .begin, nonce: "n1", timed: true, passwordBytes: 4,
        command: SessionProtocol.command(shell: "sh", user: nil, escalated: true, ownShell: false))
        == "RUNBOOK-BEGIN n1 RUNBOOK-TIMED RUNBOOK-PW 4 RUNBOOK-AS - sh\n")
  }

  /// The loop itself, under /bin/sh: its ready line and its answer to a query, written
  /// with the protocol's words and read back with them.
  @Test func theLoopAnswersInTheProtocolsWords() throws {
    let key = "0123456789abcdef"
    let token = "test-\(UUID().uuidString.prefix(8))"
    let process = Process()
    let input = Pipe()
    let output = Pipe()
    process.executableURL = URL(fileURLWithPath: "/bin/sh")
    process.arguments = ["-c", HostSession.server(stateToken: token)]
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    input.fileHandleForWriting.write(Data((key + "\n\n").utf8))
    var reader = SessionOutput(key: key)
    var events: [SessionOutput.Event] = []
    while events.isEmpty {
      let bytes = output.fileHandleForReading.availableData
      if bytes.isEmpty { break }
      events += reader.feed(Array(bytes))
    }
    guard case .marker(.session, let fields)? = events.first else {
      Issue.record("no ready line: \(events)")
      return
    }
    let (ready, counted) = SessionProtocol.readiness(fields)
    #expect(ready)
    // Where /bin/sh is bash, messages after the ready line are counted.
    let frame = { (text: String) in
      counted ? String(format: "%08d", text.utf8.count) + text : text
    }
    let messages = frame(SessionProtocol.queryLine(nonce: "n1")) + frame(SessionProtocol.forgetLine)
    input.fileHandleForWriting.write(Data(messages.utf8))
    events += reader.feed(Array(output.fileHandleForReading.readDataToEndOfFile()))
    process.waitUntilExit()
    #expect(events.dropFirst() == [.marker(.state, ["n1", "unknown"])])
    if case .marker(_, let fields)? = events.last {
      #expect(SessionProtocol.remoteState(fields.dropFirst()) == .unknown)
    }
    #expect(process.terminationStatus == 0)
  }
}
