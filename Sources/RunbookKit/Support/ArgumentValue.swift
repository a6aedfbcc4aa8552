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
}
