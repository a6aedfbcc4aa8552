/// The file edits of `ini` and `append` steps, computed on the current text of the file.
public enum FileEdit {
  /// Merges the `key = value` lines of `block` into `original`, section by section.
  ///
  /// Keys that exist are replaced in place (first occurrence; later duplicates and
  /// commented-out `#key = …` lines are left alone), new keys are added at the end of their
  /// section, new sections at the end of the file. A setting is its key line and the
  /// continuation lines under it (indented deeper, as `configparser` and systemd read
  /// them), in the block and in the file alike. Every line the merge does not replace —
  /// comments, blank lines, order, indentation, the final newline or its absence — stays
  /// byte for byte. Lines of the block before any `[section]` header go to `section` (or to
  /// the top of the file, before the first header, when there is none).
  public static func mergeINI(_ block: String, into original: String, section: String?) -> String {
    var lines =
      original.isEmpty
      ? [] : original.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let finalNewline = original.isEmpty || original.hasSuffix("\n")
    if original.hasSuffix("\n") { lines.removeLast() }

    // The block's settings in order, grouped by section, each with its continuation lines.
    var order: [String?] = []
    var settings: [String?: [(key: String, lines: [String])]] = [:]
    var current: String? = section
    var open: (indent: Int, section: String?)?
    for raw in block.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
      let line = raw.trimmingWhitespace()
      if let owner = open, !line.isEmpty, indent(of: raw) > owner.indent {
        settings[owner.section]![settings[owner.section]!.count - 1].lines.append(raw)
        continue
      }
      open = nil
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line.hasPrefix("["), line.hasSuffix("]") {
        current = String(line.dropFirst().dropLast()).trimmingWhitespace()
        continue
      }
      guard let key = iniKey(line) else { continue }
      if settings[current] == nil { order.append(current) }
      settings[current, default: []].append((key, [line]))
      open = (indent(of: raw), current)
    }

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
        let text = lines[i]
        guard let key = iniKey(text.trimmingWhitespace()), !isComment(text) else {
          i += 1
          continue
        }
        // The setting's continuation lines belong to it.
        var last = i
        while last + 1 < end, !lines[last + 1].trimmingWhitespace().isEmpty,
          indent(of: lines[last + 1]) > indent(of: text), sectionName(lines[last + 1]) == nil
        {
          last += 1
        }
        if let match = pending.firstIndex(where: { $0.key == key }) {
          let replacement = pending[match].lines
          pending.remove(at: match)
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
