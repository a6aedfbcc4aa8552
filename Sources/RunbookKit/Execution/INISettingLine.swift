/// A `key = value` line of an INI file cut into the parts an `ini` merge keeps (the old
/// line's indentation, spacing and inline comment) and the parts it takes from the block
/// (key and value). `runbook_file.py` cuts lines the same way (`split_setting`).
///
/// Lines are read as Unicode scalars, as Python reads them, so both give the same parts.
struct INISettingLine {
  /// The spaces and tabs before the key.
  var indent = ""
  var key = ""
  /// The white space before the `=` or `:` and the sign itself; empty for a bare key.
  var sign = ""
  /// The spaces and tabs after the sign.
  var spacing = ""
  var value = ""
  /// The white space before an inline comment and the comment; empty when there is none.
  var comment = ""

  /// Cuts `line`; a character of `markers` after white space, after a non-empty value,
  /// starts an inline comment. A value that starts with a quote runs to the next same quote
  /// first: a `#` or `;` inside quotes is the value's (`"<span style='color: #ff0000'>"`).
  init(_ line: String, markers: Set<Unicode.Scalar>) {
    let s = Array(line.unicodeScalars)
    func text(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(s[range])) }
    let start = s.firstIndex { !Self.isBlank($0) } ?? s.count
    indent = text(0..<start)
    guard let signAt = s[start...].firstIndex(where: { $0 == "=" || $0 == ":" }) else {
      key = text(start..<s.count)
      return
    }
    var keyEnd = signAt
    while keyEnd > start, Self.isBlank(s[keyEnd - 1]) { keyEnd -= 1 }
    var valueStart = signAt + 1
    while valueStart < s.count, Self.isBlank(s[valueStart]) { valueStart += 1 }
    key = text(start..<keyEnd)
    sign = text(keyEnd..<(signAt + 1))
    spacing = text((signAt + 1)..<valueStart)
    var from = valueStart + 1
    if valueStart < s.count, s[valueStart] == "'" || s[valueStart] == "\"" {
      from = (s[(valueStart + 1)...].firstIndex(of: s[valueStart]) ?? s.count) + 1
    }
    let marker = (min(from, s.count)..<s.count).first {
      markers.contains(s[$0]) && Self.isBlank(s[$0 - 1])
    }
    var valueEnd = marker ?? s.count
    if marker != nil {
      while Self.isBlank(s[valueEnd - 1]) { valueEnd -= 1 }
    }
    value = text(valueStart..<valueEnd)
    comment = text(valueEnd..<s.count)
  }

  static func isBlank(_ scalar: Unicode.Scalar) -> Bool { scalar == " " || scalar == "\t" }

  /// This (old) line with the block's line `new` in its place: the key and value are the
  /// block's; the indentation, and the sign with the white space around it, are this line's
  /// (the spacing after the sign comes from the block when either value is empty: there was
  /// none to copy, or it would trail); this line's inline comment stays unless the block's
  /// line brings its own. A bare key on either side takes the block's line as it is.
  func replaced(by new: INISettingLine) -> String {
    var separator = new.sign + new.spacing
    if !sign.isEmpty, !new.sign.isEmpty {
      separator = sign + (value.isEmpty || new.value.isEmpty ? new.spacing : spacing)
    }
    return indent + new.key + separator + new.value + (new.comment.isEmpty ? comment : new.comment)
  }

  /// The characters that start inline comments in a file written in `lines`: those that at
  /// least two of its settings, commented out or not, put after their value. One line is
  /// not a style: a value may hold ` #` (a password, in a file whose reader has no inline
  /// comments at all, as Python's configparser and oslo.config have none).
  static func inlineCommentMarkers(in lines: [String]) -> Set<Unicode.Scalar> {
    var counts: [Unicode.Scalar: Int] = [:]
    for line in lines {
      let body = String(line.unicodeScalars.drop { isBlank($0) || $0 == "#" || $0 == ";" })
      let setting = INISettingLine(body, markers: ["#", ";"])
      guard !setting.sign.isEmpty, !setting.key.isEmpty,
        !setting.key.unicodeScalars.contains(where: isBlank),
        let marker = setting.comment.unicodeScalars.first(where: { !isBlank($0) })
      else { continue }
      counts[marker, default: 0] += 1
    }
    return Set(counts.filter { $0.value >= 2 }.keys)
  }
}
