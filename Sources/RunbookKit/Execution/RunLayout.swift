import Foundation

/// Names in a run directory, and how times are written in it.
enum RunLayout {
  /// The log of a step on a host, relative to the run directory: one file per attempt and
  /// retry, so no log a record hashes is ever written again.
  static func logPath(index: Int, step: String, host: String, attempt: Int = 1, retry: Int = 0)
    -> String
  {
    String(format: "logs/%03d-%@", index + 1, step) + "/" + fileName(host)
      + (attempt > 1 ? ".attempt-\(attempt)" : "") + (retry > 0 ? ".retry-\(retry)" : "") + ".log"
  }

  /// A host name safe as a file name; a name that had to change gets a short hash of
  /// itself, so `a/b` and `a_b` never share a log.
  static func fileName(_ name: String) -> String {
    let safe = String(
      name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    guard safe != name || safe.hasPrefix(".") else { return safe }
    return safe + "-" + Digest.sha256(Data(name.utf8)).prefix(8)
  }

  /// A journal time: ISO 8601 with milliseconds, UTC.
  static func timestamp(_ date: Date) -> String {
    date.formatted(timestampStyle)
  }

  private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
