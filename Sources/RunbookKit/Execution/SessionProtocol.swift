/// The words of the protocol between the tool and the session loop a host runs
/// (`Scripts/session-loop.sh`, described at `HostSession`): the one place they are
/// spelled. They fill the loop's placeholders, and the tool writes its messages and reads
/// the loop's answers with them, so both sides always agree.
enum SessionProtocol {
  /// The lines the loop prints for the tool: `RUNBOOK-<WORD>-<key> fields…`.
  enum Marker: String, CaseIterable, Sendable {
    case done = "DONE"
    case started = "STARTED"
    case state = "STATE"
    case session = "SESSION"

    /// What starts the line, before the session key.
    var prefix: String { "RUNBOOK-\(rawValue)-" }
  }

  /// The first word of a message to the loop.
  enum Verb: String, CaseIterable, Sendable {
    /// A step whose script follows the message.
    case begin = "RUNBOOK-BEGIN"
    /// A step whose script the tool has written to the session's file itself.
    case run = "RUNBOOK-RUN"
    /// What became of a step (`QUERY <nonce>`).
    case query = "RUNBOOK-QUERY"
    /// The end of the session, its state directory removed.
    case forget = "RUNBOOK-FORGET"
  }

  /// Words of a step's message before the step's command.
  enum Option: String, CaseIterable, Sendable {
    /// Tell the tool when the step has started (it is timed from there).
    case timed = "RUNBOOK-TIMED"
    /// The become password follows (with its length in bytes as the next word).
    case password = "RUNBOOK-PW"
    /// The step names its shell's pid: it gets a shell of its own.
    case ownShell = "RUNBOOK-OWN"
    /// The step runs as another user (the next words: the user or `-`, then the shell).
    case asUser = "RUNBOOK-AS"
  }

  /// What a step is, on the loop's status file: `<nonce> started PGID LOOP`, `<nonce> done RC`.
  enum StatusWord: String, CaseIterable, Sendable {
    case started
    case done
  }

  /// Ends a step's script when its message is not counted: the word, then the nonce.
  static let scriptEnd = "RUNBOOK-END-"
  /// The loop's first answer, after `SESSION-<key>`: ready, and whether counted.
  static let ready = "ready"
  /// After `ready`: every later message is eight digits of its length, then the message.
  static let counted = "counted"
  /// After `SESSION-<key>`: the loop cannot start (the reason follows).
  static let failed = "failed"
  /// What a step nonce starts with (the rest is random).
  static let noncePrefix = "RUNBOOK-"

  /// The name of a run's state directory on a host (in its `$TMPDIR`, or `/tmp`).
  static func stateDirectory(token: String) -> String { "runbook-state-\(token)" }
  /// What the name of a loop's status file starts with, in the state directory (the loop's
  /// pid follows): its `StatusWord` lines.
  static let statusFilePrefix = "status-"
  /// What the name of a session's script file starts with, in the state directory (digits
  /// and `.sh` follow): the loop takes a file so named, written by the tool, as its own.
  static let scriptFilePrefix = "step-"

  /// The values of the protocol's placeholders in the scripts.
  static let words: [String: String] = {
    var words = [
      "SESSION": Marker.session.prefix, "STATE": Marker.state.prefix,
      "STARTED": Marker.started.prefix, "DONE": Marker.done.prefix,
      "QUERY": Verb.query.rawValue, "BEGIN": Verb.begin.rawValue, "RUN": Verb.run.rawValue,
      "FORGET": Verb.forget.rawValue, "END": scriptEnd,
      "TIMED": Option.timed.rawValue, "PASSWORD": Option.password.rawValue,
      "OWN_SHELL": Option.ownShell.rawValue, "AS_USER": Option.asUser.rawValue,
      "READY": ready, "COUNTED": counted, "FAILED": failed,
      "STATUS_FILE": statusFilePrefix, "SCRIPT_FILE": scriptFilePrefix,
      "STEP_STARTED": StatusWord.started.rawValue, "STEP_DONE": StatusWord.done.rawValue,
    ]
    for answer in Answer.allCases {
      words["ANSWER_\(answer.rawValue.uppercased())"] = answer.rawValue
    }
    return words
  }()

  /// The protocol words `template` uses, for `ScriptTemplate.filled`.
  static func words(of template: ScriptTemplate) -> [String: String] {
    let names = Set(template.placeholders)
    return words.filter { names.contains($0.key) }
  }

  // MARK: Writing

  /// The words before the script of a step: how it runs (`command`: its shell, perhaps
  /// after `AS user` or `OWN`).
  static func command(shell: String, user: String?, escalated: Bool, ownShell: Bool) -> [String] {
    escalated
      ? [Option.asUser.rawValue, user ?? "-", shell]
      : ownShell ? [Option.ownShell.rawValue, shell] : [shell]
  }

  /// Whether a step run by `command` may need the become password.
  static func needsPassword(_ command: [String]) -> Bool {
    command.first == Option.asUser.rawValue
  }

  /// The first line of a step's message (with its line break), without its verb's script.
  static func stepLine(
    _ verb: Verb, nonce: String, timed: Bool, passwordBytes: Int?, command: [String]
  ) -> String {
    let words =
      [verb.rawValue, nonce] + (timed ? [Option.timed.rawValue] : [])
      + (passwordBytes.map { [Option.password.rawValue, String($0)] } ?? []) + command
    return words.joined(separator: " ") + "\n"
  }

  /// The line that ends the script of the step `nonce` when messages are not counted.
  static func endLine(nonce: String) -> String { scriptEnd + nonce + "\n" }

  /// The message that asks what became of the step `nonce`.
  static func queryLine(nonce: String) -> String { "\(Verb.query.rawValue) \(nonce)\n" }

  /// The message that ends the session and removes its state directory.
  static let forgetLine = Verb.forget.rawValue + "\n"

  // MARK: Reading

  /// The loop's answers to a query (after `STATE-<key> <nonce>`).
  enum Answer: String, CaseIterable, Sendable {
    case done
    case gone
    case unknown
  }

  /// Whether the fields of a `SESSION` line say the loop is ready, and counts messages.
  static func readiness(_ fields: [String]) -> (ready: Bool, counted: Bool) {
    (fields.first == ready, fields.dropFirst().contains(counted))
  }

  /// What a `STATE` line's fields after the nonce say of the step; nil when they say
  /// nothing the tool knows.
  static func remoteState(_ fields: ArraySlice<String>) -> RemoteState? {
    switch fields.first.flatMap(Answer.init(rawValue:)) {
    case .done?:
      let rest = fields.dropFirst()
      return .done(rest.first.flatMap { Int32($0) } ?? -1)
    case .gone?: return .gone
    case .unknown?: return .unknown
    case nil: return nil
    }
  }
}
