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
  /// The line of the closing delimiter (0 without front matter).
  public let frontMatterEndLine: Int
  /// The front matter's delimiter: `---` (YAML) or `+++` (TOML, read as YAML).
  public let frontMatterDelimiter: String
  /// Lines of TOML front matter that cannot be read (errors) or tables left out (notes),
  /// with why (1-based file lines).
  public let frontMatterProblems: [(line: Int, message: String, isError: Bool)]

  /// Normalises `raw` and splits off its front matter.
  public init(_ raw: String) {
    var text = raw
    if text.hasPrefix("\u{FEFF}") { text.removeFirst() }
    if text.utf8.contains(UInt8(ascii: "\r")) {
      // "\r\n" is one Character in Swift, so this replaces both CRLF and lone CR.
      text = String(text.map { $0 == "\r\n" || $0 == "\r" ? "\n" : $0 })
    }
    self.text = text

    var frontMatter: String?
    var markdown = text
    var unterminated: Int?
    var endLine = 0
    var problems: [(line: Int, message: String, isError: Bool)] = []
    var lines = text.utf8.split(
      separator: UInt8(ascii: "\n"), maxSplits: 1, omittingEmptySubsequences: false
    ).makeIterator()
    let first = lines.next().map { Substring($0) }
    let toml = first.map { Self.isDelimiter($0, closing: false, mark: "+++") } ?? false
    let mark = toml ? "+++" : "---"
    if let first, Self.isDelimiter(first, closing: false, mark: mark) {
      // Walk line by line until the closing delimiter; the body is never split.
      var lineStart = text.utf8.index(first.endIndex, offsetBy: 1, limitedBy: text.utf8.endIndex)
      var yamlLines: [Substring] = []
      var found = false
      while let start = lineStart, start < text.utf8.endIndex {
        let end = text.utf8[start...].firstIndex(of: UInt8(ascii: "\n")) ?? text.utf8.endIndex
        let line = text[start..<end]
        if Self.isDelimiter(line, closing: true, mark: mark) {
          let rest = end < text.utf8.endIndex ? text[text.utf8.index(after: end)...] : ""
          if toml {
            let (yaml, unread) = TOMLFrontMatter.yaml(yamlLines)
            frontMatter = yaml.joined(separator: "\n")
            problems = unread.map { ($0.lineOffset + 2, $0.message, $0.isError) }
          } else {
            frontMatter = yamlLines.joined(separator: "\n")
          }
          endLine = yamlLines.count + 2
          markdown = String(repeating: "\n", count: yamlLines.count + 2) + rest
          found = true
          break
        }
        yamlLines.append(line)
        lineStart = end < text.utf8.endIndex ? text.utf8.index(after: end) : nil
      }
      if !found { unterminated = 1 }
    }
    self.frontMatter = frontMatter
    self.frontMatterFirstLine = 2
    self.markdown = markdown
    self.unterminatedFrontMatterLine = unterminated
    self.frontMatterEndLine = endLine
    self.frontMatterDelimiter = mark
    self.frontMatterProblems = problems
  }
}

extension SourceText {
  /// `mark` (`---`, or `...` to close YAML; `+++` for TOML), trailing blanks allowed.
  fileprivate static func isDelimiter(_ line: Substring, closing: Bool, mark: String = "---")
    -> Bool
  {
    var s = line
    while let last = s.last, last == " " || last == "\t" { s.removeLast() }
    return s == mark || (closing && mark == "---" && s == "...")
  }
}
