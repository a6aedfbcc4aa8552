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
  /// lines, the rest shown as printed. Long outputs fall back to a plain line diff.
  public static func diff(expected: [String], actual: [String]) -> [String] {
    let (n, m) = (expected.count, actual.count)
    guard (n + 1) * (m + 1) <= 250_000 else { return LineDiff.lines(expected, actual) }
    let wildcard = expected.map { $0 == "..." }
    var same = Array(repeating: Array(repeating: false, count: m), count: n)
    for e in 0..<n where !wildcard[e] {
      for a in 0..<m { same[e][a] = lineMatches(actual[a], expected[e]) }
    }
    // cost[e][a]: the fewest -/+ lines that align expected[e...] with actual[a...].
    var cost = Array(repeating: Array(repeating: Int.max / 2, count: m + 1), count: n + 1)
    cost[n][m] = 0
    for e in stride(from: n, through: 0, by: -1) {
      for a in stride(from: m, through: 0, by: -1) where e < n || a < m {
        var best = Int.max / 2
        if e < n, wildcard[e] {
          best = min(best, cost[e + 1][a])
          if a < m { best = min(best, cost[e][a + 1]) }
        } else if e < n {
          if a < m, same[e][a] { best = min(best, cost[e + 1][a + 1]) }
          best = min(best, cost[e + 1][a] + 1)
        }
        if a < m { best = min(best, cost[e][a + 1] + 1) }
        cost[e][a] = best
      }
    }
    var out: [String] = []
    var (e, a) = (0, 0)
    while e < n || a < m {
      if e < n, wildcard[e] {
        if a < m, cost[e][a + 1] == cost[e][a] {
          a += 1  // a line `...` stands for
        } else if cost[e + 1][a] == cost[e][a] {
          out.append("  ...")
          e += 1
        } else {
          out.append("+ " + actual[a])
          a += 1
        }
      } else if e < n, a < m, same[e][a], cost[e + 1][a + 1] == cost[e][a] {
        out.append("  " + actual[a])
        (e, a) = (e + 1, a + 1)
      } else if e < n, cost[e + 1][a] + 1 == cost[e][a] {
        out.append("- " + expected[e])
        e += 1
      } else {
        out.append("+ " + actual[a])
        a += 1
      }
    }
    return out
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
