import Foundation

/// POSIX shell quoting for text that scripts embed as literal words.
enum ShellQuote {
  /// `text` as one single-quoted shell word (`'it'\''s'`).
  static func word(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "'", with: #"'\''"#) + "'"
  }

  /// A file's path as one shell word, `~/…` in the home of the user the script runs as
  /// (`"${HOME:?}"/'…'`): a guide's `file=~/.bashrc` means that user's file, never a folder
  /// named `~`.
  static func path(_ path: String) -> String {
    // An unset HOME stops the script rather than write to the root directory.
    if path == "~" { return "\"${HOME:?}\"" }
    if path.hasPrefix("~/") { return "\"${HOME:?}\"/" + word(String(path.dropFirst(2))) }
    return word(path)
  }

  /// `text` as one shell word, quoted only when it holds more than letters, digits and
  /// `-_./=:,@%+` (for lines a person reads, like an ansible.cfg).
  static func wordIfNeeded(_ text: String) -> String {
    let plain =
      !text.isEmpty
      && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_./=:,@%+".contains($0)) }
    return plain ? text : word(text)
  }

  /// `text` for the inside of a double-quoted word (`"` … `"`): `\`, `"`, `$` and `` ` ``
  /// escaped, so the shell reads it back unchanged.
  static func insideDoubleQuotes(_ text: String) -> String {
    var out = ""
    for c in text {
      if c == "\\" || c == "\"" || c == "$" || c == "`" { out.append("\\") }
      out.append(c)
    }
    return out
  }
}
