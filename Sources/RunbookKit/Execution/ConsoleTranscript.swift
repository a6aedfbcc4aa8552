import Foundation

/// A `console` block: commands after `$ ` or `# ` prompts, each followed by the output the
/// guide says it prints.
///
/// Expected output lines may end in ` (re)` (a regular expression for the whole line) or
/// ` (glob)` (`*` and `?` wildcards), a line `...` stands for any number of lines, and a
/// last line `[N]` expects exit status N instead of 0, as in cram tests.
public struct ConsoleTranscript: Sendable, Equatable {
  /// One command and what it should print.
  public struct Command: Sendable, Equatable {
    /// The command line, prompt removed; `\` continuation lines joined with newlines.
    public var command: String
    /// The expected output lines.
    public var expected: [String]
    /// The exit status the command should end with.
    public var expectedStatus: Int32
  }

  /// The commands in order.
  public var commands: [Command]

  /// Reads a transcript.
  public init(_ text: String) {
    var commands: [Command] = []
    var continuing = false
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = String(raw)
      if continuing, var last = commands.popLast() {
        last.command += "\n" + (line.hasPrefix("> ") ? String(line.dropFirst(2)) : line)
        continuing = line.hasSuffix("\\")
        commands.append(last)
        continue
      }
      if line.hasPrefix("$ ") || line.hasPrefix("# ") {
        let command = String(line.dropFirst(2))
        commands.append(Command(command: command, expected: [], expectedStatus: 0))
        continuing = command.hasSuffix("\\")
      } else if var last = commands.popLast() {
        last.expected.append(line)
        commands.append(last)
      }
    }
    // The fence's final newline gives an empty last line that is not expected output.
    for i in commands.indices {
      while commands[i].expected.last == "" { commands[i].expected.removeLast() }
      if let last = commands[i].expected.last, last.hasPrefix("["), last.hasSuffix("]"),
        let status = Int32(last.dropFirst().dropLast())
      {
        commands[i].expectedStatus = status
        commands[i].expected.removeLast()
      }
    }
    self.commands = commands
  }

  /// A Python session (`>>> ` statements, `... ` continuation lines, the lines after them
  /// what the interpreter printed), read as commands with their expected output; a line
  /// `...` alone still stands for any number of lines.
  public static func python(_ text: String) -> ConsoleTranscript {
    var commands: [Command] = []
    for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = String(raw)
      if line.hasPrefix(">>> ") || line == ">>>" {
        commands.append(
          Command(command: String(line.dropFirst(4)), expected: [], expectedStatus: 0))
      } else if commands.isEmpty {
        continue
      } else if line.hasPrefix("... ") || line == "...",
        commands[commands.count - 1].expected.isEmpty
      {
        commands[commands.count - 1].command += "\n" + String(line.dropFirst(4))
      } else {
        commands[commands.count - 1].expected.append(line)
      }
    }
    for i in commands.indices {
      while commands[i].expected.last == "" { commands[i].expected.removeLast() }
    }
    return ConsoleTranscript(commands: commands)
  }

  /// A transcript of these commands.
  init(commands: [Command]) { self.commands = commands }

  /// Whether `actual` output lines match `expected` lines with the cram-like patterns.
  public static func matches(_ actual: [String], _ expected: [String]) -> Bool {
    func match(_ a: Int, _ e: Int) -> Bool {
      if e == expected.count { return a == actual.count }
      if expected[e] == "..." {
        for skip in a...actual.count where match(skip, e + 1) { return true }
        return false
      }
      guard a < actual.count, lineMatches(actual[a], expected[e]) else { return false }
      return match(a + 1, e + 1)
    }
    return match(0, 0)
  }

  /// How `actual` differs from `expected`, read as the transcript reads it: a line its
  /// pattern (`(re)`, `(glob)`) matches is the same line, and `...` takes the lines it
  /// stands for; the fewest `-` (expected, not printed) and `+` (printed, not expected)
  /// lines, the rest shown as printed. Long outputs are compared line for line.
  public static func diff(expected: [String], actual: [String]) -> [String] {
    // Each pattern is tried against each line once (a long output, line for line).
    let same: [[Bool]] =
      expected.count * actual.count > 250_000
      ? []
      : expected.map { pattern in actual.map { pattern != "..." && lineMatches($0, pattern) } }
    return LineDiff.lines(
      expected, actual,
      same: { same.isEmpty ? expected[$0] == actual[$1] : same[$0][$1] },
      wildcard: { !same.isEmpty && expected[$0] == "..." })
  }

  static func lineMatches(_ actual: String, _ expected: String) -> Bool {
    if expected.hasSuffix(" (re)") {
      let pattern = "^(?:" + expected.dropLast(5) + ")$"
      return actual.range(of: pattern, options: .regularExpression) != nil
    }
    if expected.hasSuffix(" (glob)") {
      var pattern = "^"
      for c in expected.dropLast(7) {
        switch c {
        case "*": pattern += ".*"
        case "?": pattern += "."
        default: pattern += NSRegularExpression.escapedPattern(for: String(c))
        }
      }
      return actual.range(of: pattern + "$", options: .regularExpression) != nil
    }
    return actual == expected
  }
}
