import Foundation

extension KnownCommands {
  /// The word that stands for template expression number `index` of a line.
  static func templateMark(_ index: Int) -> String { "@RUNBOOK-TEMPLATE-\(index)@" }

  /// The indices of the template expressions an argument holds.
  static func templateIndices(in argument: String) -> [Int] {
    argument.matches(of: #/@RUNBOOK-TEMPLATE-([0-9]+)@/#).compactMap { Int($0.1) }
  }

  /// A line of a shell step as commands: split at `;`, `&&`, `||` and `|`, each without
  /// the prompt copied with it, `sudo` and its options, variable assignments and wrappers
  /// (`env`, `nohup`, `time`, `exec`). Template expressions are single words here, named
  /// by `templates` (their index in it, as `@RUNBOOK-TEMPLATE-n@`), so a filter's `|` is
  /// not a pipe.
  static func invocations(in line: String) -> (commands: [Invocation], templates: [String]) {
    var templates: [String] = []
    var text = line
    while let range = text.range(of: #"\{\{[^}]*\}\}"#, options: .regularExpression) {
      templates.append(String(text[range]))
      text.replaceSubrange(range, with: templateMark(templates.count - 1))
    }
    var trimmed = text.trimmingWhitespace()
    for prompt in ["$ ", "# "] where trimmed.hasPrefix(prompt) {
      trimmed = String(trimmed.dropFirst(prompt.count))
    }
    let background = trimmed.hasSuffix("&") && !trimmed.hasSuffix("&&")
    var segments: [[String]] = [[]]
    for word in trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init) {
      if word.hasPrefix("#") { break }  // a comment
      var rest = word[...]
      while let separator = rest.firstRange(of: #/(&&|\|\||;|\||&)/#) {
        let before = rest[..<separator.lowerBound]
        if !before.isEmpty { segments[segments.count - 1].append(String(before)) }
        segments.append([])
        rest = rest[separator.upperBound...]
      }
      if !rest.isEmpty { segments[segments.count - 1].append(String(rest)) }
    }
    let commands = segments.compactMap { command(of: $0[...], background: background) }
    return (commands, templates)
  }

  /// The command a segment runs, past what only sets up how it runs.
  private static func command(of words: ArraySlice<String>, background: Bool) -> Invocation? {
    var words = words
    let wrappers: Set<String> = ["env", "nohup", "time", "exec", "command", "builtin", "stdbuf"]
    while let first = words.first {
      if first == "sudo" {
        words = words.dropFirst()
        // sudo's own options, and the value of those that take one.
        while let option = words.first, option.hasPrefix("-") {
          words = words.dropFirst()
          if ["-u", "-g", "-C", "-D", "-h", "-p", "-r", "-t", "-U"].contains(option) {
            words = words.dropFirst()
          }
        }
      } else if wrappers.contains(first)
        || first.range(of: #"^[A-Za-z_][A-Za-z0-9_]*="#, options: .regularExpression) != nil
      {
        words = words.dropFirst()
      } else {
        break
      }
    }
    guard let first = words.first else { return nil }
    return Invocation(
      program: (first as NSString).lastPathComponent, arguments: Array(words.dropFirst()),
      background: background)
  }
}
