/// Hugo's TOML front matter (between `+++` lines), read as the YAML that says the same,
/// line for line so that messages keep the file's lines: `[table]` headers, and
/// `key = value` with a string, a number, a boolean, a date or a one-line array. What else
/// TOML has (multi-line strings, dotted keys, inline tables, arrays of tables) is refused
/// with its line, naming the YAML to write instead.
enum TOMLFrontMatter {
  /// A line that cannot be read (an error), or a table left out (a note); 0-based within
  /// the front matter.
  struct Problem: Equatable {
    var lineOffset: Int
    var message: String
    var isError = true
  }

  /// The tables runbook reads; others (Hugo's `[params]`, `[[menu.main]]`) are a site's.
  static let tables: Set<String> = ["vars", "roles", "env", "runme"]

  /// The YAML lines for `lines`, and the lines that cannot be read.
  static func yaml(_ lines: [Substring]) -> (lines: [String], problems: [Problem]) {
    var out: [String] = []
    var problems: [Problem] = []
    var indent = ""
    var skipping = false
    for (offset, raw) in lines.enumerated() {
      let line = raw.trimmingWhitespace()
      if line.hasPrefix("[") {
        let name = line.drop { $0 == "[" }.prefix { $0 != "]" }
        skipping = line.hasPrefix("[[") || !tables.contains(String(name))
        if skipping {
          problems.append(
            Problem(
              lineOffset: offset,
              message: "table \(line) is not runbook's: kept and ignored", isError: false))
          out.append("")
        } else {
          out.append("\(name):")
          indent = "  "
        }
        continue
      }
      if skipping || line.isEmpty || line.hasPrefix("#") {
        out.append("")
        continue
      }
      guard let equals = line.firstIndex(of: "=") else {
        problems.append(
          Problem(lineOffset: offset, message: "'\(line)' is not 'key = value'"))
        out.append("")
        continue
      }
      var key = line[..<equals].trimmingWhitespace()
      let value = line[line.index(after: equals)...].trimmingWhitespace()
      if key.count >= 2, key.hasPrefix("\""), key.hasSuffix("\"") {
        key = String(key.dropFirst().dropLast())
      }
      if let why = problem(key: key, value: value) {
        problems.append(Problem(lineOffset: offset, message: why))
        out.append("")
        continue
      }
      // TOML's basic and literal strings, arrays, numbers and booleans are YAML as written.
      out.append("\(indent)\(yamlKey(key)): \(value)")
    }
    return (out, problems)
  }

  /// Why `key = value` is not read, or nil.
  private static func problem(key: String, value: String) -> String? {
    if key.contains(".") {
      return
        "dotted key '\(key)' is not read; write it under a [table] header, or use YAML between '---' lines"
    }
    if value.hasPrefix("\"\"\"") || value.hasPrefix("'''") {
      return "multi-line strings are not read in TOML front matter; use YAML between '---' lines"
    }
    if value.hasPrefix("{") {
      return
        "inline table of '\(key)' is not read; write it as a [\(key)] table, or use YAML between '---' lines"
    }
    if value.hasPrefix("["), !value.hasSuffix("]") {
      return "the array of '\(key)' must be on one line"
    }
    if value.isEmpty { return "'\(key)' has no value" }
    return nil
  }

  private static func isBareKey<S: StringProtocol>(_ key: S) -> Bool {
    !key.isEmpty && key.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }
  }

  /// A key as YAML reads it back unchanged.
  private static func yamlKey(_ key: String) -> String {
    isBareKey(key) ? key : "\"" + key.replacingOccurrences(of: "\"", with: "\\\"") + "\""
  }
}
