import Foundation

/// `--interactive` on a terminal (keys read one at a time, raw mode only while waiting and
/// restored on every path) or on piped standard input (one answer per line, so a session
/// can be scripted).
public final class TerminalInteraction: Interaction, @unchecked Sendable {
  /// Where answers come from.
  public enum Input: Sendable {
    /// A terminal: single keys.
    case terminal
    /// Piped lines: the first character of each line is the key.
    case lines
  }

  private let input: Input
  private let write: @Sendable (String) -> Void
  private let editor: String

  /// Creates the interaction; `environment` gives `VISUAL`/`EDITOR`.
  public init(
    input: Input, environment: [String: String], write: @escaping @Sendable (String) -> Void
  ) {
    self.input = input
    self.write = write
    editor = environment["VISUAL"] ?? environment["EDITOR"] ?? "vi"
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
    o  open a shell on a failed host, then come back here
    q  quit: end the run now; reports are written and --resume continues it
    ?  this help
    """

  public func beforeStep(_ prompt: StepPrompt) async -> StepDecision {
    show(prompt)
    while true {
      write("Run this step? [y]es [n]o [e]dit [a]ll [q]uit [?] ")
      guard let key = await readKey() else { return .quit }
      write("\n")
      switch key {
      case "y", "\n", "\r": return .run
      case "n": return .skip
      case "a": return .runAll
      case "q": return .quit
      case "e":
        if prompt.distinctRenderings > 1 {
          write("note: the hosts render this step differently; the edit runs on all of them\n")
        }
        if let edited = edit(prompt.rawScript) {
          return edited == prompt.rawScript ? .run : .edit(edited)
        }
      case "?": write(Self.stepHelp + "\n")
      default: write("unknown key '\(key)'\n" + Self.stepHelp + "\n")
      }
    }
  }

  public func afterFailure(_ prompt: StepPrompt, failed: [String]) async -> FailureDecision {
    while true {
      write(
        "Step \(prompt.step.id) failed on \(failed.joined(separator: ", ")). [r]etry [s]kip [o]pen shell [q]uit [?] "
      )
      guard let key = await readKey() else { return .quit }
      write("\n")
      switch key {
      case "r": return .retry
      case "s": return .skip
      case "q": return .quit
      case "o":
        if failed.count == 1 { return .shell(failed[0]) }
        for (i, host) in failed.enumerated() { write("  \(i + 1)  \(host)\n") }
        write("Which host? ")
        if let choice = await readKey(), let n = Int(String(choice)), failed.indices.contains(n - 1)
        {
          write("\n")
          return .shell(failed[n - 1])
        }
        write("\nno such host\n")
      case "?": write(Self.failureHelp + "\n")
      default: write("unknown key '\(key)'\n" + Self.failureHelp + "\n")
      }
    }
  }

  public func confirmManual(_ prompt: StepPrompt) async -> (done: Bool, note: String?) {
    show(prompt)
    write("This is a manual step. Done? [y]es [n]o ")
    guard let key = await readKey() else { return (false, nil) }
    write("\n")
    guard key == "y" || key == "\n" || key == "\r" else { return (false, nil) }
    write("Note for the report (optional): ")
    let note = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces)
    return (true, note?.isEmpty == false ? note : nil)
  }

  public func openShell(_ command: ProcessCommand) async {
    write(
      "Opening a shell: \(([command.executable] + command.arguments).joined(separator: " ")); exit it to return.\n"
    )
    _ = Self.runAttached(
      command.executable.hasPrefix("/") ? command.executable : "/usr/bin/env",
      command.executable.hasPrefix("/")
        ? command.arguments : [command.executable] + command.arguments)
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
    for line in Executor.lines(prompt.script) { text += "     | \(line)\n" }
    write(text)
  }

  /// Opens the editor on the script; nil when the editor failed.
  private func edit(_ script: String) -> String? {
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
    let status = Self.runAttached("/bin/sh", ["-c", "\(editor) \"$1\"", "sh", path])
    guard status == 0, let edited = try? String(contentsOfFile: path, encoding: .utf8) else {
      write("the editor (\(editor)) failed; the step was not changed\n")
      return nil
    }
    return edited
  }

  /// Runs a program on this terminal (standard input, output and error shared).
  @discardableResult
  static func runAttached(_ executable: String, _ arguments: [String]) -> Int32 {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    process.standardInput = FileHandle.standardInput
    process.standardOutput = FileHandle.standardOutput
    process.standardError = FileHandle.standardError
    do {
      try process.run()
      process.waitUntilExit()
      return process.terminationStatus
    } catch {
      return -1
    }
  }

  /// One key: a raw keypress on a terminal, the first character of a line otherwise;
  /// nil at end of input or when the run is cancelled.
  private func readKey() async -> Character? {
    switch input {
    case .lines:
      guard let line = readLine(strippingNewline: true) else { return nil }
      return line.first ?? "\n"
    case .terminal:
      return await TerminalMode.withRawMode { () -> Character? in
        var byte: UInt8 = 0
        while !Task.isCancelled {
          var fds = pollfd(fd: STDIN_FILENO, events: Int16(POLLIN), revents: 0)
          guard poll(&fds, 1, 100) > 0 else { continue }
          guard read(STDIN_FILENO, &byte, 1) == 1 else { return nil }
          return Character(UnicodeScalar(byte))
        }
        return nil
      }
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
