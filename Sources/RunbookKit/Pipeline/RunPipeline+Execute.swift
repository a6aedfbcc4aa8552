import Foundation

extension RunPipeline {
  /// Runs the steps, showing progress; a signal stops the running commands and ends the run
  /// as interrupted (the reports are still written).
  func execute(_ executor: Executor) async -> Result<RunSummary, any Error> {
    var executor = executor
    let view = present(&executor)
    let running = Task { try await executor.run() }
    let signals = environment.signals()
    let listener = Task { [environment] in
      for await _ in signals {
        environment.interrupted()
        environment.say("\ninterrupted: stopping the running commands…")
        running.cancel()
      }
    }
    view?.start()
    let result = await running.result
    view?.stop()
    listener.cancel()
    await listener.value
    return result
  }

  /// Connects the executor's progress to the operator as the request says; the live view,
  /// when there is one, to be started and stopped around the run.
  func present(_ executor: inout Executor) -> ProgressView? {
    let say = environment.say
    switch request.presentation {
    case .quiet:
      executor.events = { event in
        guard case .hostFinished(let record) = event,
          [.failed, .timeout, .interrupted].contains(record.status)
        else { return }
        let reason = record.reason.map { " — \($0)" } ?? ""
        say("\(record.step) on \(record.host): \(record.status.rawValue)\(reason)")
      }
      return nil
    case .live(let verbose) where !request.interactive:
      let live = ProgressView(color: true, verbose: verbose, write: environment.write)
      executor.events = { live.handle($0) }
      return live
    case .live, .lines:
      executor.echo = say
      return nil
    }
  }

  /// The reports of every run that has a journal: passed, failed, interrupted.
  func writeReports(_ runDirectory: String) async -> RunReport? {
    do {
      return try await RunDirectory.writeReports(directory: runDirectory)
    } catch {
      environment.warn("warning: reports not written: \(error)")
      return nil
    }
  }

  /// Signs the run directory when the request names a key.
  func sign(_ runDirectory: String) async {
    guard let key = request.signKey else { return }
    do {
      try await RunSignature.sign(directory: runDirectory, key: key, principal: request.signer)
    } catch {
      environment.warn("warning: the run was not signed: \(error)")
    }
  }

  /// The run's last lines: its status with the results that count (over every attempt; a
  /// resume's own records of steps found done are not news), and where it is recorded.
  func announce(_ summary: RunSummary, report: RunReport?) {
    let counts =
      report?.resultLine
      ?? summary.counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }
      .joined(separator: ", ")
    let deviations = report.map { $0.deviationSummary.isEmpty ? "" : " · " + $0.deviationSummary }
    environment.say("run \(summary.status): \(counts)\(deviations ?? "")")
    if let problem = summary.problem { environment.warn("error: \(problem)") }
    environment.say(
      "run directory: \(summary.runDirectory) (report.html, report.md, run.json, junit.xml)")
    // A run that stopped before its end (Ctrl-C, quit, a failure) says how to go on from
    // where it stopped, on a terminal as in a log.
    if [.interrupted, .stopped, .failed, .incomplete].contains(summary.status), !request.dryRun {
      let word = { (text: String) in TerminalText.visible(ShellQuote.wordIfNeeded(text)) }
      let inventory = request.preflight.inventoryPath.map { " -i " + word($0) } ?? ""
      environment.say(
        "to continue: runbook exec \(word(request.preflight.runbookPath))\(inventory) --resume \(word(summary.runDirectory))"
      )
    }
  }
}
