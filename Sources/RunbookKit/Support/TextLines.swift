/// Text as lines: the split every stage uses for scripts, outputs and diffs.
enum TextLines {
  /// The lines of `text`, without their line breaks; a final line break ends the last line
  /// rather than starting an empty one. Split on the scalar: a CRLF (as ssh and sshd
  /// print) is one `Character`, which a split on characters would not see; its CR stays.
  static func split(_ text: String) -> [String] {
    var parts = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
      .map { String(String.UnicodeScalarView($0)) }
    if parts.last == "" { parts.removeLast() }
    return parts
  }
}
