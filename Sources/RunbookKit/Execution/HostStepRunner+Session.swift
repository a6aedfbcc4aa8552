import Foundation

extension HostStepRunner {
  /// How the attempt takes part in its host's session: as its kind does, unless the step
  /// (or the whole document) is `isolated`.
  func sessionUse(_ attempt: HostAttempt) -> SessionUse {
    plan.runbook.sessionUse(attempt.step.kind, attempt.attributes)
  }

  /// The session the attempt runs in: its host's, for the user it runs as.
  func sessionKey(_ attempt: HostAttempt) -> SessionKey {
    SessionKey(host: attempt.hostName, user: attempt.runAs)
  }

  /// The input with the session around it: before the step, the lines that set up what
  /// earlier steps left (and, while the session's base is not known, that print a fresh
  /// shell's state first); after a step typed into the session, the lines that print the
  /// state it leaves.
  func withSession(_ input: ScriptInput, _ attempt: HostAttempt) async -> ScriptInput {
    let use = sessionUse(attempt)
    guard use != .none else { return input }
    let track = await context.state.session(sessionKey(attempt))
    var input = input
    var head = await clientLines(&input, attempt)
    if use == .carries, track.current == nil {
      head += ShellState.dumpScript(nonce: input.nonce, moment: .before)
    }
    input.prelude = head + track.sinceStart.restoreScript() + input.prelude
    if use == .carries {
      input.epilogue = ShellState.dumpScript(nonce: input.nonce, moment: .after)
    }
    return input
  }

  /// The SQL client the step types into (a `sql` step whose client runbook knows), and
  /// the lines that end the one its session leaves: every other step leaves it, as an
  /// operator leaves the prompt to type a command.
  private func clientLines(_ input: inout ScriptInput, _ attempt: HostAttempt) async -> String {
    let key = sessionKey(attempt)
    if attempt.step.kind == .sql, let command = clientCommand(attempt) {
      let (client, ending) = await context.state.joinClient(key, command: command)
      input.client = client
      return ending?.endScript ?? ""
    }
    return await context.state.leaveClient(key)?.endScript ?? ""
  }

  /// The `client=` command of a `sql` step when runbook can keep that client open.
  private func clientCommand(_ attempt: HostAttempt) -> String? {
    let command = attempt.fields[.client] ?? "mysql"
    return SQLClient(command) == nil ? nil : command
  }

  /// A step an earlier attempt did: its session's client is as that attempt left it (a
  /// `sql` step's open; any other step's ended).
  func rememberClient(_ attempt: HostAttempt) async {
    guard sessionUse(attempt) != .none else { return }
    await context.state.rememberClient(
      sessionKey(attempt), command: attempt.step.kind == .sql ? clientCommand(attempt) : nil)
  }

  /// Takes the states the step printed into its session and records what the step changed
  /// (only a step that passed changes it: a failed one runs again from where it started).
  /// A value under a name that says it is secret is masked from now on.
  func recordSession(_ attempt: inout HostAttempt, state text: String, passed: Bool) async {
    guard sessionUse(attempt) == .carries, let nonce = attempt.record.attemptID else { return }
    let dumps = ShellState.dumps(in: text, nonce: nonce)
    let key = sessionKey(attempt)
    guard
      let (change, from) = await context.state.advance(
        key, before: dumps[.before], after: passed ? dumps[.after] : nil,
        environment: StepScript.environment(attempt.fields[.env] ?? ""),
        exportedOnly: attempt.step.attributes.runme),
      !change.isEmpty
    else { return }
    let secrets = change.set.filter { Planner.looksSecret($0.key) }.values.flatMap {
      [$0.value] + ($0.declaration.map { [$0] } ?? [])
    }
    await context.state.learnSecrets(secrets)
    attempt.record.session = SessionRecord(
      change, from: from, user: key.user, masker: await context.state.masker, key: context.key,
      secret: Planner.looksSecret)
  }
}
