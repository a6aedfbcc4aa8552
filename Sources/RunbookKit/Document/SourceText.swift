/// A runbook's text made ready for cmark, with line numbers that still match the file.
///
/// A UTF-8 BOM is dropped and CR/CRLF line endings become LF. Front matter is replaced by
/// empty lines rather than cut out, so every line cmark reports is the line in the file.
public struct SourceText: Sendable {
  /// The text after normalisation, front matter included.
  public let text: String
  /// The front matter's YAML, without its `---` delimiters, or `nil` when there is none.
  public let frontMatter: String?
  /// The 1-based line of the first YAML line of the front matter.
  public let frontMatterFirstLine: Int
  /// The text to hand to cmark: the front matter blanked out line for line.
  public let markdown: String
  /// The line of an opening `---` that has no closing delimiter, if any.
  public let unterminatedFrontMatterLine: Int?

  /// Normalises `raw` and splits off its front matter.
  public init(_ raw: String) {
    var text = raw
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    if text.contains("\r") {
      // "\r\n" is one Character in Swift, so this replaces both CRLF and lone CR.
      text = String(text.map { $0 == "\r\n" || $0 == "\r" ? "\n" : $0 })
    }
    self.text = text

    var frontMatter: String?
    var markdown = text
    var unterminated: Int?
    if text.hasPrefix("---\n") || text == "---" || text.hasPrefix("--- ") {
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      let opener = lines[0].trimmingTrailingSpaces()
      if opener == "---" {
        if let close = lines.dropFirst().firstIndex(where: {
          let t = $0.trimmingTrailingSpaces()
          return t == "---" || t == "..."
        }) {
          frontMatter = lines[1..<close].joined(separator: "\n")
          let blank = String(repeating: "\n", count: close + 1)
          markdown = blank + lines[(close + 1)...].joined(separator: "\n")
        } else {
          unterminated = 1
        }
      }
    }
    self.frontMatter = frontMatter
    self.frontMatterFirstLine = 2
    self.markdown = markdown
    self.unterminatedFrontMatterLine = unterminated
  }
}

extension Substring {
  fileprivate func trimmingTrailingSpaces() -> Substring {
    var s = self
    while let last = s.last, last == " " || last == "\t" { s.removeLast() }
    return s
  }
}
