/// Reading back what a step's script prints: the marker lines `StepScript` writes, all
/// carrying the script's nonce, are parsed here and nowhere else.
extension StepScript {
  /// Why a guard ended the script early, when one did.
  static func skipReason(_ stdout: String, nonce: String, creates: String?, unless: String?)
    -> String?
  {
    if stdout.contains("\(nonce) skip creates") {
      return "\(creates ?? "path") exists" + guardSkipEndings[0]
    }
    if stdout.contains("\(nonce) skip unless") {
      return "'\(unless ?? "")' succeeded" + guardSkipEndings[1]
    }
    return nil
  }

  /// How a reason from `skipReason` ends: the reports tell a guard's skip by it.
  static let guardSkipEndings = [" (creates)", " (unless)"]

  /// Whether `reason` is a guard's, from `skipReason`.
  static func isGuardSkip(_ reason: String?) -> Bool {
    guard let reason else { return false }
    return guardSkipEndings.contains { reason.hasSuffix($0) }
  }

  /// Standard output without its marker lines.
  static func strip(_ stdout: String, nonce: String) -> String {
    stdout.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix(nonce) }.joined(separator: "\n")
  }

  /// Each console command's output lines and exit status, from the marker lines.
  static func consoleOutputs(_ stdout: String, nonce: String) -> [([String], Int32)] {
    var results: [([String], Int32)] = []
    var current: [String]?
    for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("\(nonce) begin ") {
        current = []
      } else if let marker = line.range(of: "\(nonce) end "), var lines = current {
        // Output without a final newline runs into the marker: keep its text.
        if marker.lowerBound > line.startIndex { lines.append(String(line[..<marker.lowerBound])) }
        let status = Int32(line[marker.upperBound...].split(separator: " ").last ?? "") ?? -1
        results.append((lines, status))
        current = nil
      } else if current != nil {
        current!.append(String(line))
      }
    }
    return results
  }

  /// What a file step did to its file: nil when it wrote nothing (a guard, a failure),
  /// `(false, nil)` unchanged, `(true, diff)` changed.
  static func fileChange(_ stdout: String, nonce: String) -> (changed: Bool, diff: String?)? {
    if stdout.contains("\(nonce) unchanged") { return (false, nil) }
    guard let start = stdout.range(of: "\(nonce) diff\n") else { return nil }
    let rest = stdout[start.upperBound...]
    let diff = rest.range(of: "\(nonce) changed").map { rest[..<$0.lowerBound] } ?? rest
    return (true, String(diff))
  }

  /// What `fetch` found: the file's content, or nil when the file does not exist.
  static func fetched(_ stdout: String, nonce: String) -> String? {
    if stdout.hasPrefix("\(nonce) missing") { return nil }
    let marker = "\(nonce) content\n"
    return stdout.hasPrefix(marker) ? String(stdout.dropFirst(marker.count)) : ""
  }

  /// The control lines between which a file step prints its diff (kept out of logs).
  static func diffRegion(nonce: String) -> (start: String, end: String) {
    ("\(nonce) diff", "\(nonce) changed")
  }
}
