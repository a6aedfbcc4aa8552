/// A value the tool hands to a program on the control machine or a host as one argument
/// (an ssh host, user or key; a sudo user): it must stay one argument and never be read as
/// an option.
enum ArgumentValue {
  /// Why `value` cannot be such an argument, or nil when it can.
  static func problem(_ value: String) -> String? {
    if value.isEmpty { return "it is empty" }
    if value.hasPrefix("-") { return "it starts with '-', which would be read as an option" }
    if value.unicodeScalars.contains(where: {
      $0.properties.generalCategory == .control || $0.properties.isWhitespace
    }) {
      return "it contains white space or a control character"
    }
    return nil
  }

  /// Characters a shell, a template engine or a quoted string would read as syntax.
  static let syntax: Set<Character> = [
    "'", "\"", "`", "$", "\\", "{", "}", "(", ")", "<", ">", ";", "|", "&", "*", "?", "!", "#",
    "~", "^",
  ]

  /// Why `value` cannot be a name (a host's inventory name, a remote user): it holds a
  /// character a shell or a template would read as syntax. A name is spliced into more
  /// places than an argument: scripts, an exported playbook's expressions, file names.
  static func nameProblem(_ value: String) -> String? {
    guard let found = value.first(where: syntax.contains) else { return nil }
    return "it contains '\(found)', which a shell or a template would read as syntax"
  }

  /// Why `value` cannot be a connection value: it holds template syntax (`{{`, `{%`,
  /// `{#`), which another tool reading the same inventory (Ansible) would evaluate.
  static func templateProblem(_ value: String) -> String? {
    for marker in ["{{", "{%", "{#"] where value.contains(marker) {
      return "it contains '\(marker)': template syntax is not a host's value"
    }
    return nil
  }
}
