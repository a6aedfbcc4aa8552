/// Random access to the lines of a text by 1-based line number, without splitting the
/// whole text into strings up front (runbooks can be megabytes long).
struct LineIndex {
  private let text: String
  /// The UTF-8 offset where each line starts.
  private let starts: [Int]

  init(_ text: String) {
    self.text = text
    var starts = [0]
    var offset = 0
    for byte in text.utf8 {
      offset += 1
      if byte == UInt8(ascii: "\n") { starts.append(offset) }
    }
    self.starts = starts
  }

  /// The number of lines (a trailing newline starts an empty last line).
  var count: Int { starts.count }

  /// The text of 1-based line `number`, without its newline.
  subscript(number: Int) -> Substring {
    let utf8 = text.utf8
    let start = utf8.index(utf8.startIndex, offsetBy: starts[number - 1])
    var end =
      number < starts.count
      ? utf8.index(utf8.startIndex, offsetBy: starts[number] - 1) : utf8.endIndex
    if end < start { end = start }
    return text[start..<end]
  }
}
