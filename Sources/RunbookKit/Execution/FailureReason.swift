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
      #"(?i)\b(error|errors|fatal|failed|failure|denied|not found|no such|cannot|can't|could not|couldn't|unable|does not exist|doesn't exist|exception|invalid|refused|timed out|permission|forbidden|unauthorized|bad (configuration|option|substitution|interpreter|request|gateway|address|file descriptor)|abort(ed)?|panic|segmentation|traceback|unrecognized|undefined|unexpected|missing|not in \w+ format)\b|^[A-Za-z_.]*(Error|Exception|Exit)\b"#
  )
  /// Lines that say that something failed but not why: a wrapper's summary after the
  /// cause (make, dpkg, apt, tar, sshd, perl, rustc, cargo, npm), or a pointer elsewhere.
  private static let generic = try! NSRegularExpression(
    pattern: #"""
      ^make(\[[0-9]+\])?: \*\*\* \[.*\] Error [0-9]+|^Failed to connect to bus\b|\
      ^dpkg: error processing package|subprocess returned error exit status|\
      ^Errors were encountered while processing|^E: Sub-process .* returned an error code|\
      ^E: Unable to acquire the dpkg frontend lock|^(tar|tar \(child\)): Error is not recoverable|\
      ^tar: Child returned status|terminating, [0-9]+ bad configuration options?$|\
      ^BEGIN failed--compilation aborted|^error: aborting due to|\
      ^For more information about this error|^As a reminder, you're using offline mode|\
      ^A complete log of this run can be found|may have more information after failed|\
      ^Unable to load (certificate|key|private key)$|^error: could not compile|\
      ld returned [0-9]+ exit status|^[0-9]+ errors?( and [0-9]+ warnings?)?$|^Found [0-9]+ errors?
      """#.replacingOccurrences(of: "\\\n", with: ""))
  /// Where rather than why: stack frames (Java, Node, Python's `File` lines), warnings,
  /// OpenSSL's error queue, and klog's prefixed lines of Go tools.
  private static let detail = try! NSRegularExpression(
    pattern:
      #"^\s*at [\w$./<>\[\]-]+ ?\(|^\s*at [\w$./<>-]+:[0-9]+|^\s*File ".*", line [0-9]+|(?i)^(W: |N: |warning\b|warn\b|.*\bwarning: )|^[0-9A-F]{8,}:error:[0-9A-F]+:"#
  )
  /// A tool's prefix before its message (npm's), left out when the message is weighed.
  private static let toolPrefix = try! NSRegularExpression(pattern: #"^npm (error|ERR!) "#)

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

  /// The most specific error line of `lines`: the last that names a cause, before lines
  /// that only say something failed (a wrapper's summary, a restatement of an earlier
  /// line's cause), before detail (frames, warnings); else (unless `errorsOnly`) the last
  /// line with a word.
  public func pick(_ lines: [String], errorsOnly: Bool = false) -> String? {
    let meaningful = lines.map { $0.trimmingWhitespace() }.filter { line in
      // Decoration (carets, rules, box lines, a compiler's source gutter) has no letter or
      // digit, or points (`^--- error here`, `3 |   return x;`); the tool's own notes
      // between retries are not the step's words.
      line.contains { $0.isLetter || $0.isNumber } && !line.hasPrefix("^")
        && !line.hasPrefix("runbook: ")
        && !(line.hasPrefix("--- ") && line.hasSuffix(" ---"))
        && !Self.matches(Self.gutter, line)
    }
    var best: (tier: Int, line: String)?
    var causes: [String] = []
    for line in meaningful {
      let tier = Self.tier(of: line, after: causes)
      if tier == 3 { causes.append(line) }
      if tier >= (best?.tier ?? 1) { best = (tier, line) }
    }
    guard let chosen = best?.line ?? (errorsOnly ? nil : meaningful.last) else { return nil }
    let text = mapped(chosen)
    return text.count > 240 ? String(text.prefix(239)) + "…" : text
  }

  /// A line's weight as a reason: 3 names a cause, 2 only says something failed, 1 is
  /// detail, 0 is no error at all. `causes` are the lines of weight 3 before it.
  static func tier(of line: String, after causes: [String]) -> Int {
    var message = line
    if let prefix = toolPrefix.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)),
      let range = Range(prefix.range, in: line)
    {
      message = String(line[range.upperBound...])
    }
    // Words inside paths (`/var/log/nginx/error.log`, `…/missing-files/`) are not words.
    let words = path.stringByReplacingMatches(
      in: message, range: NSRange(message.startIndex..., in: message), withTemplate: "")
    guard matches(errorLike, words) else { return 0 }
    if matches(detail, line) { return 1 }
    if matches(generic, message) { return 2 }
    // "X failed: CAUSE" after a line that named CAUSE says it again, less precisely.
    if let colon = message.range(of: ": ", options: .backwards) {
      let cause = message[colon.upperBound...]
      if cause.count >= 8, causes.contains(where: { $0.contains(cause) }) { return 2 }
    }
    return 3
  }

  /// A path: a slash and what follows it up to white space or a quote.
  private static let path = try! NSRegularExpression(pattern: #"/[^\s'"‘’`]+"#)

  /// A compiler's source excerpt: `  3 |   return x;`, `    |   ^~~~`.
  private static let gutter = try! NSRegularExpression(pattern: #"^[0-9]*\s*\|"#)

  private static func matches(_ expression: NSRegularExpression, _ line: String) -> Bool {
    expression.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
  }
}
