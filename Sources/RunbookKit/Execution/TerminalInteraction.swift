import Foundation

/// `--interactive` on a terminal (keys read one at a time, raw mode only while waiting and
/// restored on every path) or on piped standard input (one answer per line, so a session
/// can be scripted).
public final class TerminalInteraction: Interaction, Sendable {
  /// Where answers come from.
  public enum Input: Sendable {
    /// A terminal: single keys.
    case terminal
    /// Piped lines: each line is one answer, its key or its word.
    case lines
  }

  private let input: Input
  private let runner: any CommandRunning
  private let write: @Sendable (String) -> Void
  private let editor: String
  /// What continues the run after the answers ran out (`--resume RUN_DIR`).
  private let resumeHint: String

  /// Creates the interaction; `environment` gives `VISUAL`/`EDITOR`; `runDirectory` is
  /// named when piped answers run out.
  public init(
    input: Input, environment: [String: String], runDirectory: String = "RUN_DIR",
    runner: any CommandRunning = SubprocessRunner(), write: @escaping @Sendable (String) -> Void
  ) {
    self.input = input
    self.runner = runner
    self.write = write
    editor = environment["VISUAL"] ?? environment["EDITOR"] ?? "vi"
    resumeHint = "--resume \(runDirectory)"
  }

  static let stepHelp = """
    y  run the step            n  skip it (recorded as skipped by the operator)
    e  edit the script first (recorded as a deviation, with its diff)
    a  run this and all remaining steps without asking
    q  quit: end the run now; reports are written and --resume continues it
    ?  this help
    """

  static let failureHelp = """
    r  retry the step on the hosts that failed     s  skip: leave the failure and go on
    e  edit the script, see the change, and retry it on the hosts that failed
    o  open a shell on a failed host, then come back here
    q  quit: end the run now; reports are written and --resume continues it
    ?  this help
    """

  /// The answers to each question: a key and the word that may be typed for it.
  static let stepAnswers: [(Character, String)] = [
    ("y", "yes"), ("n", "no"), ("e", "edit"), ("a", "all"), ("q", "quit"), ("?", "help"),
  ]
  static let failureAnswers: [(Character, String)] = [
    ("r", "retry"), ("e", "edit"), ("s", "skip"), ("o", "open"), ("q", "quit"), ("?", "help"),
  ]
  static let manualAnswers: [(Character, String)] = [
    ("y", "yes"), ("n", "no"), ("q", "quit"), ("?", "help"),
  ]

  static let manualHelp = """
    y  done: the operator did it; recorded as done, with an optional note
    n  not done: recorded as pending (the run does not pass clean); go on
    q  quit: end the run now; reports are written and --resume continues it
    ?  this help
    """

  public func beforeStep(_ prompt: StepPrompt) async -> StepDecision {
    show(prompt)
    while true {
      write("Run this step? [y]es [n]o [e]dit [a]ll [q]uit [?] ")
      guard let key = await answer(Self.stepAnswers) else { return .quit }
      switch key {
      case "y": return .run
      case "n": return .skip
      case "a": return .runAll
      case "q": return .quit
      case "e":
        if prompt.distinctRenderings > 1 {
          write("note: the hosts render this step differently; the edit runs on all of them\n")
        }
        if let edited = await reviewedEdit(of: prompt) {
          return edited == prompt.rawScript ? .run : .edit(edited)
        }
      case "?": write(Self.stepHelp + "\n")
      default: write(Self.stepHelp + "\n")
      }
    }
  }

  public func afterFailure(_ prompt: StepPrompt, failed: [String]) async -> FailureDecision {
    while true {
      write(
        "Step \(prompt.step.id) failed on \(failed.joined(separator: ", ")). [r]etry [e]dit and retry [s]kip [o]pen shell [q]uit [?] "
      )
      guard let key = await answer(Self.failureAnswers) else { return .quit }
      switch key {
      case "r": return .retry
      case "s": return .skip
      case "q": return .quit
      case "e":
        if let edited = await reviewedEdit(of: prompt) {
          return edited == prompt.rawScript ? .retry : .retryEdited(edited)
        }
      case "o":
        // A shell needs the terminal: with answers piped in, it would read them.
        guard input == .terminal else {
          write(
            "cannot open a shell: standard input is not a terminal; answer r, s or q (or run without piped answers)\n"
          )
          continue
        }
        if failed.count == 1 { return .shell(failed[0]) }
        for (i, host) in failed.enumerated() { write("  \(i + 1)  \(host)\n") }
        write("Which host? ")
        let choices = failed.indices.map { (Character(String($0 + 1)), failed[$0]) }
        if failed.count < 10, let choice = await answer(choices), let n = Int(String(choice)) {
          return .shell(failed[n - 1])
        }
        write("no such host\n")
      default: write(Self.failureHelp + "\n")
      }
    }
  }

  public func confirmManual(_ prompt: StepPrompt) async -> (done: Bool, note: String?)? {
    show(prompt)
    // Asked again until the answer is one of them: a stray key declines nothing.
    while true {
      write("This is a manual step. Done? [y]es [n]o [q]uit [?] ")
      guard let key = await answer(Self.manualAnswers), key != "q" else { return nil }
      if key == "y" { break }
      if key == "n" { return (false, nil) }
      write(Self.manualHelp + "\n")
    }
    write("Note for the report (optional): ")
    guard let note = await Self.readLine() else { return (true, nil) }
    let text = note.trimmingCharacters(in: .whitespaces)
    if input == .lines { write(text + "\n") }
    return (true, text.isEmpty ? nil : text)
  }

  public func openShell(_ command: ProcessCommand) async {
    write(
      "Opening a shell: \(([command.executable] + command.arguments).joined(separator: " ")); exit it to return.\n"
    )
    _ = await runner.attached(command)
  }

  private func show(_ prompt: StepPrompt) {
    let step = prompt.step
    var text =
      "\n──── [\(prompt.ordinal)/\(prompt.total)] \(step.id) (\(step.kind.rawValue), line \(step.line))\n"
    if !step.headingPath.isEmpty { text += "     \(step.headingPath.joined(separator: " › "))\n" }
    let roles =
      step.attributes.roles.isEmpty ? "the operator" : step.attributes.roles.joined(separator: ", ")
    text +=
      "     \(roles) → \(prompt.hosts.isEmpty ? "no host" : prompt.hosts.joined(separator: ", "))\n"
    for line in TextLines.split(prompt.script) { text += "     | \(line)\n" }
    write(text)
  }

  /// Opens the editor on the script; nil when the editor failed.
  static let reviewAnswers: [(Character, String)] = [
    ("y", "yes"), ("n", "no"), ("e", "edit"), ("?", "help"),
  ]

  /// An edit of the prompt's script, shown as a diff (secrets masked) and run only when the
  /// operator says so: nil when they do not (or the editor failed), the text otherwise.
  private func reviewedEdit(of prompt: StepPrompt) async -> String? {
    var text = prompt.rawScript
    while true {
      guard let edited = await edit(text) else { return nil }
      if edited == prompt.rawScript { return edited }
      let diff = LineDiff.lines(TextLines.split(prompt.rawScript), TextLines.split(edited))
      write("The edit (− the runbook, + what would run):\n")
      for line in diff where !line.hasPrefix("  ") { write("  " + prompt.mask(line) + "\n") }
      text = edited
      asking: while true {
        write("Run the edited script? [y]es [n]o [e]dit again [?] ")
        switch await answer(Self.reviewAnswers) {
        case "y": return edited
        case "e": break asking
        case "n", nil: return nil
        default:
          write(
            "y  run it (recorded as an edit, with this diff)   n  back: nothing runs   e  edit again\n"
          )
        }
      }
    }
  }

  private func edit(_ script: String) async -> String? {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-edit-\(UUID().uuidString).sh"
    ).path
    defer { try? FileManager.default.removeItem(atPath: path) }
    // The script holds real secret values: created 0600 in one call (never readable by
    // anyone else, not even for a moment), and only if no file of that name exists.
    let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
    let bytes = Array(script.utf8)
    let written =
      fd < 0 ? -1 : bytes.withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
    if fd >= 0 { close(fd) }
    guard written == bytes.count else {
      write("cannot write \(path)\n")
      return nil
    }
    let status = await runner.attached(
      ProcessCommand("/bin/sh", ["-c", "\(editor) \"$1\"", "sh", path]))
    guard status == 0, let edited = try? String(contentsOfFile: path, encoding: .utf8) else {
      write("the editor (\(editor)) failed; the step was not changed\n")
      return nil
    }
    return edited
  }

  /// A line of standard input, read off the cooperative pool; nil at its end.
  private static func readLine() async -> String? {
    await offPool { Swift.readLine(strippingNewline: true) }
  }

  /// One answer, as its key: a keypress on a terminal (Enter is yes), or a piped line that
  /// is exactly one answer (its key or its word), echoed so a log shows what was chosen;
  /// any other line is refused and the question asked again. Nil at the end of input (the
  /// run stops; `--resume` continues it) or when the run is cancelled.
  private func answer(_ answers: [(Character, String)]) async -> Character? {
    switch input {
    case .lines:
      guard let line = await Self.readLine() else {
        write("\nno more answers; \(resumeHint) continues the run\n")
        return nil
      }
      let text = line.trimmingCharacters(in: .whitespaces).lowercased()
      if let match = answers.first(where: { String($0.0) == text || $0.1 == text }) {
        write("\(match.0)\n")
        return match.0
      }
      write(
        "\n'\(TerminalText.visible(String(line.prefix(60))))' is not an answer; answer one of: "
          + answers.map { "\($0.0) (\($0.1))" }.joined(separator: ", ") + "\n")
      return "\u{0}"
    case .terminal:
      let key = await TerminalMode.withRawMode { () -> Character? in
        // One thread waits for the key, polling every 100 ms so that a cancelled run (the
        // flag) stops it; the cooperative pool is never blocked.
        let cancelled = Locked(false)
        return await withTaskCancellationHandler {
          await offPool { () -> Character? in
            while !cancelled.get() {
              var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
              guard poll(&fds, 1, 100) > 0 else { continue }
              var byte: UInt8 = 0
              guard Foundation.read(STDIN_FILENO, &byte, 1) == 1 else { return nil }
              return Character(UnicodeScalar(byte))
            }
            return nil
          }
        } onCancel: {
          cancelled.set(true)
        }
      }
      guard let key else { return nil }
      let chosen = key == "\n" || key == "\r" ? "y" : key
      // The answer as a word, so the scrollback shows what was decided.
      guard let match = answers.first(where: { $0.0 == chosen }) else {
        write("\nunknown key '\(TerminalText.visible(String(key)))'\n")
        return "\u{0}"
      }
      write("\(match.1)\n")
      return match.0
    }
  }
}

/// Raw terminal mode for single keys, with the saved mode restored on every exit path
/// (the CLI's signal handler calls `restore` too).
public enum TerminalMode {
  nonisolated(unsafe) private static var saved: termios?
  private static let lock = NSLock()

  /// Runs `body` with the terminal in raw mode (no line buffering, no echo, signals on).
  static func withRawMode<T>(_ body: () async -> T) async -> T {
    var original = termios()
    guard tcgetattr(STDIN_FILENO, &original) == 0 else { return await body() }
    lock.withLock { saved = original }
    var raw = original
    raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
    withUnsafeMutableBytes(of: &raw.c_cc) { cc in
      cc[Int(VMIN)] = 1
      cc[Int(VTIME)] = 0
    }
    tcsetattr(STDIN_FILENO, TCSANOW, &raw)
    defer { restore() }
    return await body()
  }

  /// Puts the terminal back as it was before raw mode, if raw mode is on.
  public static func restore() {
    lock.withLock {
      guard var mode = saved else { return }
      tcsetattr(STDIN_FILENO, TCSANOW, &mode)
      saved = nil
    }
  }
}
