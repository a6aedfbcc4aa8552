import Foundation

/// POSIX shell quoting for text that scripts embed as literal words.
enum ShellQuote {
  /// `text` as one single-quoted shell word (`'it'\''s'`).
  static func word(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
  }
}
