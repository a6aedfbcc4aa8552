import Foundation

extension HostStepRunner {
  /// Runs one step on one host, with its guards, retries and checks.
  func runOnHost(
    _ planned: PlannedStep, position: Int?, override: String? = nil,
    manual: (done: Bool, note: String?)? = nil, retry: Int = 0
  ) async -> StepRecord {
    let state = context.state
    let step = planned.step
    let hostName = position.map { planned.hosts[$0] } ?? "operator"
    let captured = await state.captured(for: hostName)
    var rendered = planned.rendered(at: position ?? 0, captured: captured)
    let masker = await state.masker
    var deviation: String?
    var runbookScript: String?
    if let override, override != rendered.body {
      deviation = masker.mask(
        LineDiff.lines(TextLines.split(rendered.body), TextLines.split(override)).joined(
          separator: "\n"))
      runbookScript = masker.mask(rendered.body)
      rendered.body = override
    }
    let started = clock.now()
    let contentHash = ResumePoint.contentHash(step, rendered, masker: masker, key: context.key)
    var record = StepRecord(
      step: step.id, index: step.index, kind: step.kind, line: step.line,
      headingPath: step.headingPath, host: hostName, status: .ok, reason: nil, exitCode: nil,
      attempts: 0, startedAt: RunLayout.timestamp(started), endedAt: "", durationMs: 0,
      script: masker.mask(rendered.body), contentSHA256: contentHash, log: nil, outputBytes: 0,
      outputSHA256: Self.emptySHA, outputTail: "", outputTruncated: false)
    record.deviation = deviation
    record.runbookScript = runbookScript
    record.operatorAction = deviation == nil ? nil : .edited
    record.attempt = context.resume.attempt
    record.retry = retry > 0 ? retry : nil
    // The log is recorded once something was written to it.
    var output: OutputCollector?
    func finish(_ status: StepStatus, _ reason: String? = nil) -> StepRecord {
      if record.log != nil, output?.wroteLog != true { record.log = nil }
      let ended = clock.now()
      record.status = status
      // Reasons quote commands (`unless=`, transcripts): they are masked like everything else.
      record.reason = reason.map(masker.mask)
      record.endedAt = RunLayout.timestamp(ended)
      record.durationMs = Int((ended.timeIntervalSince(started) * 1000).rounded())
      return record
    }

    let key = ResumePoint.key(step: step.id, host: hostName)
    if deviation == nil, let done = context.resume.done[key], done.contentSHA256 == contentHash,
      done.captured?.values.contains(where: { $0.contains(SecretMasker.mask) }) != true
    {
      if let values = done.captured { await state.capture(values, host: hostName) }
      record.captured = done.captured
      let from = done.keptFrom ?? done.attempt ?? 1
      record.keptFrom = from
      return finish(.skipped, "done in attempt \(from), unchanged since: not run again")
    }
    let target = position.flatMap { p in plan.hosts.first { $0.name == planned.hosts[p] } }
    // An earlier attempt lost this step: the host says whether it finished before it runs again.
    var why: String?  // why a step an earlier attempt lost runs again, for its log
    if let lost = context.resume.lost[key], let target, !options.dryRun {
      let answer = await context.transports.transport(for: target).ask(about: lost.attemptID)
      switch answer {
      case .done(0)? where lost.contentSHA256 == contentHash && step.attributes.capture == nil:
        record.attemptID = lost.attemptID
        return finish(
          .ok,
          "finished on the host after an earlier attempt lost it (exit 0); its output after that was not received"
        )
      case nil:
        record.attemptID = lost.attemptID
        return finish(
          .unknown,
          "an earlier attempt lost this step and the host cannot be asked whether it finished; see \(stateHint(lost.attemptID)) on \(hostName)"
        )
      case .done(0)? where lost.contentSHA256 == contentHash:
        why =
          "an earlier attempt finished this step, but the output it captures was lost with the connection: it runs again"
      case .done(0)?:
        why = "an earlier attempt finished this step, but the step has changed since: it runs again"
      case .done(let rc)?:
        why =
          "an earlier attempt of this step ended with status \(rc) after its connection was lost: it runs again"
      case .gone?:
        why = "an earlier attempt of this step was killed without a status: it runs again"
      case .unknown?:
        why = "an earlier attempt lost this step before it started: it runs now"
      }
    }
    if position == nil, step.kind != .manual {
      // Its roles have no hosts (--allow-empty-roles): nothing runs anywhere.
      return finish(
        .skipped,
        "role \(step.attributes.roles.joined(separator: ", ")) has no hosts (--allow-empty-roles)")
    }
    if options.dryRun { return finish(.skipped, "dry run") }
    if step.kind == .manual {
      guard let manual else {
        return finish(.pending, "manual step: confirm it with --interactive")
      }
      record.note = manual.note.map(masker.mask)
      record.operatorAction = manual.done ? .confirmed : .declined
      return manual.done
        ? finish(.ok, "done by the operator") : finish(.pending, "not done: the operator said no")
    }
    if !rendered.pending.isEmpty {
      return finish(
        .failed,
        "captured variables have no value on this host: \(rendered.pending.joined(separator: ", "))"
      )
    }
    guard let host = target else {
      return finish(.failed, "host is not in the plan")
    }
    // A user that came from a variable is checked as it is rendered, before sudo sees it.
    if let user = rendered.fields[.user], let why = ArgumentValue.problem(user) {
      return finish(.failed, "user=\(TerminalText.visible(user)) cannot be passed to sudo: \(why)")
    }
    let transport = context.transports.transport(for: host)
    let logPath = RunLayout.logPath(
      index: step.index, step: step.id, host: hostName, attempt: context.resume.attempt,
      retry: retry)
    record.log = logPath

    let fields = rendered.fields
    let a = step.attributes
    let nonce = StepScript.makeNonce()
    record.attemptID = nonce
    do {
      try await context.journal.append(
        StartRecord(
          step: step.id, index: step.index, host: hostName, attemptID: nonce,
          contentSHA256: contentHash, startedAt: record.startedAt, log: logPath),
        durability: .withNext)
    } catch {
      // No step runs that the journal cannot say was started.
      record.log = nil
      return finish(.failed, "not started: \(error)")
    }
    let prefix = planned.hosts.count > 1 ? "[\(hostName)] " : ""
    let echo = self.echo
    let events = self.events
    // A capture into a secret makes the whole standard output secret.
    let secretCapture = a.capture.flatMap { plan.secretNames.contains($0) ? $0 : nil }
    // The host's output reaches the terminal without its escape sequences (the log keeps
    // the bytes): a host must not be able to move the cursor or rewrite what was printed.
    let collector = OutputCollector(
      logPath: options.runDirectory + "/" + logPath, masker: masker,
      hiddenPrefixes: [nonce],
      echo: events.map { e in
        { @Sendable text in e(.output(host: hostName, text: TerminalText.strip(text))) }
      }
        ?? echo.map { e in
          { @Sendable text in
            // Several lines may come at once; each gets the host prefix.
            e(
              "    " + prefix
                + ByteSearch.prefixingLines(TerminalText.strip(text), with: "    " + prefix))
          }
        },
      withholdStdout: secretCapture,
      hiddenRegion: step.kind.writesFile ? StepScript.diffRegion(nonce: nonce) : nil)
    output = collector
    if let why { collector.note("runbook: \(why)\n") }

    // The environment is one NAME=value a line: a value that rendered to several lines
    // would add variables of its own (PATH, LD_PRELOAD) and is refused.
    if let env = fields[.env] {
      let own = step.attributes.envWords ?? []
      let declared =
        plan.runbook.frontMatter.env.map(\.name)
        + own.map { String($0.prefix { $0 != "=" }) }
      let rendered = StepScript.environment(env).map(\.name)
      let lines = env.split(separator: "\n", omittingEmptySubsequences: false).count
      if rendered != declared || lines != declared.count {
        _ = collector.finish()
        let culprit = zip(declared, rendered).first { $0 != $1 }?.0 ?? declared.last ?? "?"
        return finish(
          .failed,
          "the value of env \(culprit) holds a line break, which would set other variables; give it a one-line value"
        )
      }
    }
    // Every command step knows where it is, and gets its environment and directory.
    let prelude = StepScript.prelude(
      context: [
        ("RUNBOOK_RUN_ID", context.runID),
        ("RUNBOOK_STEP", step.id), ("RUNBOOK_HOST", hostName),
        ("RUNBOOK_ROLE", step.attributes.roles.joined(separator: ",")),
      ], env: fields[.env], cwd: fields[.cwd])
    // The user it runs as, when not the connection's (`-`: root).
    let runAs = fields[.user] ?? (a.become ? "-" : nil)
    let script: StepScript
    switch await makeScript(
      planned, rendered, prelude: prelude, nonce: nonce, runAs: runAs, transport: transport,
      masker: masker, record: &record)
    {
    case .script(let made): script = made
    case .end(let status, let reason):
      _ = collector.finish()
      return finish(status, reason)
    }

    // Run, with retries.
    var outcome = CommandOutcome()
    var verdict: (StepStatus, String?) = (.ok, nil)
    let tries = a.retries + 1
    for attempt in 1...tries {
      record.attempts += 1
      if attempt > 1 {
        collector.note("--- attempt \(attempt) of \(tries) ---\n")
        try? await clock.sleep(for: a.delay)
        if Task.isCancelled { break }
      }
      collector.resetKeptStdout()
      // No step starts on a host before the record of the one before it is on disk.
      if let failure = await context.journal.durable() {
        record.attempts -= 1
        verdict = (.failed, "not started: the journal is not on disk (\(failure))")
        break
      }
      outcome = await transport.run(
        script, as: runAs, timeout: a.timeout, collector: collector)
      record.exitCode = outcome.exitStatus
      verdict = evaluate(
        step, rendered, outcome: outcome, stdout: collector.keptStdout(), nonce: nonce,
        masker: masker, record: &record)
      if verdict.0 != .failed || outcome.interrupted || Task.isCancelled { break }
    }
    var learnt: [String] = []
    if verdict.0 == .ok, let name = a.capture {
      let value = StepScript.strip(collector.keptStdout(), nonce: nonce).trimmingWhitespace()
      await state.capture([name: value], host: hostName)
      let masked = await state.masker.mask(value)
      record.captured = [name: masked]
      if secretCapture != nil { learnt.append(value) }
    }
    if let diff = record.diff {
      collector.note("--- changes to \(fields[.file] ?? "the file") ---\n" + diff + "\n")
    }
    let collected = collector.finish(secrets: learnt)
    record.outputBytes = collected.bytes
    record.outputSHA256 = collected.sha256
    record.outputTail = collected.tail
    record.outputTruncated = collected.truncatedTail

    var reason = verdict.1
    if let failure = collected.logFailure, verdict.0 == .ok || verdict.0 == .skipped {
      verdict = (.failed, "its output could not be kept: \(failure)")
      reason = verdict.1
    }
    if verdict.0 == .failed, reason == nil {
      let why = FailureReason(
        file: plan.runbook.file, scriptBodyLine: script.bodyLine, runbookBodyLine: step.bodyLine,
        bodyLines: TextLines.split(rendered.body).count,
        sameLines: deviation == nil
          && TextLines.split(rendered.body).count == TextLines.split(step.body).count,
        sql: step.kind == .sql)
      reason = why.pick(
        stderr: collected.lastErrorLines, output: Array(TextLines.split(collected.tail).suffix(40)))
    }
    return finish(verdict.0, reason)
  }

  /// Where the host keeps what it knows of a step, for messages.
  func stateHint(_ attemptID: String) -> String {
    "the lines starting '\(attemptID)' in ${TMPDIR:-/tmp}/\(SessionProtocol.stateDirectory(token: context.resume.stateToken))/\(SessionProtocol.statusFilePrefix)*"
  }
}
