/// The file edits of `ini` and `append` steps, computed on the current text of the file.
public enum FileEdit {
  /// Merges the `key = value` lines of `block` into `original`, section by section.
  ///
  /// Keys that exist are replaced in place (first occurrence; later duplicates and
  /// commented-out `#key = …` lines are left alone), new keys are added at the end of their
  /// section, new sections at the end of the file. Lines of the block before any
  /// `[section]` header go to `section` (or to the top of the file, before the first header,
  /// when there is none).
  ///
  /// A merge changes only the lines of the keys it sets; every other line — comments
  /// (indented or not, `#` or `;`), blank lines, order, the final newline or its absence —
  /// stays byte for byte:
  /// - A setting is its key line and its continuation lines (indented deeper, as
  ///   `configparser` and systemd read them), in the block and in the file alike. A comment
  ///   line is never a continuation line, even indented (postgresql.conf's notes under a
  ///   setting), and does not end a value either: comments between continuation lines stay,
  ///   each after as many value lines as before (the new value's last when it is shorter).
  ///   The block's own comment lines are not written.
  /// - The replaced key line keeps its indentation and its `=` or `:` with the white space
  ///   around it (`bind-address            = 0.0.0.0`), and its inline comment, with the
  ///   white space before it, after the new value (unless the block's line has its own).
  /// - An inline comment is white space, then `#` or `;`, after a value, and only in a file
  ///   that writes that character so on at least two settings, commented out or not
  ///   (postgresql.conf, an annotated my.cnf or php.ini): elsewhere ` #` belongs to the
  ///   value (a password in nova.conf). A value that starts with a quote runs to its closing
  ///   quote before a comment may start.
  public static func mergeINI(_ block: String, into original: String, section: String?) -> String {
    var lines =
      original.isEmpty
      ? [] : original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let finalNewline = original.isEmpty || original.hasSuffix("\n")
    if original.hasSuffix("\n") { lines.removeLast() }
    let markers = INISettingLine.inlineCommentMarkers(in: lines)
    let (order, settings) = blockSettings(block, section: section)

    for name in order {
      var pending = settings[name]!
      // The section's extent: from its header to the next header (or the top part).
      var start = 0
      var headerFound = name == nil
      if let name {
        if let header = lines.firstIndex(where: { sectionName($0) == name }) {
          start = header + 1
          headerFound = true
        }
      }
      if !headerFound {
        if let last = lines.last, !last.trimmingWhitespace().isEmpty { lines.append("") }
        lines.append("[\(name!)]")
        lines += pending.flatMap(\.lines)
        continue
      }
      var end = lines[start...].firstIndex(where: { sectionName($0) != nil }) ?? lines.count
      var i = start
      while i < end {
        guard let key = iniKey(lines[i].trimmingWhitespace()), !isComment(lines[i]) else {
          i += 1
          continue
        }
        let last = settingEnd(lines, from: i, before: end)
        if let match = pending.firstIndex(where: { $0.key == key }) {
          let replacement = replacing(
            Array(lines[i...last]), with: pending.remove(at: match).lines, markers: markers)
          lines.replaceSubrange(i...last, with: replacement)
          end += replacement.count - (last - i + 1)
          i += replacement.count
        } else {
          i = last + 1
        }
      }
      // New keys go after the section's last non-blank line.
      var insertAt = end
      while insertAt > start, lines[insertAt - 1].trimmingWhitespace().isEmpty { insertAt -= 1 }
      lines.insert(contentsOf: pending.flatMap(\.lines), at: insertAt)
    }
    guard !lines.isEmpty else { return "" }
    return lines.joined(separator: "\n") + (finalNewline ? "\n" : "")
  }

  /// The block's settings by section, in the order the sections first appear; each is its
  /// key line (trimmed) and its continuation lines (as written).
  private static func blockSettings(_ block: String, section: String?) -> (
    order: [String?], settings: [String?: [(key: String, lines: [String])]]
  ) {
    var order: [String?] = []
    var settings: [String?: [(key: String, lines: [String])]] = [:]
    var current: String? = section
    var open: (indent: Int, section: String?)?
    for raw in block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      // A comment is never part of a value, and does not end one (as configparser reads it).
      if isComment(raw) { continue }
      let line = raw.trimmingWhitespace()
      if let owner = open, !line.isEmpty, indent(of: raw) > owner.indent {
        settings[owner.section]![settings[owner.section]!.count - 1].lines.append(raw)
        continue
      }
      open = nil
      if line.isEmpty { continue }
      if line.hasPrefix("["), line.hasSuffix("]") {
        current = String(line.dropFirst().dropLast()).trimmingWhitespace()
        continue
      }
      guard let key = iniKey(line) else { continue }
      if settings[current] == nil { order.append(current) }
      settings[current, default: []].append((key, [line]))
      open = (indent(of: raw), current)
    }
    return (order, settings)
  }

  /// The index of the last line of the setting whose key line is `lines[first]`: its last
  /// continuation line before `end`, past any comment lines between them (a blank line, a
  /// header or a line indented no deeper than the key ends it).
  static func settingEnd(_ lines: [String], from first: Int, before end: Int) -> Int {
    var last = first
    var next = first + 1
    while next < end {
      if isComment(lines[next]) {
        next += 1
        continue
      }
      guard !lines[next].trimmingWhitespace().isEmpty,
        indent(of: lines[next]) > indent(of: lines[first]), sectionName(lines[next]) == nil
      else { break }
      last = next
      next += 1
    }
    return last
  }

  /// The lines of a setting (`old`, key line first) with the block's lines `new` in their
  /// place: the key line is rewritten in the old line's format, each further line of `new`
  /// takes the place of the next old value line, and the comments between stay.
  static func replacing(_ old: [String], with new: [String], markers: Set<Unicode.Scalar>)
    -> [String]
  {
    var result: [String] = []
    var used = 0
    for line in old {
      if isComment(line) {
        result.append(line)
      } else if used < new.count {
        result.append(
          used == 0
            ? INISettingLine(line, markers: markers).replaced(
              by: INISettingLine(new[0], markers: markers))
            : new[used])
        used += 1
      }
    }
    return result + new[used...]
  }

  /// The width of a line's leading white space (a tab counts as one, as configparser does).
  private static func indent(of line: String) -> Int {
    line.prefix { $0 == " " || $0 == "\t" }.count
  }

  /// Adds `block` to `original` once, between marker lines named after `id`; a second run
  /// replaces what is between the markers, so the result is the same.
  public static func appendBlock(
    _ block: String, to original: String, id: String, comment: String = "#"
  )
    -> String
  {
    let begin = "\(comment) BEGIN RUNBOOK \(id)"
    let end = "\(comment) END RUNBOOK \(id)"
    var body = block
    if !body.isEmpty, !body.hasSuffix("\n") { body += "\n" }
    let wrapped = "\(begin)\n\(body)\(end)\n"
    var lines = original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if lines.last == "" { lines.removeLast() }
    if let first = lines.firstIndex(of: begin),
      let last = lines[first...].firstIndex(of: end)
    {
      let before = lines[..<first].joined(separator: "\n")
      let after = lines[(last + 1)...].joined(separator: "\n")
      return (before.isEmpty ? "" : before + "\n") + wrapped + (after.isEmpty ? "" : after + "\n")
    }
    var text = original
    if !text.isEmpty, !text.hasSuffix("\n") { text += "\n" }
    return text + wrapped
  }

  /// The section a header line opens, or `nil`.
  static func sectionName(_ line: String) -> String? {
    let t = line.trimmingWhitespace()
    guard t.hasPrefix("["), t.hasSuffix("]") else { return nil }
    return String(t.dropFirst().dropLast()).trimmingWhitespace()
  }

  static func isComment(_ line: String) -> Bool {
    let t = line.trimmingWhitespace()
    return t.hasPrefix("#") || t.hasPrefix(";")
  }

  /// The key of a `key = value` (or `key: value`, or bare `key`) line.
  static func iniKey(_ line: String) -> String? {
    guard !line.isEmpty, !isComment(line) else { return nil }
    let end = line.firstIndex(where: { $0 == "=" || $0 == ":" }) ?? line.endIndex
    let key = line[..<end].trimmingWhitespace()
    return key.isEmpty ? nil : key
  }
}
