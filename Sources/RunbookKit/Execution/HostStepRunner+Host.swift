import Foundation

extension HostStepRunner {
  /// Runs one step on one host, in stages: resume decision → preconditions → start record
  /// → script → run with retries → evaluate → record.
  func runOnHost(
    _ planned: PlannedStep, position: Int?, override: String? = nil,
    manual: (done: Bool, note: String?)? = nil, retry: Int = 0
  ) async -> StepRecord {
    var attempt = await beginAttempt(
      planned, position: position, override: override, retry: retry)
    let target = position.flatMap { p in plan.hosts.first { $0.name == planned.hosts[p] } }
    let note: String?
    switch await resumeDecision(&attempt, on: target) {
    case .finished(let verdict):
      await rememberClient(attempt)
      return attempt.finish(verdict, at: clock.now())
    case .run(let why): note = why
    }
    if let verdict = preconditions(&attempt, target: target, manual: manual) {
      return attempt.finish(verdict, at: clock.now())
    }
    guard let host = target else {
      return attempt.finish(StepVerdict(.failed, "host is not in the plan"), at: clock.now())
    }
    if let verdict = await recordStart(&attempt, retry: retry) {
      return attempt.finish(verdict, at: clock.now())
    }
    let collector = makeCollector(for: attempt)
    attempt.output = collector
    if let note { collector.note("runbook: \(note)\n") }
    if let verdict = environmentProblem(attempt) {
      _ = collector.finish()
      return attempt.finish(verdict, at: clock.now())
    }
    let transport = context.transports.transport(for: host)
    let runAs = attempt.runAs
    let input = await withSession(scriptInput(attempt), attempt)
    let masker = attempt.masker
    let timeout = attempt.attributes.timeout
    let access = HostAccess { script in
      let fetchCollector = OutputCollector(
        logPath: nil, masker: masker, hiddenPrefixes: [], echo: nil)
      let outcome = await transport.run(
        script, as: runAs, timeout: timeout, collector: fetchCollector)
      return (outcome, fetchCollector.finish())
    }
    switch await attempt.step.kind.handler.script(input, on: access) {
    case .end(let verdict, let exitCode):
      // The kind looked at the host once and ended the step there.
      attempt.record.attempts = 1
      attempt.record.exitCode = exitCode
      _ = collector.finish()
      return attempt.finish(verdict, at: clock.now())
    case .script(let script):
      let run = await runWithRetries(
        script, &attempt, transport: transport, runAs: runAs, collector: collector)
      let verdict = await recordOutput(&attempt, run: run, script: script, collector: collector)
      return attempt.finish(verdict, at: clock.now())
    }
  }

  /// Why the step does not run on this host, before anything is sent to it: no host for
  /// its roles, a dry run, a manual step, a value only a failed step could give, a user
  /// sudo must not see.
  func preconditions(
    _ attempt: inout HostAttempt, target: PlanHost?, manual: (done: Bool, note: String?)?
  ) -> StepVerdict? {
    let step = attempt.step
    if attempt.position == nil, step.kind != .manual {
      // Its roles have no hosts (--allow-empty-roles): nothing runs anywhere.
      return StepVerdict(
        .skipped,
        "role \(step.attributes.roles.joined(separator: ", ")) has no hosts (--allow-empty-roles)")
    }
    if options.dryRun { return StepVerdict(.skipped, "dry run") }
    if step.kind == .manual {
      guard let manual else {
        return StepVerdict(.pending, "manual step: confirm it with --interactive")
      }
      attempt.record.note = manual.note.map(attempt.masker.mask)
      attempt.record.operatorAction = manual.done ? .confirmed : .declined
      return manual.done
        ? StepVerdict(.ok, "done by the operator")
        : StepVerdict(.pending, "not done: the operator said no")
    }
    if !attempt.rendered.pending.isEmpty {
      return StepVerdict(
        .failed,
        "captured variables have no value on this host: \(attempt.rendered.pending.joined(separator: ", "))"
      )
    }
    // A user that came from a variable is checked as it is rendered, before sudo sees it.
    if let user = attempt.fields[.user], let why = ArgumentValue.problem(user) {
      return StepVerdict(
        .failed, "user=\(TerminalText.visible(user)) cannot be passed to sudo: \(why)")
    }
    return nil
  }

  /// Gives the attempt its log and marker and journals its start; no step runs that the
  /// journal cannot say was started.
  func recordStart(_ attempt: inout HostAttempt, retry: Int) async -> StepVerdict? {
    let step = attempt.step
    let logPath = RunLayout.logPath(
      index: step.index, step: step.id, host: attempt.hostName, attempt: context.resume.attempt,
      retry: retry)
    let nonce = StepScript.makeNonce()
    attempt.record.log = logPath
    attempt.record.attemptID = nonce
    do {
      try await context.journal.append(
        StartRecord(
          step: step.id, index: step.index, host: attempt.hostName, attemptID: nonce,
          contentSHA256: attempt.contentHash, startedAt: attempt.record.startedAt, log: logPath),
        durability: .withNext)
      return nil
    } catch {
      attempt.record.log = nil
      return StepVerdict(.failed, "not started: \(error)")
    }
  }

  /// The collector of the step's output on the host: its log, and the terminal (without
  /// escape sequences: a host must not move the cursor or rewrite what was printed).
  func makeCollector(for attempt: HostAttempt) -> OutputCollector {
    let hostName = attempt.hostName
    let nonce = attempt.record.attemptID ?? ""
    let prefix = attempt.planned.hosts.count > 1 ? "[\(hostName)] " : ""
    let echo = self.echo
    let terminal: (@Sendable (String) -> Void)? =
      events.map { e in
        { @Sendable text in e(.output(host: hostName, text: TerminalText.strip(text))) }
      }
      ?? echo.map { e in
        { @Sendable text in
          // Several lines may come at once; each gets the host prefix.
          e(
            "    " + prefix
              + ByteSearch.prefixingLines(TerminalText.strip(text), with: "    " + prefix))
        }
      }
    return OutputCollector(
      logPath: options.runDirectory + "/" + (attempt.record.log ?? ""), masker: attempt.masker,
      hiddenPrefixes: [nonce], echo: terminal,
      withholdStdout: secretCapture(of: attempt.step),
      hiddenRegion: attempt.step.kind.writesFile ? StepScript.diffRegion(nonce: nonce) : nil,
      stateRegion: sessionUse(attempt) == .carries ? ShellState.region(nonce: nonce) : nil)
  }

  /// The name the step captures into when it is a secret: its whole output is then secret.
  func secretCapture(of step: Step) -> String? {
    step.attributes.capture.flatMap { plan.secretNames.contains($0) ? $0 : nil }
  }

  /// The environment is one NAME=value a line: a value that rendered to several lines
  /// would add variables of its own (PATH, LD_PRELOAD) and is refused.
  func environmentProblem(_ attempt: HostAttempt) -> StepVerdict? {
    guard let env = attempt.fields[.env] else { return nil }
    let own = attempt.attributes.envWords ?? []
    let declared =
      plan.runbook.frontMatter.env.map(\.name) + own.map { String($0.prefix { $0 != "=" }) }
    let rendered = StepScript.environment(env).map(\.name)
    let lines = env.split(separator: "\n", omittingEmptySubsequences: false).count
    guard rendered != declared || lines != declared.count else { return nil }
    let culprit = zip(declared, rendered).first { $0 != $1 }?.0 ?? declared.last ?? "?"
    return StepVerdict(
      .failed,
      "the value of env \(culprit) holds a line break, which would set other variables; give it a one-line value"
    )
  }

  /// What the step's kind writes its script from: every command step knows where it is,
  /// and gets its environment and directory.
  func scriptInput(_ attempt: HostAttempt) -> ScriptInput {
    let step = attempt.step
    let prelude = StepScript.prelude(
      context: [
        ("RUNBOOK_RUN_ID", context.runID),
        ("RUNBOOK_STEP", step.id), ("RUNBOOK_HOST", attempt.hostName),
        ("RUNBOOK_ROLE", step.attributes.roles.joined(separator: ",")),
      ], env: attempt.fields[.env], cwd: attempt.fields[.cwd],
      runmeDirectories: plan.runbook.runmeDirectories(
        of: step, cell: attempt.fields[.cwd],
        local: plan.hosts.first { $0.name == attempt.hostName }?.connection == .local))
    return ScriptInput(
      step: step, rendered: attempt.rendered, prelude: prelude,
      nonce: attempt.record.attemptID ?? "")
  }
}
