import Foundation

/// A problem that ends a run before any step runs; its diagnostics were already shown.
public enum RunPipelineError: Error, Equatable {
  /// The runbook, the inventory, the values, the selection or the hosts are not right (exit 2).
  case invalidInput
}

/// `runbook exec` as stages, each taking the value the one before it made:
/// prepare (preflight, missing values, one plan) → select → check hosts → claim the run
/// directory → execute → sign → report. The CLI only turns flags into a `RunRequest` and
/// the terminal into a `RunEnvironment`.
public struct RunPipeline: Sendable {
  /// What the operator asked for.
  public var request: RunRequest
  /// The world the run talks to.
  public var environment: RunEnvironment

  /// A pipeline for `request` in `environment`.
  public init(request: RunRequest, environment: RunEnvironment) {
    self.request = request
    self.environment = environment
  }

  /// Runs every stage and says how the run ended; throws `RunPipelineError.invalidInput`
  /// when the input is wrong (nothing ran), and what the journal could not survive.
  public func run() async throws -> RunSummary {
    let plan = try prepare()
    let chosen = try select(plan)
    var ssh = try SSHSettings.makePrivate()
    request.configureSSH(&ssh)
    defer { try? FileManager.default.removeItem(atPath: ssh.controlDirectory) }
    let runDirectory = request.runDirectory
    let executor = makeExecutor(plan, chosen: chosen, ssh: ssh, runDirectory: runDirectory)
    try await checkHosts(executor, plan: plan, chosen: chosen)
    let lock = try claim(runDirectory)
    let summary = await execute(executor)
    await executor.closeConnections()
    // Signed first, so the reports show the signature; it does not cover them.
    await sign(runDirectory)
    let report = await writeReports(runDirectory)
    withExtendedLifetime(lock) {}
    let finished = try summary.get()
    announce(finished, report: report)
    return finished
  }

  /// The plan, after the values nobody gave came from the environment or the operator.
  func prepare() throws -> Plan {
    var preflight = request.preflight
    var outcome = preflight.run()
    if let plan = outcome.plan, !outcome.diagnostics.hasErrors {
      var given = RunSetup.environmentValues(
        of: plan, environment: environment.variables, given: preflight.variables)
      if !plan.missingSecrets.isEmpty || !plan.askedVariables.isEmpty {
        let missing = RunSetup.missingValues(
          of: plan, environment: environment.variables, ask: environment.ask)
        try check(missing.problems)
        given += missing.assignments
      }
      // One plan more, with every value the first one lacked.
      if !given.isEmpty {
        preflight.variables += given
        outcome = preflight.run()
      }
    }
    try check(outcome.diagnostics)
    guard let plan = outcome.plan else { throw RunPipelineError.invalidInput }
    return plan
  }

  /// For each step, the positions of the hosts it runs on (nil: not selected).
  func select(_ plan: Plan) throws -> [[Int]?] {
    let (chosen, problems) = request.selection.apply(to: plan)
    try check(problems)
    return chosen
  }

  /// The executor of this run, its progress shown as the request says.
  func makeExecutor(_ plan: Plan, chosen: [[Int]?], ssh: SSHSettings, runDirectory: String)
    -> Executor
  {
    var options = ExecOptions(
      runDirectory: runDirectory, ssh: ssh,
      operatorName: OperatorIdentity.resolve(
        given: request.operatorName, environment: environment.variables))
    options.forks = max(request.forks, 1)
    options.continueOnError = request.continueOnError
    options.dryRun = request.dryRun
    options.selected = chosen
    options.resume = request.resumeDirectory != nil
    var executor = Executor(plan: plan, options: options, runner: environment.runner)
    executor.clock = environment.clock
    executor.makeTransport = environment.makeTransport
    if request.interactive, let makeInteraction = environment.makeInteraction {
      executor.interaction = makeInteraction(runDirectory)
    }
    return executor
  }

  /// Every host a selected step touches answers, and can become the users its steps run
  /// as; a dry run checks them too (it is the preflight without the steps).
  func checkHosts(_ executor: Executor, plan: Plan, chosen: [[Int]?]) async throws {
    var touched: Set<String> = []
    for (planned, positions) in zip(plan.steps, chosen) {
      for position in positions ?? [] { touched.insert(planned.hosts[position]) }
    }
    var unreachable = await executor.checkConnectivity(hosts: touched)
    if unreachable.isEmpty { unreachable = await executor.checkEscalation(selected: chosen) }
    if !unreachable.isEmpty {
      await executor.closeConnections()
      try check(unreachable)
    }
  }

  /// One writer per run directory, from here until the reports are written.
  func claim(_ runDirectory: String) throws -> RunDirectoryLock {
    do {
      return try RunDirectoryLock.forRun(
        runDirectory, resume: request.resumeDirectory != nil,
        runbook: request.preflight.runbookPath)
    } catch let error as RunDirectoryError {
      try check([Diagnostic(.error, at: nil, error.description)])
      throw RunPipelineError.invalidInput
    }
  }

  /// Shows `diagnostics`, and ends the run when one is an error.
  func check(_ diagnostics: [Diagnostic]) throws {
    if !diagnostics.isEmpty { environment.diagnose(diagnostics) }
    if diagnostics.hasErrors { throw RunPipelineError.invalidInput }
  }
}
