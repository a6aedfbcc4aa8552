import Foundation

/// What a shell session holds between steps on one host, as one user: the working
/// directory, the variables and, under bash, the functions, as a step's shell printed them.
///
/// Steps run in fresh shells; the session is carried by reading this state after a step
/// (`StepScript.stateDump`) and setting it up again before the next (`ShellStateChange`'s
/// restore script), as if the steps had been typed into one terminal.
public struct ShellState: Sendable, Equatable {
  /// The working directory.
  public var cwd: String?
  /// The variables, by name, without the shell's own and the tool's.
  public var variables: [String: ShellVariable] = [:]
  /// bash's functions, by name: each its definition as `declare -f` prints it.
  public var functions: [String: String] = [:]
  /// The directory a step's `cwd=` took it to: the step's own, which the session does not
  /// keep unless the step went on from there.
  var stepDirectory: String?
  /// Whether bash printed the state: a POSIX shell cannot see functions and arrays.
  var seesBashState = true

  /// This state, printed by a shell that cannot see bash's functions and arrays, with
  /// those of `previous` kept: a `sh` step between two `bash` steps removes none of them.
  func keepingUnseen(from previous: ShellState) -> ShellState {
    guard !seesBashState else { return self }
    var state = self
    state.functions = previous.functions
    for (name, variable) in previous.variables where variable.declaration != nil {
      if state.variables[name] == nil { state.variables[name] = variable }
    }
    state.seesBashState = true
    return state
  }

  /// A state.
  public init(
    cwd: String? = nil, variables: [String: ShellVariable] = [:], functions: [String: String] = [:]
  ) {
    self.cwd = cwd
    self.variables = variables
    self.functions = functions
  }

  /// The state with `change` made to it.
  public func applying(_ change: ShellStateChange) -> ShellState {
    var state = self
    if let cwd = change.cwd { state.cwd = cwd }
    for name in change.unset { state.variables[name] = nil }
    state.variables.merge(change.set) { $1 }
    for name in change.removedFunctions { state.functions[name] = nil }
    state.functions.merge(change.functions) { $1 }
    return state
  }

  /// Names a step's shell sets for itself, or the tool does: never carried. Only what a
  /// step may set is carried; what the shell keeps up to date (`PWD`, `RANDOM`, `SHLVL`)
  /// or the tool sets for each step (`RUNBOOK_STEP`) is not.
  static func isCarried(_ name: String) -> Bool {
    guard isShellName(name), !shellOwn.contains(name) else { return false }
    return !ownPrefixes.contains { name.hasPrefix($0) }
  }

  /// The names `isCarried` refuses, as a shell `case` pattern (for the exported playbook's
  /// session, which a shell keeps on the host).
  static var ownNamesPattern: String {
    (shellOwn.sorted() + ownPrefixes.map { $0 + "*" }).joined(separator: "|")
  }

  private static let ownPrefixes = ["BASH", "RUNBOOK_", "runbook_", "COMP_"]

  /// A name a shell takes for a variable: ASCII letters, digits and `_`, not starting with
  /// a digit (bytes: this runs for every variable after every step).
  private static func isShellName(_ name: String) -> Bool {
    func isLetter(_ byte: UInt8) -> Bool {
      (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: "_")
    }
    guard let first = name.utf8.first, isLetter(first) else { return false }
    return name.utf8.allSatisfy {
      isLetter($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
    }
  }

  private static let shellOwn: Set<String> = [
    "_", "PWD", "OLDPWD", "SHLVL", "SHELLOPTS", "PPID", "RANDOM", "SRANDOM", "SECONDS", "LINENO",
    "EPOCHREALTIME", "EPOCHSECONDS", "UID", "EUID", "GROUPS", "FUNCNAME", "PIPESTATUS", "HISTCMD",
    "DIRSTACK", "OPTIND", "OPTARG", "OPTERR", "IFS", "PS1", "PS2", "PS4", "HOSTNAME", "HOSTTYPE",
    "MACHTYPE", "OSTYPE", "COLUMNS", "LINES",
  ]
}

/// One variable of a session.
public struct ShellVariable: Sendable, Equatable, Codable {
  /// Its value (an array's first element: the declaration holds the rest).
  public var value: String
  /// Whether it is exported (programs the steps start see it).
  public var exported: Bool
  /// An array's declaration as bash prints it, which only bash reads back.
  public var declaration: String?

  /// A variable.
  public init(_ value: String, exported: Bool = false, declaration: String? = nil) {
    self.value = value
    self.exported = exported
    self.declaration = declaration
  }
}

/// What a step changed in its session, or what a run's steps changed since the session
/// began: the restore script of a later step makes the same change to a fresh shell.
public struct ShellStateChange: Sendable, Equatable {
  /// The new working directory, when it changed.
  public var cwd: String?
  /// Variables set or changed.
  public var set: [String: ShellVariable] = [:]
  /// Variables unset.
  public var unset: Set<String> = []
  /// Functions defined or redefined.
  public var functions: [String: String] = [:]
  /// Functions removed.
  public var removedFunctions: Set<String> = []

  /// A change.
  public init(
    cwd: String? = nil, set: [String: ShellVariable] = [:], unset: Set<String> = [],
    functions: [String: String] = [:], removedFunctions: Set<String> = []
  ) {
    self.cwd = cwd
    self.set = set
    self.unset = unset
    self.functions = functions
    self.removedFunctions = removedFunctions
  }

  /// Whether nothing changed.
  public var isEmpty: Bool {
    cwd == nil && set.isEmpty && unset.isEmpty && functions.isEmpty && removedFunctions.isEmpty
  }

  /// What changed from `old` to `new`.
  public static func between(_ old: ShellState, _ new: ShellState) -> ShellStateChange {
    var change = ShellStateChange()
    if new.cwd != old.cwd { change.cwd = new.cwd }
    for (name, variable) in new.variables where old.variables[name] != variable {
      change.set[name] = variable
    }
    change.unset = Set(old.variables.keys.filter { new.variables[$0] == nil })
    for (name, definition) in new.functions where old.functions[name] != definition {
      change.functions[name] = definition
    }
    change.removedFunctions = Set(old.functions.keys.filter { new.functions[$0] == nil })
    return change
  }

  /// This change, then `next`.
  public func then(_ next: ShellStateChange) -> ShellStateChange {
    var change = self
    if let cwd = next.cwd { change.cwd = cwd }
    for name in next.unset {
      change.set[name] = nil
      change.unset.insert(name)
    }
    for (name, variable) in next.set {
      change.set[name] = variable
      change.unset.remove(name)
    }
    for name in next.removedFunctions {
      change.functions[name] = nil
      change.removedFunctions.insert(name)
    }
    for (name, definition) in next.functions {
      change.functions[name] = definition
      change.removedFunctions.remove(name)
    }
    return change
  }

  /// Shell lines that make this change to a fresh shell: POSIX for the directory and the
  /// variables, and, read only by bash, its functions and arrays. A directory that is gone
  /// fails the step, saying so, as a terminal would leave the operator nowhere; an
  /// operator's own shell (`staysOpen`) says so and stays where it is.
  public func restoreScript(staysOpen: Bool = false) -> String {
    var text = ""
    if let cwd {
      let word = ShellQuote.word(cwd)
      text +=
        "cd -- \(word) || { printf '%s\\n' \"runbook: the session's directory \"\(word)\" is gone\" >&2; \(staysOpen ? ":" : "exit 1"); }\n"
    }
    for name in unset.sorted() { text += "unset \(name) 2>/dev/null || :\n" }
    var bashOnly = ""
    for (name, variable) in set.sorted(by: { $0.key < $1.key }) {
      if let declaration = variable.declaration {
        bashOnly += declaration + "\n"
        continue
      }
      text += (variable.exported ? "export " : "") + "\(name)=\(ShellQuote.word(variable.value))\n"
    }
    for name in removedFunctions.sorted() { bashOnly += "unset -f \(name)\n" }
    for (_, definition) in functions.sorted(by: { $0.key < $1.key }) {
      bashOnly += definition + (definition.hasSuffix("\n") ? "" : "\n")
    }
    if !bashOnly.isEmpty {
      text += "if [ -n \"${BASH_VERSION:-}\" ]; then eval \(ShellQuote.word(bashOnly)); fi\n"
    }
    return text
  }
}
