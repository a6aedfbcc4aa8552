/// Text as lines: the split every stage uses for scripts, outputs and diffs.
enum TextLines {
  /// The lines of `text`, without their line breaks; a final line break ends the last line
  /// rather than starting an empty one.
  static func split(_ text: String) -> [String] {
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if parts.last == "" { parts.removeLast() }
    return parts
  }
}
