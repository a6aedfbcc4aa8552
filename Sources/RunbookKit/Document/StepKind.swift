/// What a step does with its block, chosen from its language and attributes.
public enum StepKind: String, Sendable, Hashable, Codable, CaseIterable {
  /// A POSIX `sh` script run with errexit.
  case shell
  /// A `bash` script run with errexit and pipefail.
  case bash
  /// A transcript: `$ `/`# ` lines are commands, the lines after them expected output.
  case console
  /// SQL statements piped to a database client (`mysql` unless `client=` says otherwise).
  case sql
  /// The block is written to `file=` as it is.
  case writeFile = "file"
  /// The block's `key = value` lines are merged into sections of the INI file `file=`.
  case iniMerge = "ini"
  /// The block is added once to `file=`, between marker lines.
  case appendBlock = "append"
  /// An action a person must take; batch runs record it as pending.
  case manual
  /// A program for another interpreter (`python`, `perl`, `ruby`, `node`, or
  /// `interpreter=`), given on its standard input; it fails by its exit status.
  case program

  /// Languages whose blocks run as shell scripts, and the kind each gets.
  static let shellLanguages: [String: StepKind] = [
    "sh": .shell, "shell": .shell, "bash": .bash,
  ]

  /// Languages run by an interpreter on the target, and the interpreter's command.
  static let interpreterLanguages: [String: String] = [
    "python": "python3", "python3": "python3", "py": "python3", "perl": "perl",
    "ruby": "ruby", "rb": "ruby", "node": "node", "javascript": "node", "js": "node",
  ]

  /// Languages that are transcripts of a terminal session.
  static let consoleLanguages: Set<String> = ["console", "shell-session"]

  /// Languages piped to a SQL client.
  static let sqlLanguages: Set<String> = ["sql", "mysql"]

  /// Whether the step changes a file rather than running a command.
  public var writesFile: Bool { self == .writeFile || self == .iniMerge || self == .appendBlock }
}
