import Foundation

/// `--interactive`: the operator sees each step before it runs (run, skip, edit, run all,
/// quit), confirms manual steps, and decides after a failure (retry the hosts that failed,
/// open a shell there, skip, quit). Everything the operator does is recorded.
actor InteractiveDriver {
  private let interaction: any Interaction
  private let runner: HostStepRunner
  /// Until the operator answers "all".
  private var askBeforeSteps = true

  init(interaction: any Interaction, runner: HostStepRunner) {
    self.interaction = interaction
    self.runner = runner
  }

  /// Runs one step with the operator's answers, writing its records through `record`
  /// (which says whether one of them was interrupted); nil when there is nothing to ask
  /// (an earlier attempt did the step, unchanged, on every host).
  func run(
    _ planned: PlannedStep, positions: [Int], ordinal: Int, total: Int,
    record: @Sendable ([StepRecord]) async throws -> Bool
  ) async throws -> StepOutcome? {
    let step = planned.step
    if !positions.isEmpty, await runner.allDone(planned, positions: positions) { return nil }
    let prompt = await self.prompt(planned, positions: positions, ordinal: ordinal, total: total)
    if step.kind == .manual, !runner.dryRun {
      guard let answer = await interaction.confirmManual(prompt) else {
        return StepOutcome(records: [], stop: .stopped)
      }
      let records = await runner.runStep(planned, positions: positions, manual: answer)
      return StepOutcome(records: records, stop: try await record(records) ? .interrupted : nil)
    }
    var override: String?
    if askBeforeSteps {
      switch await interaction.beforeStep(prompt) {
      case .run: break
      case .runAll: askBeforeSteps = false
      case .edit(let text): override = text
      case .quit: return StepOutcome(records: [], stop: .stopped)
      case .skip:
        var records: [StepRecord] = []
        for position in positions.isEmpty ? [nil] : positions.map({ Optional($0) }) {
          records.append(await runner.skippedRecord(planned, position: position))
        }
        _ = try await record(records)
        return StepOutcome(records: records)
      }
    }
    var all = await runner.runStep(planned, positions: positions, override: override)
    if try await record(all) { return StepOutcome(records: all, stop: .interrupted) }
    guard !step.attributes.allowFail else { return StepOutcome(records: all) }
    // After a failure: retry only the hosts that failed, or look around.
    var current = all
    var retries = 0
    var failed = false
    while case let hosts = current.filter(\.status.failsStep).map(\.host), !hosts.isEmpty,
      !Task.isCancelled
    {
      // An edit after a failure starts from what ran.
      var asked = prompt
      if let override { asked.rawScript = override }
      switch await interaction.afterFailure(asked, failed: hosts) {
      case .retryEdited(let text):
        override = text
        fallthrough
      case .retry:
        retries += 1
        let again = positions.filter { hosts.contains(planned.hosts[$0]) }
        let retried = await runner.runStep(
          planned, positions: again, override: override, retry: retries)
        all += retried
        if try await record(retried) { return StepOutcome(records: all, stop: .interrupted) }
        current = current.filter { !hosts.contains($0.host) } + retried
      case .shell(let host):
        await runner.openShell(on: host, interaction: interaction)
      case .skip:
        current = current.filter { !hosts.contains($0.host) }
        failed = true
      case .quit:
        return StepOutcome(records: all, stop: .stopped)
      }
    }
    return StepOutcome(records: all, failed: failed)
  }

  /// What the operator sees before a step: the first host's rendering, masked.
  private func prompt(
    _ planned: PlannedStep, positions: [Int], ordinal: Int, total: Int
  ) async -> StepPrompt {
    let first = positions.first ?? 0
    let host = positions.first.map { planned.hosts[$0] } ?? "operator"
    let state = runner.context.state
    let rendered = planned.rendered(at: first, captured: await state.captured(for: host))
    return StepPrompt(
      ordinal: ordinal, total: total, step: planned.step,
      hosts: positions.map { planned.hosts[$0] },
      script: await state.masker.mask(rendered.body), rawScript: rendered.body,
      distinctRenderings: planned.distinctRenderings,
      mask: { [masker = await state.masker] in masker.mask($0) })
  }
}
