/// A value a Runme block asks the operator for (Runme's `promptEnv`): a top-level
/// `export NAME=VALUE` line of a shell block. A quoted value is a default; an unquoted one
/// is the question, and the operator must supply the value (`--var NAME=…`, or at the
/// terminal when `exec` starts).
public struct PromptedVariable: Sendable, Equatable {
  /// The variable (and environment variable) name.
  public var name: String
  /// The quoted value: used when nothing else sets the variable.
  public var defaultValue: String?
  /// The unquoted value: Runme shows it as the question; there is no default.
  public var question: String?
  /// The line of the `export`.
  public var line: Int

  /// Creates a prompted variable.
  public init(name: String, defaultValue: String?, question: String?, line: Int) {
    self.name = name
    self.defaultValue = defaultValue
    self.question = question
    self.line = line
  }

  /// The `export` lines of a shell body that Runme would prompt for, and the body with each
  /// such value replaced by `{{ NAME | quote }}`. A value that is a shell expression (it
  /// holds `$`, a backquote or a quote inside) is the script's own and is left alone.
  static func extract(from body: String, firstLine: Int) -> (String, [PromptedVariable]) {
    var prompts: [PromptedVariable] = []
    var continued = false
    let lines = body.split(separator: "\n", omittingEmptySubsequences: false).enumerated().map {
      offset, text -> String in
      defer { continued = text.hasSuffix("\\") }
      guard !continued, text.hasPrefix("export "),
        let found = parse(text.dropFirst(7), line: firstLine + offset),
        !prompts.contains(where: { $0.name == found.name })
      else { return String(text) }
      prompts.append(found)
      return "export \(found.name)={{ \(found.name) | quote }}"
    }
    return (lines.joined(separator: "\n"), prompts)
  }

  private static func parse(_ assignment: Substring, line: Int) -> PromptedVariable? {
    let text = assignment.trimmingWhitespace()
    guard let equals = text.firstIndex(of: "="), Template.isIdentifier(text[..<equals]) else {
      return nil
    }
    let name = String(text[..<equals])
    let value = text[text.index(after: equals)...]
    guard !value.contains("$"), !value.contains("`") else { return nil }
    if let quote = value.first, quote == "\"" || quote == "'" {
      let inner = value.dropFirst()
      guard inner.last == quote, !inner.dropLast().contains(quote), !inner.contains("\\") else {
        return nil
      }
      return PromptedVariable(
        name: name, defaultValue: String(inner.dropLast()), question: nil, line: line)
    }
    guard !value.contains("\""), !value.contains("'"), !value.contains(";") else { return nil }
    return PromptedVariable(name: name, defaultValue: nil, question: String(value), line: line)
  }
}
