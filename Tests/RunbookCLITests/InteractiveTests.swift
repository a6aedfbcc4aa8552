import Foundation
import RunbookTestSupport
import Testing

/// `exec --interactive`, driven by piped answers and through a real pseudo-terminal.
@Suite(.serialized) struct InteractiveTests {
  static let runbook = """
    # Interactive

    ```sh {role=web name=one}
    echo one > {{ dir }}/one-{{ host.name }}
    ```

    ```sh {role=web name=two}
    echo two > {{ dir }}/two
    ```

    ```sh {role=web name=three}
    echo three > {{ dir }}/three-{{ host.name }}
    ```

    ```sh {role=web name=flaky}
    echo run >> {{ dir }}/flaky-{{ host.name }}
    [ "{{ host.name }}" = b ] || [ -e {{ dir }}/flag ] || { touch {{ dir }}/flag; echo "not ready" >&2; exit 1; }
    ```

    ```manual {name=look}
    Open the dashboard and log in.
    ```
    """

  struct Workspace {
    let dir: URL
    init() throws {
      dir = FileManager.default.temporaryDirectory.appendingPathComponent(
        "runbook-ia-\(UUID().uuidString.prefix(8))")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      try InteractiveTests.runbook.write(
        to: dir.appendingPathComponent("r.md"), atomically: true, encoding: .utf8)
      // Two hosts, both on this machine through the local connection.
      try "[web]\na ansible_connection=local\nb ansible_connection=local\n".write(
        to: dir.appendingPathComponent("hosts"), atomically: true, encoding: .utf8)
      try "#!/bin/sh\nsed -i 's/echo three/echo edited-three/' \"$1\"\n".write(
        to: dir.appendingPathComponent("editor.sh"), atomically: true, encoding: .utf8)
      chmod(dir.appendingPathComponent("editor.sh").path, 0o755)
    }
    func read(_ name: String) -> String? {
      try? String(contentsOf: dir.appendingPathComponent(name), encoding: .utf8)
    }
    var steps: [[String: Any]] {
      (read("run/journal.jsonl") ?? "").split(separator: "\n").compactMap {
        try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
      }.filter { $0["type"] as? String == "step" }
    }
    /// The runbook run interactively on both hosts, `answers` piped, `editor.sh` the editor.
    func exec(answers: String) throws -> CLI.Result {
      try CLI.run(
        [
          "exec", "r.md", "-i", "hosts", "--var", "dir=\(dir.path)", "--interactive",
          "--report-dir", "run",
        ],
        in: dir, input: answers,
        environment: ["EDITOR": dir.appendingPathComponent("editor.sh").path])
    }
    func statuses(_ step: String) -> [String] {
      steps.filter { $0["step"] as? String == step }.map {
        "\($0["host"] ?? "")=\($0["status"] ?? "")"
      }
    }
  }

  /// Starts `command` on a new pseudo-terminal (util-linux `script`), which forwards what
  /// the test writes to `input` as keys; `screen` collects what the terminal shows.
  static func onATerminal(
    _ command: String, in dir: URL, environment: [String: String] = [:]
  ) throws -> (process: Process, input: Pipe, screen: PipeReader) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/script")
    process.arguments = ["-qfec", command, "/dev/null"]
    process.currentDirectoryURL = dir
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = output
    let screen = PipeReader(output.fileHandleForReading)
    try process.run()
    return (process, input, screen)
  }

  /// An edit is reviewed: "n" goes back to the question and nothing edited runs; after a
  /// failure, "e" edits and retries on the hosts that failed, with the edit recorded.
  @Test func anEditIsShownBeforeItRunsAndAFailureCanBeEditedAndRetried() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try "#!/bin/sh\nsed -i 's/echo three/echo edited-three/; s/exit 1; }/exit 0; }/' \"$1\"\n"
      .write(to: ws.dir.appendingPathComponent("editor.sh"), atomically: true, encoding: .utf8)
    chmod(ws.dir.appendingPathComponent("editor.sh").path, 0o755)
    let result = try ws.exec(answers: "y\ny\ne\nn\ny\ny\ne\ny\ny\n\n")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    // Declined: the runbook's own script ran.
    #expect(ws.read("three-a") == "three\n")
    #expect(result.stdout.contains("  + echo edited-three > "))
    #expect(result.stdout.contains("[r]etry [e]dit and retry [s]kip [o]pen shell [q]uit"))
    // The failed host ran again with the edit; the other host did not run again.
    #expect(ws.statuses("flaky") == ["a=failed", "b=ok", "a=ok"])
    #expect(ws.read("flaky-b") == "run\n")
    let retried = ws.steps.last { $0["step"] as? String == "flaky" }
    #expect(
      (retried?["deviation"] as? String)?.contains("exit 0; }") == true,
      "\(String(describing: retried))")
  }

  /// A step the operator skipped is asked about again when the run is resumed
  /// interactively; the report keeps the earlier skip in the step's history.
  @Test func aSkippedStepIsAskedAgainOnResume() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let first = try ws.exec(answers: "y\nn\nq\n")
    #expect(first.status == 4, "\(first.stdout)")
    #expect(ws.statuses("two") == ["a=skipped", "b=skipped"])
    let resumed = try CLI.run(
      [
        "exec", "r.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--interactive",
        "--resume", "run",
      ], in: ws.dir, input: "y\nq\n")
    #expect(resumed.status == 4)
    // Step one, done, is not asked about; step two, skipped, is, and runs.
    #expect(!resumed.stdout.contains("──── [1/5] one"), "\(resumed.stdout)")
    #expect(resumed.stdout.contains("──── [2/5] two"), "\(resumed.stdout)")
    #expect(ws.statuses("two") == ["a=skipped", "b=skipped", "a=ok", "b=ok"])
    let report = ws.read("run/report.md") ?? ""
    #expect(report.contains("attempt 1: skipped on a [skipped by the operator]"), "\(report)")
  }

  @Test func pipedAnswersRunSkipEditRetryAndConfirm() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let result = try ws.exec(answers: "y\nn\ne\ny\ny\nr\ny\nlooked fine\n")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("Run this step? [y]es [n]o [e]dit [a]ll [q]uit [?]"))
    // The edit is shown before it runs, and runs when the operator says so.
    #expect(result.stdout.contains("The edit (− the runbook, + what would run):"))
    #expect(result.stdout.contains("Run the edited script? [y]es [n]o [e]dit again [?]"))
    #expect(ws.statuses("one") == ["a=ok", "b=ok"])
    #expect(ws.statuses("two") == ["a=skipped", "b=skipped"])
    #expect(ws.read("two") == nil)
    #expect(ws.read("three-a") == "edited-three\n")
    let three = ws.steps.first { $0["step"] as? String == "three" }
    #expect((three?["deviation"] as? String)?.contains("+ echo edited-three > ") == true)
    // Only the host that failed ran again.
    #expect(ws.statuses("flaky") == ["a=failed", "b=ok", "a=ok"])
    #expect(ws.read("flaky-a") == "run\nrun\n")
    #expect(ws.read("flaky-b") == "run\n")
    let look = ws.steps.first { $0["step"] as? String == "look" }
    #expect(look?["status"] as? String == "ok")
    #expect(look?["note"] as? String == "looked fine")
    let report = ws.read("run/report.md") ?? ""
    #expect(report.contains("**Deviation on `a`: the operator edited the script before it ran**"))
    #expect(
      report.contains("✋ **Manual step: the operator confirmed it done** — note: looked fine"))
    #expect(
      report.contains(
        "· **with 2 edits, 2 operator skips, 1 manual confirmation, 1 interactive retry**"))
    // Each answer is echoed after its question, so the log shows what was chosen.
    #expect(result.stdout.contains("Run this step? [y]es [n]o [e]dit [a]ll [q]uit [?] n\n"))
  }

  /// An answer that is not one at a manual step is asked again (it declined the step);
  /// `?` explains the answers; a step left not done gives the run its own status, `pending`,
  /// never `passed`, in the journal and the reports.
  @Test func aManualStepIsAskedUntilAnsweredAndPendingIsNotAPass() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let result = try CLI.run(
      [
        "exec", "r.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--interactive",
        "--report-dir", "run", "--from", "look",
      ],
      in: ws.dir, input: "maybe\n?\nn\n")
    #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
    #expect(result.stdout.contains("'maybe' is not an answer"))
    #expect(result.stdout.contains("n  not done: recorded as pending"))
    #expect(ws.statuses("look") == ["operator=pending"])
    let end = (ws.read("run/journal.jsonl") ?? "").split(separator: "\n").first {
      $0.contains("\"type\":\"end\"")
    }
    #expect(end?.contains("\"status\":\"pending\"") == true, "\(end ?? "")")
    #expect(result.stdout.contains("run pending"))
    #expect(ws.read("run/report.html")?.contains("class=\"run pending\"") == true)
  }

  @Test func quitEndsTheRunCleanlyAndResumable() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let result = try CLI.run(
      [
        "exec", "r.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--interactive",
        "--report-dir", "run",
      ],
      in: ws.dir, input: "y\nq\n")
    #expect(result.status == 4, "quit is the operator's own status, not an interrupt's")
    #expect(result.stdout.contains("to continue: runbook exec"), "\(result.stdout)")
    #expect(ws.statuses("one") == ["a=ok", "b=ok"])
    #expect(ws.statuses("two").isEmpty)
    #expect(
      FileManager.default.fileExists(atPath: ws.dir.appendingPathComponent("run/report.html").path))
    let resumed = try CLI.run(
      [
        "exec", "r.md", "-i", "hosts", "--var", "dir=\(ws.dir.path)", "--resume", "run", "--to",
        "three",
      ], in: ws.dir)
    #expect(resumed.status == 0)
    #expect(ws.statuses("one") == ["a=ok", "b=ok", "a=skipped", "b=skipped"])
    #expect(ws.read("three-b") == "three\n")
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "needs script(1) for a pseudo-terminal: Scripts/setup installs bsdutils"))
  func keysOnAPseudoTerminalAndTheModeIsRestored() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    // util-linux `script` runs the command on a new pseudo-terminal and forwards our keys
    // to it; `stty` afterwards, on the same terminal, shows the mode runbook left.
    let command =
      "stty -a | grep -o ' -*icanon' > \(ws.dir.path)/before; "
      + "\(CLI.binary.path) exec r.md -i hosts --var dir=\(ws.dir.path) --interactive --report-dir run --to three; "
      + "echo \"exit=$?\" > \(ws.dir.path)/status; stty -a | grep -o ' -*icanon' > \(ws.dir.path)/after"
    let (process, input, screen) = try Self.onATerminal(command, in: ws.dir)
    // Single keys, no newline, each once its question is on the screen: raw mode must take
    // them one at a time.
    for (asked, key) in ["y", "n", "a"].enumerated() {
      #expect(
        eventually { screen.text.components(separatedBy: "Run this step?").count > asked + 1 })
      input.fileHandleForWriting.write(Data(key.utf8))
    }
    process.waitUntilExit()
    let text = screen.finish()
    try? input.fileHandleForWriting.close()
    #expect(ws.read("status") == "exit=0\n", "\(text)")
    #expect(text.contains("Run this step? [y]es [n]o [e]dit [a]ll [q]uit [?]"))
    // Each key is echoed as the word it chose, so the scrollback shows the decision.
    for word in ["yes", "no", "all"] {
      #expect(text.contains("[a]ll [q]uit [?] \(word)\r\n"), "\(word) echoed: \(text)")
    }
    #expect(ws.statuses("one") == ["a=ok", "b=ok"])
    #expect(ws.statuses("two") == ["a=skipped", "b=skipped"])
    #expect(ws.statuses("three") == ["a=ok", "b=ok"], "'a' ran the remaining steps without asking")
    #expect(text.components(separatedBy: "Run this step?").count - 1 == 3)
    #expect(ws.read("before") == " icanon\n")
    #expect(ws.read("after") == " icanon\n", "the terminal is back in canonical mode")
  }

  /// On a terminal, a key that is not an answer at a manual step is asked again.
  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "needs script(1) for a pseudo-terminal: Scripts/setup installs bsdutils"))
  func aManualStepAsksAgainOnATerminal() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let command =
      "\(CLI.binary.path) exec r.md -i hosts --var dir=\(ws.dir.path) --interactive --report-dir run; "
      + "echo \"exit=$?\" > \(ws.dir.path)/status"
    let (process, input, screen) = try Self.onATerminal(command, in: ws.dir)
    // All steps without asking; the flaky one fails on a and is left; then the manual step.
    let keys: [(String, Int, String)] = [
      ("Run this step?", 1, "a"), ("[o]pen shell", 1, "s"), ("Done? [y]es", 1, "x"),
      ("Done? [y]es", 2, "y"), ("Note for the report", 1, "looked\r"),
    ]
    for (question, count, key) in keys {
      #expect(eventually { screen.text.components(separatedBy: question).count > count })
      input.fileHandleForWriting.write(Data(key.utf8))
    }
    process.waitUntilExit()
    let text = screen.finish()
    try? input.fileHandleForWriting.close()
    #expect(ws.read("status") == "exit=1\n", "the failure left is the run's: \(text)")
    #expect(text.components(separatedBy: "This is a manual step. Done?").count - 1 == 2, "\(text)")
    let look = ws.steps.first { $0["step"] as? String == "look" }
    #expect(look?["status"] as? String == "ok")
    #expect(look?["note"] as? String == "looked")
  }

  /// On a terminal: an edit is shown and confirmed with single keys, and `q` ends the run
  /// as stopped (exit status 4), the terminal back in its mode.
  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "needs script(1) for a pseudo-terminal: Scripts/setup installs bsdutils"))
  func anEditIsReviewedAndQuitStopsOnATerminal() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let command =
      "\(CLI.binary.path) exec r.md -i hosts --var dir=\(ws.dir.path) --interactive --report-dir run; "
      + "echo \"exit=$?\" > \(ws.dir.path)/status; stty -a | grep -o ' -*icanon' > \(ws.dir.path)/after"
    let (process, input, screen) = try Self.onATerminal(
      command, in: ws.dir,
      environment: ["EDITOR": ws.dir.appendingPathComponent("editor.sh").path])
    // one: y; two: n; three: e, then y to the edit's question; flaky: q.
    let keys: [(String, String)] = [
      ("Run this step?", "y"), ("Run this step?", "n"), ("Run this step?", "e"),
      ("Run the edited script?", "y"), ("Run this step?", "q"),
    ]
    var seen: [String: Int] = [:]
    for (question, key) in keys {
      seen[question, default: 0] += 1
      let count = seen[question]!
      #expect(eventually { screen.text.components(separatedBy: question).count > count })
      input.fileHandleForWriting.write(Data(key.utf8))
    }
    process.waitUntilExit()
    let text = screen.finish()
    try? input.fileHandleForWriting.close()
    #expect(ws.read("status") == "exit=4\n", "\(text)")
    #expect(text.contains("The edit (− the runbook, + what would run):"), "\(text)")
    #expect(text.contains("+ echo edited-three > "), "\(text)")
    #expect(text.contains("Run the edited script? [y]es [n]o [e]dit again [?] yes\r\n"))
    #expect(ws.read("three-a") == "edited-three\n")
    #expect(ws.statuses("flaky").isEmpty)
    #expect(text.contains("run stopped"), "\(text)")
    #expect(text.contains("to continue: runbook exec r.md"), "\(text)")
    #expect(ws.read("after") == " icanon\n", "the terminal is back in canonical mode")
  }

  @Test(
    .enabled(
      if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script"),
      "needs script(1) for a pseudo-terminal: Scripts/setup installs bsdutils"))
  func theShellAfterAFailureOpensInTheSessionTheStepsLeft() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    try """
    ```bash {role=local name=setup}
    mkdir -p {{ dir }}/app && cd {{ dir }}/app
    export PORT=3000
    GREETING=hello
    greet() { echo "$GREETING from $(basename "$PWD") on $PORT"; }
    ```

    ```sh {role=local name=fails}
    [ -e {{ dir }}/ready ] || { echo "not yet" >&2; exit 1; }
    echo ready now
    ```
    """.write(to: ws.dir.appendingPathComponent("s.md"), atomically: true, encoding: .utf8)
    let command =
      "\(CLI.binary.path) exec s.md --var dir=\(ws.dir.path) --interactive --report-dir run; "
      + "echo \"exit=$?\" > \(ws.dir.path)/status"
    // A bash that reads no rc file of the machine's: the session's lines are all it has.
    let (process, input, screen) = try Self.onATerminal(
      command, in: ws.dir, environment: ["HOME": ws.dir.path, "PS1": "$ "])
    for (asked, key) in ["y", "y"].enumerated() {
      #expect(
        eventually { screen.text.components(separatedBy: "Run this step?").count > asked + 1 })
      input.fileHandleForWriting.write(Data(key.utf8))
    }
    #expect(eventually { screen.text.contains("[o]pen shell") })
    input.fileHandleForWriting.write(Data("o".utf8))
    #expect(eventually { screen.text.contains("this shell is in the session the steps left") })
    // Keys that are answers at the prompt (s, y) go to the shell while it runs: it runs
    // them as commands, and nothing is skipped or run by them.
    input.fileHandleForWriting.write(
      Data(
        "s\ny\necho \"[$(basename \"$PWD\")] [$PORT]\"; greet; touch \(ws.dir.path)/ready; exit\n"
          .utf8))
    #expect(eventually { screen.text.components(separatedBy: "[o]pen shell").count > 2 })
    input.fileHandleForWriting.write(Data("r".utf8))
    process.waitUntilExit()
    let text = screen.finish()
    try? input.fileHandleForWriting.close()
    #expect(text.contains("[app] [3000]"), "\(text)")
    #expect(text.contains("hello from app on 3000"), "\(text)")
    #expect(
      text.contains("s: command not found") && text.contains("y: command not found"), "\(text)")
    // The retry passed, and the run with it.
    #expect(ws.read("status") == "exit=0\n", "\(text)")
    #expect(text.contains("ready now"), "\(text)")
    // The rc file that carried the session is gone.
    let left = try FileManager.default.contentsOfDirectory(
      atPath: FileManager.default.temporaryDirectory.path
    ).filter { $0.hasPrefix("runbook-shell-") }
    #expect(left.isEmpty, "\(left)")
  }
}
