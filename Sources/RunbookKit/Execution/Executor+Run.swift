import Foundation

extension Executor {
  /// Runs the selected steps and writes the journal. Task cancellation (Ctrl-C, SIGTERM)
  /// stops the running commands on every host and ends the run as interrupted.
  public func run() async throws -> RunSummary {
    let selected = options.selected ?? plan.steps.map { Array($0.hosts.indices) }
    let context = try await openRun(selected: selected)
    let loop = await runSteps(selected: selected, context: context)
    return try await endRun(loop, context: context)
  }

  /// Makes the run directory private, reads what an earlier attempt did, and journals
  /// this attempt's start.
  private func openRun(selected: [[Int]?]) async throws -> RunContext {
    // Everything the tool writes in the run directory is the operator's alone (0700/0600).
    try RunDirectoryLock.makePrivateDirectory(options.runDirectory)
    try PrivateFile.makeDirectory(options.runDirectory + "/logs")
    let journalPath = options.runDirectory + "/journal.jsonl"
    let resume =
      options.resume && FileManager.default.fileExists(atPath: journalPath)
      ? try ResumePoint(journal: journalPath) : ResumePoint()
    let journal = try Journal(path: journalPath)
    let key = try RunKey.load(token: resume.stateToken)
    let sessions = resume.sessionChanges(key: key)
    if !sessions.lost.isEmpty {
      echo?(
        "runbook: what earlier steps left in these sessions was sealed with another machine's key and is not restored: "
          + sessions.lost.joined(separator: ", "))
    }
    let context = RunContext(
      journal: journal,
      transports: TransportPool(
        context: TransportContext(
          runner: runner, ssh: options.ssh, stateToken: resume.stateToken, clock: clock),
        make: makeTransport),
      key: key, resume: resume,
      state: RunState(
        masker: plan.masker, secretNames: Set(plan.secretNames), sessions: sessions.changes),
      runID: URL(fileURLWithPath: options.runDirectory).lastPathComponent)
    try await journal.append(try runRecord(context, selected: selected))
    return context
  }

  /// The selected steps in order, until one stops the run.
  private func runSteps(selected: [[Int]?], context: RunContext) async -> StepLoop {
    let hostRunner = HostStepRunner(executor: self, context: context)
    let driver = interaction.map { InteractiveDriver(interaction: $0, runner: hostRunner) }
    let record = journaling(into: context.journal)
    var loop = StepLoop()
    let total = selected.compactMap { $0 }.count
    var ordinal = 0
    for (index, planned) in plan.steps.enumerated() {
      guard let positions = selected[index] else { continue }
      if Task.isCancelled {
        loop.stopped = .interrupted
        break
      }
      ordinal += 1
      let step = planned.step
      let hostNames = positions.map { planned.hosts[$0] }
      echo?(
        "==> [\(ordinal)/\(total)] \(step.id) (\(step.kind.rawValue), line \(step.line)) on "
          + (hostNames.isEmpty ? "the operator" : hostNames.joined(separator: ", ")))
      events?(.stepStarted(ordinal: ordinal, total: total, step: step, hosts: hostNames))
      let outcome: StepOutcome
      do {
        outcome = try await runOne(
          planned, positions: positions, ordinal: ordinal, total: total, driver: driver,
          hostRunner: hostRunner, record: record)
      } catch {
        // The record of what ran cannot be kept (a full disk): nothing more may run.
        let failure = "the journal could not be written: \(error)"
        loop.journalFailure = failure
        echo?("    \(failure); the run stops here")
        loop.stopped = .failed
        break
      }
      for r in outcome.records { loop.latest["\(r.index)/\(r.host)"] = r.status }
      if outcome.failed { loop.failures += 1 }
      if let stop = outcome.stop {
        loop.stopped = stop
        break
      }
    }
    return loop
  }

  /// Journals a step's records as they come and shows them; says whether one was
  /// interrupted. A record the journal cannot take ends the run (the call throws).
  private func journaling(into journal: Journal) -> @Sendable ([StepRecord]) async throws -> Bool {
    let echo = self.echo
    let events = self.events
    return { records in
      var interrupted = false
      for record in records {
        // Made durable while the next step is prepared, and before it starts.
        do {
          try await journal.append(record, durability: .beforeNextStep)
        } catch {
          // A full disk: the record without its output tail may still fit, saying so. Its
          // status stays the one the host gave: only the record is short, not the step.
          var short = record
          short.outputTail = ""
          short.reason =
            (record.reason.map { $0 + "; " } ?? "")
            + "its record could not be written whole: \(error)"
          _ = try? await journal.append(short, durability: .beforeNextStep)
          throw error
        }
        events?(.hostFinished(record))
        let mark = record.status.rawValue + (record.changed == true ? " (changed)" : "")
        echo?(
          "    \(record.host): \(mark)\(record.reason.map { " — \($0)" } ?? "") [\(record.durationMs) ms]"
        )
        if let session = record.session?.line { echo?("      \(session)") }
        if record.status == .interrupted { interrupted = true }
      }
      return interrupted
    }
  }

  /// The user this process runs as.
  static var localUser: String? {
    guard let entry = getpwuid(geteuid()), let name = entry.pointee.pw_name else { return nil }
    return String(cString: name)
  }

  /// How the plan reaches each host, and as whom its steps run there.
  static func hostDetails(_ plan: Plan) -> [HostRecord] {
    plan.hosts.map { host in
      var users: Set<String> = []
      for planned in plan.steps where planned.hosts.contains(host.name) {
        let a = planned.step.attributes
        if let user = a.user ?? (a.become || host.become ? "root" : nil) { users.insert(user) }
      }
      return HostRecord(
        name: host.name, address: host.address, port: host.port,
        connection: host.connection.rawValue,
        // A local host runs as the tool's own user; ssh's login is ssh's to choose.
        user: host.user ?? (host.connection == .local ? localUser : nil),
        becomes: users.isEmpty ? nil : users.sorted())
    }
  }

  /// Ends the SQL clients the sessions keep open, each as the user it runs as. (One left
  /// behind would end with its host's session loop, at most a second later.)
  private func endClients(_ context: RunContext) async {
    await withTaskGroup(of: Void.self) { group in
      for (key, client) in await context.state.openClients() {
        guard let host = plan.hosts.first(where: { $0.name == key.host }) else { continue }
        let transport = context.transports.transport(for: host)
        group.addTask { _ = await transport.runQuietly(client.endScript, as: key.user) }
      }
    }
  }

  /// Ends the run: its status, the hosts' sessions closed, the end record, the ledger.
  private func endRun(_ loop: StepLoop, context: RunContext) async throws -> RunSummary {
    var counts: [String: Int] = [:]
    for status in loop.latest.values { counts[status.rawValue, default: 0] += 1 }
    let pending = loop.latest.values.contains(.pending)
    let status =
      loop.stopped
      ?? (options.dryRun ? .dryRun : loop.failures > 0 ? .failed : pending ? .pending : .passed)
    await endClients(context)
    // The hosts keep what they know of the steps only while some step's end is not known
    // here: an unknown status, or a step lost by an earlier attempt that did not get to run.
    await context.transports.closeAll(
      forget: !loop.latest.values.contains(.unknown)
        && (context.resume.lost.isEmpty || status == .passed || status == .pending))
    let end = RunEndRecord(
      status: status, endedAt: RunLayout.timestamp(clock.now()), counts: counts)
    if loop.journalFailure == nil {
      try await context.journal.append(end)
    } else {
      // Where it still fits: a journal without its end reads as an incomplete run.
      _ = try? await context.journal.append(end)
    }
    await context.journal.close()
    // Where the journal ended, kept outside the run directory (`verify` compares).
    try? RunLedger.record(directory: options.runDirectory)
    var summary = RunSummary(status: status, runDirectory: options.runDirectory, counts: counts)
    summary.problem = loop.journalFailure
    return summary
  }

  /// One step on its hosts, asked about first in an interactive run; its records are
  /// journaled as they come (the call throws when the journal cannot take them).
  private func runOne(
    _ planned: PlannedStep, positions: [Int], ordinal: Int, total: Int,
    driver: InteractiveDriver?, hostRunner: HostStepRunner,
    record: @Sendable ([StepRecord]) async throws -> Bool
  ) async throws -> StepOutcome {
    if let driver,
      let asked = try await driver.run(
        planned, positions: positions, ordinal: ordinal, total: total, record: record)
    {
      return asked
    }
    let records = await hostRunner.runStep(planned, positions: positions)
    let interrupted = try await record(records)
    let failed = !planned.step.attributes.allowFail && records.contains(where: \.status.failsStep)
    return StepOutcome(
      records: records, failed: failed,
      stop: interrupted ? .interrupted : failed && !options.continueOnError ? .failed : nil)
  }

  /// This attempt's run record; its runbook snapshot is written on the way (no file an
  /// earlier record hashes is ever written again).
  private func runRecord(_ context: RunContext, selected: [[Int]?]) throws -> RunRecord {
    let resume = context.resume
    let runbookBytes =
      FileManager.default.contents(atPath: plan.runbook.file) ?? Data(plan.runbook.source.utf8)
    let snapshot = RunReport.snapshotName(attempt: resume.attempt)
    try PrivateFile.write(runbookBytes, to: options.runDirectory + "/" + snapshot)
    var record = RunRecord(
      runID: context.runID, runbook: plan.runbook.file, title: plan.runbook.title,
      runbookSHA256: Digest.sha256(runbookBytes),
      inventory: plan.inventorySource,
      inventorySHA256: plan.inventorySource.flatMap { Digest.sha256(file: $0) },
      operatorName: options.operatorName, toolVersion: RunbookVersion.current,
      startedAt: RunLayout.timestamp(clock.now()),
      variables: plan.variableValues.mapValues(plan.masker.mask),
      stepCount: plan.steps.count, hosts: plan.hosts.map(\.name), dryRun: options.dryRun,
      resumes: resume.resumes, selectedSteps: selected.indices.filter { selected[$0] != nil })
    record.stateToken = resume.stateToken
    record.attempt = resume.attempt
    record.snapshot = snapshot
    record.interactive = interaction != nil
    record.roleHosts = Self.roleHosts(plan)
    record.hostDetails = Self.hostDetails(plan)
    var definitions: [String: String] = [:]
    for (name, value) in plan.globalVariables where plan.variableValues[name] != value.rendered {
      definitions[name] = plan.masker.mask(value.rendered)
    }
    record.variableDefinitions = definitions.isEmpty ? nil : definitions
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
}

/// Where the step loop got to: each step's latest status on each host, and why it stopped.
struct StepLoop {
  /// The latest status by `index/host`.
  var latest: [String: StepStatus] = [:]
  /// How many steps failed for good.
  var failures = 0
  /// Why the loop stopped before the last step, if it did.
  var stopped: RunStatus?
  /// Why the journal could not be written, if it could not.
  var journalFailure: String?
}

/// What became of one step on its hosts, for the step loop.
struct StepOutcome: Sendable {
  /// Every record written, in order (a host's latest last).
  var records: [StepRecord]
  /// The step failed on some host and the failure stands: the run fails.
  var failed = false
  /// The run ends here: interrupted (Ctrl-C, the operator quit) or failed.
  var stop: RunStatus?
}
