/// What a step does with its block, chosen from its language and attributes: the name of
/// a kind, as journals and reports record it. What each kind does is its handler's (one
/// file per kind in this folder, listed in `StepKinds.all`).
public struct StepKind: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
  /// The name journals record (`shell`, `file`, `ini`…).
  public let rawValue: String

  /// The kind named `rawValue`; a journal may name a kind this build does not know.
  public init(rawValue: String) { self.rawValue = rawValue }

  /// Reads the name a journal wrote.
  public init(from decoder: any Decoder) throws {
    rawValue = try decoder.singleValueContainer().decode(String.self)
  }

  /// Writes the name.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }

  /// The name.
  public var description: String { rawValue }

  /// Whether the step changes a file rather than running a command.
  public var writesFile: Bool { handler.writesFile }

  /// What does steps of this kind; a kind this build does not know (an old journal's)
  /// runs nothing: it is a manual step.
  var handler: any StepKindHandler { StepKinds.handler(for: self) ?? ManualStep() }
}

extension StepKind {
  /// Languages whose blocks run as shell scripts, and the kind each gets.
  static let shellLanguages: [String: StepKind] = [
    "sh": .shell, "shell": .shell, "bash": .bash,
    // VS Code's name, which Runme's editor writes.
    "shellscript": .shell,
  ]

  /// Languages run by an interpreter on the target, and the interpreter's command.
  static let interpreterLanguages: [String: String] = [
    "python": "python3", "python3": "python3", "py": "python3", "perl": "perl",
    "ruby": "ruby", "rb": "ruby", "node": "node", "javascript": "node", "js": "node",
    "zsh": "zsh", "ksh": "ksh", "fish": "fish",
  ]
}
