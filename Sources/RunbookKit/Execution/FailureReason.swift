import Foundation

/// The one line that says why a step failed, picked from the end of what it printed, with
/// the step script's line numbers turned back into the runbook's.
///
/// A shell names the script it runs (`/tmp/runbook-state-…/step-42.sh: 3: sudo: not found`),
/// a file the operator never saw; the reader wants `guide.md:47: sudo: not found`. Tools end
/// with their cause (a Python traceback's last line) after decoration (caret lines), so the
/// last error-like line wins over the first line of standard error.
public struct FailureReason: Sendable {
  /// The runbook file, as given.
  public var file: String
  /// The script's line that holds the step's first body line (nil: no mapping).
  public var scriptBodyLine: Int?
  /// The runbook's line of the step's first body line.
  public var runbookBodyLine: Int
  /// The body's line count, and whether the lines that ran are the runbook's lines (not
  /// an operator's edit, not a variable that rendered to several lines).
  public var bodyLines: Int
  public var sameLines: Bool
  /// SQL goes to its client as the body's lines: `ERROR … at line N` counts from there.
  public var sql: Bool

  /// Creates the mapping for a step whose body starts at `scriptBodyLine` of the script.
  public init(
    file: String, scriptBodyLine: Int?, runbookBodyLine: Int, bodyLines: Int, sameLines: Bool,
    sql: Bool = false
  ) {
    self.file = file
    self.scriptBodyLine = scriptBodyLine
    self.runbookBodyLine = runbookBodyLine
    self.bodyLines = bodyLines
    self.sameLines = sameLines
    self.sql = sql
  }

  /// A shell's message about the step script: `PATH: N: ` (dash) or `PATH: line N: ` (bash);
  /// dash names the script twice when it sources it (`PATH: N: PATH: `).
  private static let shellLine: NSRegularExpression = {
    let script =
      NSRegularExpression.escapedPattern(for: SessionProtocol.scriptFilePrefix)
      + #"[0-9]+\.sh"#
    return try! NSRegularExpression(
      pattern: #"^(?:\S*/)?"# + script + #": (?:line )?([0-9]+): (?:\S*/"# + script + #": )?"#)
  }()
  /// A SQL client's error about its input (MySQL and MariaDB, sqlite3).
  private static let sqlLine = try! NSRegularExpression(
    pattern: #"^(ERROR [0-9]+ \([0-9A-Z]+\)|Parse error|Runtime error) (?:at|near) line ([0-9]+)"#)
  /// Words that mark a line as an error message.
  private static let errorLike = try! NSRegularExpression(
    pattern:
      #"(?i)\b(error|errors|fatal|failed|failure|denied|not found|no such|cannot|can't|unable|exception|invalid|refused|timed out|permission|forbidden|unauthorized|abort(ed)?|panic|segmentation|traceback)\b|^[A-Za-z_.]*(Error|Exception|Exit)\b"#
  )

  /// `line` with the script's line number replaced by the runbook's, when it names one.
  public func mapped(_ line: String) -> String {
    let range = NSRange(line.startIndex..., in: line)
    if let match = Self.shellLine.firstMatch(in: line, range: range),
      let whole = Range(match.range, in: line), let digits = Range(match.range(at: 1), in: line),
      let number = Int(line[digits])
    {
      return location(bodyLine: number - (scriptBodyLine ?? 1) + 1) + ": "
        + line[whole.upperBound...]
    }
    if sql, let match = Self.sqlLine.firstMatch(in: line, range: range),
      let code = Range(match.range(at: 1), in: line),
      let digits = Range(match.range(at: 2), in: line),
      let whole = Range(match.range, in: line), let number = Int(line[digits])
    {
      return location(bodyLine: number) + ": " + line[code] + line[whole.upperBound...]
    }
    return line
  }

  /// `FILE:LINE` for the body's line `n` (1-based), or the script's line when it is not
  /// a line of the runbook.
  private func location(bodyLine n: Int) -> String {
    guard scriptBodyLine != nil || sql, n >= 1, n <= bodyLines else {
      return "step script"
    }
    guard sameLines else { return "\(file): line \(n) of the step as it ran" }
    return "\(file):\(runbookBodyLine + n - 1)"
  }

  /// The line that says why, from the last lines of standard error: the last error-like
  /// line, else the last line with a word. Without standard error, the last lines of the
  /// output count only when they look like an error (a program's normal output is no
  /// reason).
  public func pick(stderr: [String], output: [String]) -> String? {
    if !stderr.isEmpty, let line = pick(stderr) { return line }
    return pick(output, errorsOnly: true)
  }

  /// The last error-like line of `lines`, else (unless `errorsOnly`) the last line with a
  /// word.
  public func pick(_ lines: [String], errorsOnly: Bool = false) -> String? {
    let meaningful = lines.map { $0.trimmingWhitespace() }.filter { line in
      // Decoration (carets, rules, box lines) has no letter or digit, or points with a caret
      // (`^--- error here`); the tool's own notes between retries are not the step's words.
      line.contains { $0.isLetter || $0.isNumber } && !line.hasPrefix("^")
        && !line.hasPrefix("runbook: ")
        && !(line.hasPrefix("--- ") && line.hasSuffix(" ---"))
    }
    let chosen =
      meaningful.last { line in
        Self.errorLike.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
      } ?? (errorsOnly ? nil : meaningful.last)
    guard let chosen else { return nil }
    let text = mapped(chosen)
    return text.count > 240 ? String(text.prefix(239)) + "…" : text
  }
}
