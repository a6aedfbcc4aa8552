import Crypto
import Foundation

/// What `runbook exec` was asked for beyond the plan.
public struct ExecOptions: Sendable {
  /// How many hosts run a step at once.
  public var forks = 10
  /// Record failures and go on instead of stopping after the failing step.
  public var continueOnError = false
  /// Plan and record, run nothing.
  public var dryRun = false
  /// The run directory (created if needed).
  public var runDirectory: String
  /// Steps and hosts to run.
  public var selection = Selection()
  /// The ssh client settings.
  public var ssh: SSHSettings
  /// The journal of the run being resumed, read from `runDirectory`.
  public var resume = false
  /// `user@machine`.
  public var operatorName: String

  /// Creates options.
  public init(runDirectory: String, ssh: SSHSettings, operatorName: String) {
    self.runDirectory = runDirectory
    self.ssh = ssh
    self.operatorName = operatorName
  }
}

/// How a run ended.
public struct RunSummary: Sendable, Equatable {
  /// How the run ended.
  public var status: RunStatus
  /// The run directory.
  public var runDirectory: String
  /// Step×host records per status.
  public var counts: [String: Int]

  /// DESIGN.md's exit status: 0 passed, 1 a step failed, 130 interrupted.
  public var exitStatus: Int32 { status.exitCode }
}

/// Runs a plan: steps in order, each on all its hosts at once (bounded by `forks`),
/// recording every step on every host in the journal as it finishes.
public struct Executor: Sendable {
  /// The plan to run.
  public var plan: Plan
  /// The options.
  public var options: ExecOptions
  /// Starts processes.
  public var runner: any CommandRunning
  /// The clock.
  public var now: @Sendable () -> Date = { Date() }
  /// Receives progress and output lines for the terminal (already masked).
  public var echo: (@Sendable (String) -> Void)?
  /// Receives structured progress (for the terminal's live view).
  public var events: (@Sendable (RunEvent) -> Void)?
  /// Asks the operator before each step and after failures (`--interactive`).
  public var interaction: (any Interaction)?
  /// The long-lived shell of each ssh host (see `HostSession`).
  private let sessions = SessionPool()

  /// Creates an executor.
  public init(plan: Plan, options: ExecOptions, runner: any CommandRunning = SubprocessRunner()) {
    self.plan = plan
    self.options = options
    self.runner = runner
  }

  // MARK: Preflight

  /// Checks every host the selected steps touch answers, all at once; opens the ssh
  /// masters the run then reuses. Problems point at the host's inventory line.
  public func checkConnectivity(hosts names: Set<String>) async -> [Diagnostic] {
    let hosts = plan.hosts.filter { names.contains($0.name) && $0.connection == .ssh }
    return await checkEach(hosts) { host in
      let connection = HostConnection(host: host, ssh: options.ssh)
      let errors = LineBuffer()
      let outcome = await runner.run(
        connection.check, input: "", timeout: .seconds(options.ssh.connectTimeout + 5),
        stdout: { _ in }, stderr: { errors.append($0) })
      guard !outcome.succeeded else { return nil }
      let why = errors.firstLine ?? (outcome.timedOut ? "no answer in time" : "ssh failed")
      let target = host.address + (host.port.map { ":\($0)" } ?? "")
      return (
        inventoryLocation(of: host),
        "host '\(host.name)' (\(target)) does not answer over ssh: \(why)"
      )
    }
  }

  /// Checks that every host can run its `become` and `user=` steps as asked (runuser as
  /// root, `sudo -n` otherwise), all at once; each host that cannot is a problem at its
  /// inventory line (at the step without an inventory), naming a step that needs it.
  public func checkEscalation(selected: [[Int]?]) async -> [Diagnostic] {
    // Per host: the users its steps run as ("-" for root), and the first step that asks.
    var needs: [String: (users: [String], step: Step)] = [:]
    let becomes = Set(plan.hosts.filter(\.become).map(\.name))
    for (planned, positions) in zip(plan.steps, selected) {
      let a = planned.step.attributes
      // Only steps that change user are looked at (and only those with `user=` rendered).
      guard let positions, planned.step.kind != .manual,
        a.user != nil || a.become || !becomes.isEmpty
      else { continue }
      for position in positions {
        let name = planned.hosts[position]
        guard
          let user = Self.escalation(
            planned, position: position, hostBecomes: becomes.contains(name))
        else { continue }
        var entry = needs[name] ?? ([], planned.step)
        if !entry.users.contains(user) { entry.users.append(user) }
        needs[name] = entry
      }
    }
    let found = needs
    return await checkEach(plan.hosts.filter { found[$0.name] != nil }) { host in
      let (users, step) = found[host.name]!
      let connection = HostConnection(host: host, ssh: options.ssh)
      let errors = LineBuffer()
      let outcome = await runner.run(
        connection.escalationCheck(users: users), input: connection.secretInput,
        timeout: .seconds(options.ssh.connectTimeout + 10), stdout: { _ in },
        stderr: { errors.append($0) })
      guard !outcome.succeeded else { return nil }
      let location =
        plan.inventorySource == nil
        ? SourceLocation(file: plan.runbook.file, line: step.line) : inventoryLocation(of: host)
      let who = users.map { $0 == "-" ? "root" : $0 }.joined(separator: ", ")
      return (
        location,
        "host '\(host.name)' cannot run steps as \(who) (step \(step.id), line \(step.line), and any later): \(errors.firstLine ?? "sudo -n failed")"
      )
    }
  }

  /// Runs `check` on each host, at most `forks` at once; its problems as errors, in line
  /// order.
  private func checkEach(
    _ hosts: [PlanHost],
    _ check: @escaping @Sendable (PlanHost) async -> (SourceLocation, String)?
  ) async -> [Diagnostic] {
    await withTaskGroup(of: Diagnostic?.self) { group in
      var results: [Diagnostic] = []
      var started = 0
      for host in hosts {
        if started >= max(options.forks, 1), let result = await group.next(), let result {
          results.append(result)
        }
        started += 1
        group.addTask {
          await check(host).map { Diagnostic(.error, at: $0.0, $0.1) }
        }
      }
      for await result in group { if let result { results.append(result) } }
      return results.sorted { ($0.location?.line ?? 0) < ($1.location?.line ?? 0) }
    }
  }

  /// Where a host is defined: its inventory line.
  private func inventoryLocation(of host: PlanHost) -> SourceLocation {
    SourceLocation(
      file: plan.inventorySource ?? plan.runbook.file,
      line: plan.inventory?.hosts[host.name]?.line ?? 1)
  }

  /// The user a step runs as on a host when it is not the connection's (`-` for root).
  static func escalation(_ planned: PlannedStep, position: Int, hostBecomes: Bool) -> String? {
    // A user that cannot be an argument is refused by the step itself, never passed on.
    if planned.step.attributes.user != nil {
      guard let user = planned.rendered(at: position).fields[.user],
        !user.contains("{{"), ArgumentValue.problem(user) == nil
      else { return nil }
      return user
    }
    return planned.step.attributes.become || hostBecomes ? "-" : nil
  }

  /// Closes the ssh masters of the run.
  public func closeConnections() async {
    await withTaskGroup(of: Void.self) { group in
      for host in plan.hosts where host.connection == .ssh {
        group.addTask {
          guard let command = HostConnection(host: host, ssh: options.ssh).closeMaster else {
            return
          }
          _ = await runner.run(
            command, input: "", timeout: .seconds(10), stdout: { _ in }, stderr: { _ in }
          )
        }
      }
    }
  }

  // MARK: Run

  /// Runs the selected steps and writes the journal. Task cancellation (Ctrl-C, SIGTERM)
  /// stops the running commands on every host and ends the run as interrupted.
  public func run() async throws -> RunSummary {
    let fm = FileManager.default
    // Everything the tool writes in the run directory is the operator's alone (0700/0600).
    try RunDirectoryLock.makePrivateDirectory(options.runDirectory)
    try PrivateFile.makeDirectory(options.runDirectory + "/logs")
    let journalPath = options.runDirectory + "/journal.jsonl"
    var previous: [String: StepRecord] = [:]
    var lost: [String: (attemptID: String, contentSHA256: String)] = [:]
    var resumes: String?
    var stateToken = Digest.randomHex(8)
    var attempt = 1
    if options.resume, fm.fileExists(atPath: journalPath) {
      let old = try Journal.readAll(path: journalPath)
      resumes = old.run?.runID
      stateToken = old.run?.stateToken ?? stateToken
      attempt = old.attempts.count + 1
      // A step started but never recorded (the tool was killed), or recorded `unknown` (the
      // connection was lost): the host is asked what became of it before it runs again.
      var finished: Set<String> = []
      let dryRuns = Set(old.attempts.filter(\.dryRun).map { $0.attempt ?? 1 })
      for record in old.steps {
        let key = Self.resultKey(record.step, record.host)
        if let id = record.attemptID { finished.insert(id) }
        if record.status == .unknown, let id = record.attemptID {
          lost[key] = (id, record.contentSHA256)
        } else {
          lost[key] = nil
        }
        // Done: it ran and succeeded, or its guard found it done. A step the operator
        // skipped, or that an earlier attempt lost, was not done.
        let done =
          record.status == .ok
          || (record.status == .skipped && !dryRuns.contains(record.attempt ?? 1)
            && record.operatorAction == nil)
        if done {
          previous[key] = record
        } else if record.status != .skipped || record.operatorAction != nil {
          previous[key] = nil
        }
      }
      for start in old.starts where !finished.contains(start.attemptID) {
        lost[Self.resultKey(start.step, start.host)] = (start.attemptID, start.contentSHA256)
      }
    }
    let journal = try Journal(path: journalPath)
    let (selected, _) = options.selection.apply(to: plan)
    let state = RunState(masker: plan.masker, secretNames: Set(plan.secretNames))
    let context = RunContext(
      journal: journal, stateToken: stateToken, key: try RunKey.load(token: stateToken),
      previous: previous, lost: lost, attempt: attempt)

    let runID = URL(fileURLWithPath: options.runDirectory).lastPathComponent
    // Each attempt keeps the runbook as it ran, for reports and audits; no file an earlier
    // record hashes is ever written again.
    let runbookBytes = fm.contents(atPath: plan.runbook.file) ?? Data(plan.runbook.source.utf8)
    let snapshot = RunReport.snapshotName(attempt: attempt)
    try PrivateFile.write(runbookBytes, to: options.runDirectory + "/" + snapshot)
    var runRecord = RunRecord(
      runID: runID, runbook: plan.runbook.file, title: plan.runbook.title,
      runbookSHA256: Digest.sha256(runbookBytes),
      inventory: plan.inventorySource,
      inventorySHA256: plan.inventorySource.flatMap { Digest.sha256(file: $0) },
      operatorName: options.operatorName, toolVersion: RunbookVersion.current,
      startedAt: Self.timestamp(now()),
      variables: plan.variableValues.mapValues(plan.masker.mask),
      stepCount: plan.steps.count, hosts: plan.hosts.map(\.name), dryRun: options.dryRun,
      resumes: resumes, selectedSteps: selected.indices.filter { selected[$0] != nil })
    runRecord.stateToken = stateToken
    runRecord.attempt = attempt
    runRecord.snapshot = snapshot
    runRecord.interactive = interaction != nil
    runRecord.roleHosts = Self.roleHosts(plan)
    var definitions: [String: String] = [:]
    for (name, value) in plan.globalVariables where plan.variableValues[name] != value.rendered {
      definitions[name] = plan.masker.mask(value.rendered)
    }
    runRecord.variableDefinitions = definitions.isEmpty ? nil : definitions
    try await journal.append(runRecord)

    var latest: [String: StepStatus] = [:]
    var failures = 0
    var stopped: RunStatus?
    let total = selected.compactMap { $0 }.count
    var ordinal = 0
    var askBeforeSteps = interaction != nil
    stepLoop: for (index, planned) in plan.steps.enumerated() {
      guard let positions = selected[index] else { continue }
      if Task.isCancelled {
        stopped = .interrupted
        break
      }
      ordinal += 1
      let step = planned.step
      let hostNames = positions.map { planned.hosts[$0] }
      echo?(
        "==> [\(ordinal)/\(total)] \(step.id) (\(step.kind.rawValue), line \(step.line)) on "
          + (hostNames.isEmpty ? "the operator" : hostNames.joined(separator: ", ")))
      events?(.stepStarted(ordinal: ordinal, total: total, step: step, hosts: hostNames))

      func record(_ records: [StepRecord]) async throws {
        for record in records {
          try await journal.append(record)
          events?(.hostFinished(record))
          latest["\(record.index)/\(record.host)"] = record.status
          let mark = record.status.rawValue + (record.changed == true ? " (changed)" : "")
          echo?(
            "    \(record.host): \(mark)\(record.reason.map { " — \($0)" } ?? "") [\(record.durationMs) ms]"
          )
          if record.status == .interrupted { stopped = .interrupted }
        }
      }

      // Interactive: the operator sees the step first, and may skip, edit or quit.
      var override: String?
      // Only an interactive run renders the step for the operator, and not a step that an
      // earlier attempt did on every host (it does not run; there is nothing to decide).
      var prompt: StepPrompt?
      if interaction != nil {
        let done =
          !positions.isEmpty
          ? await allDone(planned, positions: positions, state: state, context: context) : false
        if !done {
          prompt = await self.prompt(
            planned, positions: positions, state: state, ordinal: ordinal, total: total)
        }
      }
      if let interaction, let prompt, step.kind == .manual, !options.dryRun {
        guard let answer = await interaction.confirmManual(prompt) else {
          stopped = .interrupted
          break stepLoop
        }
        try await record(
          await runStep(
            planned, positions: positions, state: state, context: context, manual: answer))
        continue
      }
      if let interaction, let prompt, askBeforeSteps {
        switch await interaction.beforeStep(prompt) {
        case .run: break
        case .runAll: askBeforeSteps = false
        case .edit(let text): override = text
        case .quit:
          stopped = .interrupted
          break stepLoop
        case .skip:
          let masker = await state.masker
          try await record(
            (positions.isEmpty ? [nil] : positions.map { Optional($0) }).map {
              skippedRecord(planned, position: $0, attempt: attempt, masker: masker)
            })
          continue
        }
      }

      var records = await runStep(
        planned, positions: positions, state: state, context: context, override: override)
      try await record(records)
      if stopped != nil { break }
      func failedHosts() -> [String] {
        records.filter(\.status.failsStep).map(\.host)
      }
      // Interactive: after a failure, retry only the hosts that failed, or look around.
      if let interaction, let prompt, !step.attributes.allowFail {
        var retries = 0
        while !failedHosts().isEmpty, !Task.isCancelled {
          let failed = failedHosts()
          switch await interaction.afterFailure(prompt, failed: failed) {
          case .retry:
            let again = positions.filter { failed.contains(planned.hosts[$0]) }
            retries += 1
            let retried = await runStep(
              planned, positions: again, state: state, context: context, override: override,
              retry: retries)
            try await record(retried)
            records = records.filter { !failed.contains($0.host) } + retried
            if stopped != nil { break stepLoop }
          case .shell(let host):
            if let target = plan.hosts.first(where: { $0.name == host }) {
              await interaction.openShell(
                HostConnection(host: target, ssh: options.ssh).interactiveShell)
            }
          case .skip:
            records = records.filter { !failed.contains($0.host) }
            failures += 1
          case .quit:
            stopped = .interrupted
            break stepLoop
          }
        }
        continue
      }
      if !failedHosts().isEmpty, !step.attributes.allowFail {
        failures += 1
        if !options.continueOnError {
          stopped = .failed
          break
        }
      }
    }
    var counts: [String: Int] = [:]
    for status in latest.values { counts[status.rawValue, default: 0] += 1 }
    let status =
      stopped
      ?? (options.dryRun ? .dryRun : (failures > 0 ? .failed : .passed))
    // The hosts keep what they know of the steps only while some step's end is not known
    // here: an unknown status, or a step lost by an earlier attempt that did not get to run.
    await sessions.closeAll(
      forget: !latest.values.contains(.unknown) && (context.lost.isEmpty || status == .passed))
    try await journal.append(
      RunEndRecord(status: status, endedAt: Self.timestamp(now()), counts: counts))
    await journal.close()
    return RunSummary(status: status, runDirectory: options.runDirectory, counts: counts)
  }

  /// Whether an earlier attempt did this step, unchanged, on every one of its hosts.
  private func allDone(
    _ planned: PlannedStep, positions: [Int], state: RunState, context: RunContext
  ) async -> Bool {
    guard !context.previous.isEmpty else { return false }
    let masker = await state.masker
    for position in positions {
      let host = planned.hosts[position]
      let rendered = planned.rendered(at: position, captured: await state.captured(for: host))
      guard let done = context.previous[Self.resultKey(planned.step.id, host)],
        done.contentSHA256
          == Self.contentHash(planned.step, rendered, masker: masker, key: context.key)
      else { return false }
    }
    return true
  }

  /// Runs one step on its hosts, at most `forks` at once (one at a time when `serial`).
  private func runStep(
    _ planned: PlannedStep, positions: [Int], state: RunState, context: RunContext,
    override: String? = nil, manual: (done: Bool, note: String?)? = nil, retry: Int = 0
  ) async -> [StepRecord] {
    if positions.isEmpty {
      // A manual step without a role concerns the operator, not a host.
      return [
        await runOnHost(
          planned, position: nil, state: state, context: context, override: override,
          manual: manual, retry: retry)
      ]
    }
    let width = planned.step.attributes.serial ? 1 : max(options.forks, 1)
    return await withTaskGroup(of: (Int, StepRecord).self) { group in
      var results: [(Int, StepRecord)] = []
      var next = 0
      for (order, position) in positions.enumerated() {
        if next >= width, let done = await group.next() { results.append(done) }
        next += 1
        group.addTask {
          (
            order,
            await runOnHost(
              planned, position: position, state: state, context: context, override: override,
              manual: manual, retry: retry)
          )
        }
      }
      for await done in group { results.append(done) }
      return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
  }

  /// Runs one step on one host, with its guards, retries and checks.
  private func runOnHost(
    _ planned: PlannedStep, position: Int?, state: RunState, context: RunContext,
    override: String? = nil, manual: (done: Bool, note: String?)? = nil, retry: Int = 0
  ) async -> StepRecord {
    let step = planned.step
    let hostName = position.map { planned.hosts[$0] } ?? "operator"
    let captured = await state.captured(for: hostName)
    var rendered = planned.rendered(at: position ?? 0, captured: captured)
    let masker = await state.masker
    var deviation: String?
    var runbookScript: String?
    if let override, override != rendered.body {
      deviation = masker.mask(
        LineDiff.lines(Self.lines(rendered.body), Self.lines(override)).joined(separator: "\n"))
      runbookScript = masker.mask(rendered.body)
      rendered.body = override
    }
    let started = now()
    let contentHash = Self.contentHash(step, rendered, masker: masker, key: context.key)
    var record = StepRecord(
      step: step.id, index: step.index, kind: step.kind, line: step.line,
      headingPath: step.headingPath, host: hostName, status: .ok, reason: nil, exitCode: nil,
      attempts: 0, startedAt: Self.timestamp(started), endedAt: "", durationMs: 0,
      script: masker.mask(rendered.body), contentSHA256: contentHash, log: nil, outputBytes: 0,
      outputSHA256: Self.emptySHA, outputTail: "", outputTruncated: false)
    record.deviation = deviation
    record.runbookScript = runbookScript
    record.operatorAction = deviation == nil ? nil : .edited
    record.attempt = context.attempt
    record.retry = retry > 0 ? retry : nil
    // The log is recorded once something was written to it.
    var output: OutputCollector?
    func finish(_ status: StepStatus, _ reason: String? = nil) -> StepRecord {
      if record.log != nil, output?.wroteLog != true { record.log = nil }
      let ended = now()
      record.status = status
      // Reasons quote commands (`unless=`, transcripts): they are masked like everything else.
      record.reason = reason.map(masker.mask)
      record.endedAt = Self.timestamp(ended)
      record.durationMs = Int((ended.timeIntervalSince(started) * 1000).rounded())
      return record
    }

    let key = Self.resultKey(step.id, hostName)
    if deviation == nil, let done = context.previous[key], done.contentSHA256 == contentHash,
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
    if let lost = context.lost[key], let target, !options.dryRun {
      let connection = HostConnection(host: target, ssh: options.ssh)
      let answer = await session(for: connection, context).query(lost.attemptID)
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
          "an earlier attempt lost this step and the host cannot be asked whether it finished; see \(Self.stateHint(context, lost.attemptID)) on \(hostName)"
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
    let connection = HostConnection(host: host, ssh: options.ssh)
    let logPath = Self.logPath(
      index: step.index, step: step.id, host: hostName, attempt: context.attempt, retry: retry)
    record.log = logPath

    let fields = rendered.fields
    let a = step.attributes
    let nonce = StepScript.makeNonce()
    record.attemptID = nonce
    try? await context.journal.append(
      StartRecord(
        step: step.id, index: step.index, host: hostName, attemptID: nonce,
        contentSHA256: contentHash, startedAt: record.startedAt, log: logPath), durable: false)
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
      hiddenRegion: step.kind.writesFile ? ("\(nonce) diff", "\(nonce) changed") : nil)
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
        ("RUNBOOK_RUN_ID", URL(fileURLWithPath: options.runDirectory).lastPathComponent),
        ("RUNBOOK_STEP", step.id), ("RUNBOOK_HOST", hostName),
        ("RUNBOOK_ROLE", step.attributes.roles.joined(separator: ",")),
      ], env: fields[.env], cwd: fields[.cwd])
    // File merges read the file first (guards included), then write like a file step.
    var script: StepScript
    switch step.kind {
    case .iniMerge, .appendBlock:
      let path = fields[.file] ?? ""
      let fetchCollector = OutputCollector(
        logPath: nil, masker: masker, hiddenPrefixes: [], echo: nil)
      let fetch = await execute(
        StepScript.fetch(path, creates: fields[.creates], unless: fields[.unless], nonce: nonce),
        on: connection, context: context, become: a.become, user: fields[.user],
        timeout: a.timeout, collector: fetchCollector)
      let fetched = fetchCollector.finish()
      record.attempts = 1
      if !fetch.succeeded {
        record.exitCode = fetch.exitStatus
        _ = collector.finish()
        return finish(
          Self.status(of: fetch),
          "cannot read \(path): "
            + (fetched.firstErrorLines.first ?? "exit \(fetch.exitStatus ?? -1)"))
      }
      if let skip = Self.skipReason(
        fetched.stdout, nonce: nonce, creates: fields[.creates], unless: fields[.unless])
      {
        _ = collector.finish()
        return finish(.skipped, skip)
      }
      if fetched.stdoutTruncated {
        _ = collector.finish()
        return finish(
          .failed,
          "\(path) is larger than \(OutputCollector.keptStdoutLimit) bytes; merge it with a shell step"
        )
      }
      if fetched.stdout.hasPrefix("\(nonce) missing"), step.kind == .iniMerge, !a.create {
        _ = collector.finish()
        return finish(
          .failed,
          "\(path) does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)"
        )
      }
      let marker = "\(nonce) content\n"
      let current =
        fetched.stdout.hasPrefix(marker) ? String(fetched.stdout.dropFirst(marker.count)) : ""
      let merged =
        step.kind == .iniMerge
        ? FileEdit.mergeINI(rendered.body, into: current, section: a.section)
        : FileEdit.appendBlock(rendered.body, to: current, id: step.id)
      script = StepScript.writeFile(
        path, content: merged, mode: a.mode, owner: fields[.owner], nonce: nonce)
      record.attempts = 0  // reading the file is not an attempt at the step
    case .writeFile:
      script = StepScript.writeFile(
        fields[.file] ?? "", content: rendered.body, mode: a.mode, owner: fields[.owner],
        creates: fields[.creates], unless: fields[.unless], nonce: nonce)
    case .console:
      script = StepScript.console(
        ConsoleTranscript(rendered.body), prelude: prelude, creates: fields[.creates],
        unless: fields[.unless], nonce: nonce)
    case .sql:
      script = StepScript.sql(
        rendered.body, client: fields[.client], prelude: prelude, creates: fields[.creates],
        unless: fields[.unless], nonce: nonce)
    case .program:
      script = StepScript.program(
        rendered.body,
        interpreter: a.interpreter ?? StepKind.interpreterLanguages[step.language.lowercased()]
          ?? "python3",
        prelude: prelude, creates: fields[.creates], unless: fields[.unless], nonce: nonce)
    case .shell, .bash, .manual:
      script = StepScript.shell(
        rendered.body, bash: step.kind == .bash, prelude: prelude, creates: fields[.creates],
        unless: fields[.unless], nonce: nonce)
    }

    // Run, with retries.
    var outcome = CommandOutcome()
    var verdict: (StepStatus, String?) = (.ok, nil)
    let tries = a.retries + 1
    for attempt in 1...tries {
      record.attempts += 1
      if attempt > 1 {
        collector.note("--- attempt \(attempt) of \(tries) ---\n")
        try? await Task.sleep(for: a.delay)
        if Task.isCancelled { break }
      }
      collector.resetKeptStdout()
      outcome = await execute(
        script, on: connection, context: context, become: a.become, user: fields[.user],
        timeout: a.timeout, collector: collector)
      record.exitCode = outcome.exitStatus
      verdict = evaluate(
        step, rendered, outcome: outcome, stdout: collector.keptStdout(), nonce: nonce,
        masker: masker, record: &record)
      if verdict.0 != .failed || outcome.interrupted || Task.isCancelled { break }
    }
    var learnt: [String] = []
    if verdict.0 == .ok, let name = a.capture {
      let value = Self.strip(collector.keptStdout(), nonce: nonce).trimmingWhitespace()
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
    if verdict.0 == .failed, reason == nil {
      let why = FailureReason(
        file: plan.runbook.file, scriptBodyLine: script.bodyLine, runbookBodyLine: step.bodyLine,
        bodyLines: Self.lines(rendered.body).count,
        sameLines: deviation == nil
          && Self.lines(rendered.body).count == Self.lines(step.body).count,
        sql: step.kind == .sql)
      reason = why.pick(
        stderr: collected.lastErrorLines, output: Array(Self.lines(collected.tail).suffix(40)))
    }
    return finish(verdict.0, reason)
  }

  /// Runs a script on a host through the host's session, whose stop kills exactly the
  /// step's process group.
  private func execute(
    _ script: StepScript, on connection: HostConnection, context: RunContext, become: Bool,
    user: String?, timeout: Duration?, collector: OutputCollector
  ) async -> CommandOutcome {
    let runner = self.runner
    let stop = connection.stop(
      stateToken: context.stateToken, nonce: script.nonce, become: become || user != nil)
    return await session(for: connection, context).run(
      script, command: connection.shellWords(script.shell, become: become, user: user),
      timeout: timeout, collector: collector,
      stop: {
        _ = await runner.run(
          stop, input: connection.secretInput, timeout: .seconds(10), stdout: { _ in },
          stderr: { _ in })
      })
  }

  private func session(for connection: HostConnection, _ context: RunContext) -> HostSession {
    sessions.session(for: connection) {
      connection.session(stateToken: context.stateToken)
    }
  }

  /// Where the host keeps what it knows of a step, for messages.
  static func stateHint(_ context: RunContext, _ attemptID: String) -> String {
    "the lines starting '\(attemptID)' in ${TMPDIR:-/tmp}/runbook-state-\(context.stateToken)/status-*"
  }

  /// Reads the result of a run of a step: status and reason, and file diffs and console
  /// mismatches into the record.
  private func evaluate(
    _ step: Step, _ rendered: RenderedStep, outcome: CommandOutcome, stdout: String, nonce: String,
    masker: SecretMasker, record: inout StepRecord
  ) -> (StepStatus, String?) {
    if outcome.interrupted { return (.interrupted, "stopped by the operator") }
    if outcome.timedOut {
      return (.timeout, "stopped after \(step.attributes.timeout.map { "\($0.seconds)" } ?? "?")s")
    }
    if let error = outcome.launchError { return (.failed, "cannot start: \(error)") }
    switch outcome.lost {
    case .gone?:
      return (.failed, "the connection was lost, and the step's processes ended without a status")
    case .neverStarted?:
      return (.failed, "the connection was lost before the step started")
    case .unknown?:
      return (
        .unknown,
        "the connection was lost and the host cannot be asked whether the step finished; --resume asks again"
      )
    case nil:
      break
    }
    if let skip = Self.skipReason(
      stdout, nonce: nonce, creates: rendered.fields[.creates], unless: rendered.fields[.unless])
    {
      return (.skipped, skip)
    }
    if step.kind == .console {
      let transcript = ConsoleTranscript(rendered.body)
      let outputs = Self.consoleOutputs(stdout, nonce: nonce)
      for (i, command) in transcript.commands.enumerated() {
        guard i < outputs.count else {
          return (.failed, "console: '\(masker.mask(command.command))' did not run")
        }
        let (lines, status) = outputs[i]
        if status != command.expectedStatus || !ConsoleTranscript.matches(lines, command.expected) {
          var diff = ["$ " + command.command] + LineDiff.lines(command.expected, lines)
          if status != command.expectedStatus {
            diff.append("exit status \(status), expected \(command.expectedStatus)")
          }
          record.mismatch = masker.mask(diff.joined(separator: "\n"))
          return (
            .failed,
            "console: output of '\(masker.mask(command.command))' differs from the transcript"
          )
        }
      }
      return (.ok, nil)
    }
    if let code = outcome.exitStatus, code != 0 { return (.failed, nil) }
    if let signal = outcome.signal { return (.failed, "killed by signal \(signal)") }
    if step.kind.writesFile {
      if stdout.contains("\(nonce) unchanged") {
        record.changed = false
      } else if let diffStart = stdout.range(of: "\(nonce) diff\n") {
        let rest = stdout[diffStart.upperBound...]
        let diff = rest.range(of: "\(nonce) changed").map { rest[..<$0.lowerBound] } ?? rest
        record.changed = true
        record.diff = masker.maskDiff(String(diff))
      }
    }
    if let pattern = rendered.fields[.expect] {
      let text = Self.strip(stdout, nonce: nonce)
      if text.range(of: pattern, options: .regularExpression) == nil {
        record.mismatch = "output does not match expect=\(masker.mask(pattern))"
        return (.failed, "output does not match expect=\(masker.mask(pattern))")
      }
    }
    return (.ok, nil)
  }

  // MARK: Interactive

  /// What the operator sees before a step.
  private func prompt(
    _ planned: PlannedStep, positions: [Int], state: RunState, ordinal: Int, total: Int
  ) async -> StepPrompt {
    let first = positions.first ?? 0
    let host = positions.first.map { planned.hosts[$0] } ?? "operator"
    let rendered = planned.rendered(at: first, captured: await state.captured(for: host))
    return StepPrompt(
      ordinal: ordinal, total: total, step: planned.step,
      hosts: positions.map { planned.hosts[$0] },
      script: await state.masker.mask(rendered.body), rawScript: rendered.body,
      distinctRenderings: planned.distinctRenderings)
  }

  /// The record of a step the operator chose not to run.
  private func skippedRecord(
    _ planned: PlannedStep, position: Int?, attempt: Int, masker: SecretMasker
  ) -> StepRecord {
    let step = planned.step
    let now = Self.timestamp(self.now())
    let body = planned.rendered(at: position ?? 0).body
    var record = StepRecord(
      step: step.id, index: step.index, kind: step.kind, line: step.line,
      headingPath: step.headingPath, host: position.map { planned.hosts[$0] } ?? "operator",
      status: .skipped, reason: "skipped by the operator", exitCode: nil, attempts: 0,
      startedAt: now, endedAt: now, durationMs: 0, script: masker.mask(body),
      contentSHA256: "", log: nil, outputBytes: 0, outputSHA256: Self.emptySHA, outputTail: "",
      outputTruncated: false)
    record.operatorAction = .skipped
    record.attempt = attempt
    return record
  }

  /// Where each combination of roles runs, as positions in the plan's hosts.
  static func roleHosts(_ plan: Plan) -> [String: [Int]] {
    var position: [String: Int] = [:]
    for (i, host) in plan.hosts.enumerated() where position[host.name] == nil {
      position[host.name] = i
    }
    var map: [String: [Int]] = [:]
    for planned in plan.steps {
      let key = planned.step.attributes.roles.joined(separator: " ")
      if map[key] == nil { map[key] = planned.hosts.compactMap { position[$0] } }
    }
    return map
  }

  /// The key of a step's result on a host across attempts: the step's id (an edit that
  /// inserts a step does not move the others' results), and the host.
  static func resultKey(_ step: String, _ host: String) -> String { step + "\u{0}" + host }

  static func lines(_ text: String) -> [String] {
    var parts = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if parts.last == "" { parts.removeLast() }
    return parts
  }

  // MARK: Helpers

  static func status(of outcome: CommandOutcome) -> StepStatus {
    outcome.interrupted ? .interrupted : outcome.timedOut ? .timeout : .failed
  }

  static func skipReason(_ stdout: String, nonce: String, creates: String?, unless: String?)
    -> String?
  {
    if stdout.contains("\(nonce) skip creates") { return "\(creates ?? "path") exists (creates)" }
    if stdout.contains("\(nonce) skip unless") { return "'\(unless ?? "")' succeeded (unless)" }
    return nil
  }

  /// Standard output without control lines.
  static func strip(_ stdout: String, nonce: String) -> String {
    stdout.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix(nonce) }.joined(separator: "\n")
  }

  /// Each console command's output lines and exit status, from the marker lines.
  static func consoleOutputs(_ stdout: String, nonce: String) -> [([String], Int32)] {
    var results: [([String], Int32)] = []
    var current: [String]?
    for line in stdout.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("\(nonce) begin ") {
        current = []
      } else if let marker = line.range(of: "\(nonce) end "), var lines = current {
        // Output without a final newline runs into the marker: keep its text.
        if marker.lowerBound > line.startIndex { lines.append(String(line[..<marker.lowerBound])) }
        let status = Int32(line[marker.upperBound...].split(separator: " ").last ?? "") ?? -1
        results.append((lines, status))
        current = nil
      } else if current != nil {
        current!.append(String(line))
      }
    }
    return results
  }

  static let emptySHA = Digest.sha256(Data())

  /// What `--resume` compares: a SHA-256 of the rendered step, keyed with the run's key
  /// when the text holds a secret (so the journal is no oracle for guessing it).
  static func contentHash(_ step: Step, _ rendered: RenderedStep, masker: SecretMasker, key: RunKey)
    -> String
  {
    var text = step.kind.rawValue + "\u{0}" + rendered.body
    for field in StepField.allCases { text += "\u{0}" + (rendered.fields[field] ?? "") }
    if masker.mask(text) != text { return key.hash(Data(text.utf8)) }
    return Digest.sha256(Data(text.utf8))
  }

  static func timestamp(_ date: Date) -> String {
    date.formatted(Self.timestampStyle)
  }

  private static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

  /// The log of a step on a host, relative to the run directory: one file per attempt and
  /// retry, so no log a record hashes is ever written again.
  static func logPath(index: Int, step: String, host: String, attempt: Int = 1, retry: Int = 0)
    -> String
  {
    String(format: "logs/%03d-%@", index + 1, step) + "/" + fileName(host)
      + (attempt > 1 ? ".attempt-\(attempt)" : "") + (retry > 0 ? ".retry-\(retry)" : "") + ".log"
  }

  /// A host name safe as a file name; a name that had to change gets a short hash of
  /// itself, so `a/b` and `a_b` never share a log.
  static func fileName(_ name: String) -> String {
    let safe = String(
      name.map { $0.isASCII && ($0.isLetter || $0.isNumber || "._-".contains($0)) ? $0 : "_" })
    guard safe != name || safe.hasPrefix(".") else { return safe }
    return safe + "-" + Digest.sha256(Data(name.utf8)).prefix(8)
  }
}

/// Values captured so far, per host, and the masker that hides secret ones.
actor RunState {
  private(set) var masker: SecretMasker
  private let secretNames: Set<String>
  private var values: [String: [String: String]] = [:]
  /// The latest value of each name on any host, for hosts that did not run the capture.
  private var latest: [String: String] = [:]

  init(masker: SecretMasker, secretNames: Set<String>) {
    self.masker = masker
    self.secretNames = secretNames
  }

  /// A host's own captured values over those captured elsewhere.
  func captured(for host: String) -> [String: String] {
    latest.merging(values[host] ?? [:]) { $1 }
  }

  func capture(_ new: [String: String], host: String) {
    values[host, default: [:]].merge(new) { $1 }
    latest.merge(new) { $1 }
    let secret = new.filter { secretNames.contains($0.key) }.map(\.value)
    if !secret.isEmpty { masker = SecretMasker(values: masker.secrets + secret) }
  }
}

/// Collects the first line of standard error of a short command.
final class LineBuffer: @unchecked Sendable {
  private let lock = NSLock()
  private var bytes: [UInt8] = []

  func append(_ chunk: [UInt8]) { lock.withLock { if bytes.count < 4096 { bytes += chunk } } }

  var firstLine: String? {
    lock.withLock {
      String(decoding: bytes, as: UTF8.self).split(separator: "\n").first.map {
        String($0).trimmingWhitespace()
      }
    }
  }
}

/// The sessions of a run, one per host, opened on first use.
final class SessionPool: @unchecked Sendable {
  // `sessions` is only touched under `lock`.
  private let lock = NSLock()
  private var sessions: [String: HostSession] = [:]

  func session(for connection: HostConnection, launch: () -> ProcessCommand) -> HostSession {
    lock.withLock {
      if let existing = sessions[connection.host.name] { return existing }
      let session = HostSession(connection: connection, launch: launch())
      sessions[connection.host.name] = session
      return session
    }
  }

  func closeAll(forget: Bool) async {
    let all = lock.withLock {
      defer { sessions = [:] }
      return Array(sessions.values)
    }
    await withTaskGroup(of: Void.self) { group in
      for session in all { group.addTask { await session.close(forget: forget) } }
    }
  }
}

/// What every step of one run shares: the journal, the hosts' state directory, the key for
/// content hashes, and what earlier attempts did.
struct RunContext: Sendable {
  let journal: Journal
  let stateToken: String
  let key: RunKey
  /// Records of steps done in earlier attempts, by step id and host.
  let previous: [String: StepRecord]
  /// Steps an earlier attempt lost (killed tool, lost connection), by step id and host.
  let lost: [String: (attemptID: String, contentSHA256: String)]
  /// This attempt's number.
  let attempt: Int
}
