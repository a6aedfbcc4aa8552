import Foundation

/// What `plan` says of a step's part in its hosts' sessions, read from the step's text: what
/// it changes there (the directory, names it sets or unsets, files it sources, functions it
/// defines) and which names set by an earlier step on the same hosts, as the same user, it
/// uses. A reading of the text, not of a run: a name a sourced file sets is not seen.
public struct SessionNote: Sendable, Equatable {
  /// A name (or a function, as `NAME()`) a step uses, and the step that set it last.
  public struct Use: Sendable, Equatable {
    /// The name.
    public var name: String
    /// The id of the step that set it.
    public var step: String
  }

  /// What the step changes: `cd`, `+NAME`, `-NAME`, `. FILE`, `NAME()`.
  public var changes: [String] = []
  /// Names the step uses that an earlier step set.
  public var uses: [Use] = []
  /// For a `sql` step: the earlier step whose client it types into, kept open between them.
  public var client: String?
  /// The steps whose clients this step ends (on some of its hosts), as it leaves their
  /// prompt.
  public var endsClients: [String] = []

  /// Whether the note has nothing to say.
  public var isEmpty: Bool {
    changes.isEmpty && uses.isEmpty && client == nil && endsClients.isEmpty
  }

  /// The notes of the plan's steps, by step index; steps outside every session have none.
  public static func notes(of plan: Plan) -> [Int: SessionNote] {
    var notes: [Int: SessionNote] = [:]
    // What earlier steps set: per name, the step and the hosts and user it ran with.
    var setters: [(name: String, step: String, hosts: Set<String>, user: String?)] = []
    // The client each session keeps open, as exec does (`SQLClientSession`): per host and
    // user, its command and the step that opened it.
    var clients: [SessionKey: (command: String, opener: String)] = [:]
    for planned in plan.steps {
      let step = planned.step
      let use = plan.runbook.sessionUse(step.kind, step.attributes)
      guard use != .none else { continue }
      // The session's user as exec keys it (`HostAttempt.runAs`): `-` is become's root.
      let user = step.attributes.user ?? (step.attributes.become ? "-" : nil)
      let hosts = Set(planned.hosts)
      let reading = ShellReading(step.body)
      var note = SessionNote()
      let command = step.attributes.client ?? "mysql"
      let keepsClient = step.kind == .sql && SQLClient(command) != nil
      var continued: Set<String> = []
      var opened = false
      for host in planned.hosts {
        let key = SessionKey(host: host, user: user)
        let open = clients[key]
        if keepsClient, let open, open.command == command {
          continued.insert(open.opener)
          continue
        }
        // Any other step of the session leaves the client's prompt, as does a client of
        // another command.
        if let open, !note.endsClients.contains(open.opener) {
          note.endsClients.append(open.opener)
        }
        clients[key] = keepsClient ? (command, step.id) : nil
        opened = opened || keepsClient
      }
      // It types into an earlier step's client where every host of it does.
      if continued.count == 1, !opened { note.client = continued.first }
      var seen: Set<String> = []
      for name in reading.used where !seen.contains(name) && !reading.setBefore(use: name) {
        guard
          let setter = setters.last(where: {
            $0.name == name && $0.user == user && !$0.hosts.isDisjoint(with: hosts)
          })
        else { continue }
        seen.insert(name)
        note.uses.append(Use(name: name, step: setter.step))
      }
      if use == .carries {
        note.changes = reading.changes
        for name in reading.setNames {
          setters.append((name, step.id, hosts, user))
        }
      }
      if !note.isEmpty { notes[step.index] = note }
    }
    return notes
  }
}

/// A shell step's text read for what it does to a session: line by line, command by command
/// (`;`, `&&`, `||`, `|` split commands), single-quoted text left out.
struct ShellReading {
  /// What the step changes, in order, each once.
  private(set) var changes: [String] = []
  /// Names the step sets (variables, and functions as `NAME()`).
  private(set) var setNames: [String] = []
  /// Names the step uses (`$NAME`, `${NAME…}`, a command named as a function `NAME()`), in
  /// order, with the position of their first use.
  private(set) var used: [String] = []
  private var firstUse: [String: Int] = [:]
  private var firstSet: [String: Int] = [:]

  init(_ text: String) {
    var position = 0
    for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
      let line = Self.withoutSingleQuoted(String(rawLine))
      guard !line.trimmingCharacters(in: .whitespaces).hasPrefix("#") else { continue }
      for name in Self.references(in: line) { noteUse(name, at: position) }
      for command in Self.commands(in: line) {
        position += 1
        read(command, at: position)
      }
    }
  }

  /// Whether the step sets `name` before it first uses it.
  func setBefore(use name: String) -> Bool {
    guard let set = firstSet[name] else { return false }
    return set < (firstUse[name] ?? Int.max)
  }

  private mutating func noteUse(_ name: String, at position: Int) {
    if firstUse[name] == nil {
      firstUse[name] = position
      used.append(name)
    }
  }

  private mutating func noteSet(_ name: String, change: String, at position: Int) {
    if firstSet[name] == nil { firstSet[name] = position }
    if !setNames.contains(name) { setNames.append(name) }
    if !changes.contains(change) { changes.append(change) }
  }

  private mutating func read(_ command: [String], at position: Int) {
    guard let first = command.first else { return }
    let rest = Array(command.dropFirst())
    switch first {
    case "cd", "pushd", "popd":
      if !changes.contains("cd") { changes.append("cd") }
    case ".", "source":
      if let file = rest.first, !changes.contains(". \(file)") { changes.append(". \(file)") }
    case "export", "declare", "typeset", "readonly":
      for word in rest where !word.hasPrefix("-") {
        let name = String(word.prefix { $0 != "=" })
        if Template.isIdentifier(name) { noteSet(name, change: "+\(name)", at: position) }
      }
    case "unset":
      for word in rest where Template.isIdentifier(word) {
        if !changes.contains("-\(word)") { changes.append("-\(word)") }
      }
    case "function":
      if let name = rest.first.map({ String($0.prefix { $0 != "(" }) }), Template.isIdentifier(name)
      {
        noteSet(name + "()", change: name + "()", at: position)
      }
    default:
      if first.hasSuffix("()") || rest.first?.hasPrefix("()") == true {
        let name = String(first.prefix { $0 != "(" })
        if Template.isIdentifier(name) { noteSet(name + "()", change: name + "()", at: position) }
        return
      }
      // Assignments alone set the session's names; before a command they are its own.
      let assignments = command.prefix { Self.assignedName($0) != nil }
      if assignments.count == command.count {
        for word in assignments {
          let name = Self.assignedName(word)!
          noteSet(name, change: "+\(name)", at: position)
        }
      } else if let word = command.dropFirst(assignments.count).first, Template.isIdentifier(word) {
        noteUse(word + "()", at: position)
      }
    }
  }

  /// The name a word `NAME=…` assigns.
  private static func assignedName(_ word: String) -> String? {
    guard let equals = word.firstIndex(of: "=") else { return nil }
    let name = String(word[..<equals])
    return Template.isIdentifier(name) ? name : nil
  }

  /// `$NAME` and `${NAME…}` in `line`.
  private static func references(in line: String) -> [String] {
    var names: [String] = []
    var chars = Substring(line)
    while let dollar = chars.firstIndex(of: "$") {
      chars = chars[chars.index(after: dollar)...]
      if chars.first == "{" { chars = chars.dropFirst() }
      let name = chars.prefix { $0 == "_" || ($0.isASCII && ($0.isLetter || $0.isNumber)) }
      if let first = name.first, !first.isNumber { names.append(String(name)) }
      chars = chars.dropFirst(name.count)
    }
    return names
  }

  /// The commands of a line, each as its words: a word that separates commands (`;`,
  /// `&&`, `|`, `{`, `then`, …) or ends with `;` ends one.
  private static func commands(in line: String) -> [[String]] {
    let separators: Set<String> = [
      ";", "&&", "||", "|", "&", "{", "}", "(", ")", "if", "then", "elif", "else", "fi", "while",
      "until", "do", "done", "!", "time",
    ]
    var commands: [[String]] = [[]]
    for raw in words(of: line) {
      var word = raw
      if separators.contains(word) {
        commands.append([])
        continue
      }
      let ends = word.hasSuffix(";")
      if ends { word.removeLast() }
      if !word.isEmpty { commands[commands.count - 1].append(word) }
      if ends { commands.append([]) }
    }
    return commands.filter { !$0.isEmpty }
  }

  /// The line's words: blanks inside double quotes do not split one.
  private static func words(of line: String) -> [String] {
    var words: [String] = []
    var word = ""
    var quoted = false
    for c in line {
      if c == "\"" { quoted.toggle() }
      if !quoted && (c == " " || c == "\t") {
        if !word.isEmpty { words.append(word) }
        word = ""
      } else {
        word.append(c)
      }
    }
    if !word.isEmpty { words.append(word) }
    return words
  }

  /// The line without its single-quoted parts (no expansion happens there).
  private static func withoutSingleQuoted(_ line: String) -> String {
    var out = ""
    var inQuote = false
    var inDouble = false
    for c in line {
      if c == "\"" && !inQuote { inDouble.toggle() }
      if c == "'" && !inDouble {
        inQuote.toggle()
        continue
      }
      if !inQuote { out.append(c) }
    }
    return out
  }
}

extension SessionNote {
  /// Warnings for a transaction a `sql` step begins (`BEGIN`, `START TRANSACTION`, redis's
  /// `MULTI`) that is still open when its client ends: at a later step that leaves the
  /// client's prompt, or at the end of the document. The client's end rolls it back, where
  /// an operator at the prompt would have gone on to `COMMIT`.
  static func transactionWarnings(of plan: Plan, notes: [Int: SessionNote]) -> [Diagnostic] {
    var warnings: [Diagnostic] = []
    // By the step that opened the client: the step whose transaction is open in it.
    var open: [String: Step] = [:]
    func warn(_ began: Step, at line: Int, _ why: String) {
      warnings.append(
        .warning(
          plan.runbook.file, line,
          "the transaction step \(began.id) begins is still open when \(why): its client ends and the transaction is rolled back; COMMIT it in a SQL step before, or keep the steps together"
        ))
    }
    for planned in plan.steps {
      let step = planned.step
      let note = notes[step.index]
      for ended in note?.endsClients ?? [] {
        if let began = open.removeValue(forKey: ended) {
          warn(began, at: step.line, "this step comes")
        }
      }
      guard step.kind == .sql, plan.runbook.sessionUse(step.kind, step.attributes) != .none,
        SQLClient(step.attributes.client ?? "mysql") != nil
      else { continue }
      let opener = note?.client ?? step.id
      switch TransactionReading(step.body).leaves {
      case .open: open[opener] = step
      case .closed: open[opener] = nil
      case nil: break
      }
    }
    for began in open.values.sorted(by: { $0.line < $1.line }) {
      warn(began, at: began.line, "the document ends")
    }
    return warnings
  }
}

/// Whether a SQL step's statements leave a transaction open or closed (nil: they do not
/// touch one): its last transaction statement, read at the start of each statement.
struct TransactionReading {
  enum State { case open, closed }
  private(set) var leaves: State?

  private static let opens = try! NSRegularExpression(
    pattern: #"^\s*(BEGIN|MULTI)\s*$|^\s*(BEGIN\s+(WORK|TRANSACTION)|START\s+TRANSACTION)\b"#,
    options: [.caseInsensitive])
  private static let closes = try! NSRegularExpression(
    pattern: #"^\s*(COMMIT|ROLLBACK|END|ABORT|EXEC|DISCARD)\b"#, options: [.caseInsensitive])

  init(_ body: String) {
    let text = StepScript.stripPrompts(body)
    // Statements end at `;`, and redis's commands at the end of their line.
    for statement in text.split(whereSeparator: { $0 == ";" || $0 == "\n" }) {
      let line = String(statement)
      let range = NSRange(line.startIndex..., in: line)
      if Self.opens.firstMatch(in: line, range: range) != nil {
        leaves = .open
      } else if Self.closes.firstMatch(in: line, range: range) != nil {
        leaves = .closed
      }
    }
  }
}
