import Foundation

/// Runs one step on its hosts, and on each host with its guards, retries and checks,
/// recording what happened.
struct HostStepRunner: Sendable {
  let plan: Plan
  let options: ExecOptions
  let clock: any RunClock
  let echo: (@Sendable (String) -> Void)?
  let events: (@Sendable (RunEvent) -> Void)?
  let context: RunContext

  init(executor: Executor, context: RunContext) {
    plan = executor.plan
    options = executor.options
    clock = executor.clock
    echo = executor.echo
    events = executor.events
    self.context = context
  }

  var dryRun: Bool { options.dryRun }

  /// Runs one step on its hosts, at most `forks` at once (one at a time when `serial`).
  func runStep(
    _ planned: PlannedStep, positions: [Int], override: String? = nil,
    manual: (done: Bool, note: String?)? = nil, retry: Int = 0
  ) async -> [StepRecord] {
    if positions.isEmpty {
      // A manual step without a role concerns the operator, not a host.
      return [
        await runOnHost(planned, position: nil, override: override, manual: manual, retry: retry)
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
              planned, position: position, override: override, manual: manual, retry: retry)
          )
        }
      }
      for await done in group { results.append(done) }
      return results.sorted { $0.0 < $1.0 }.map(\.1)
    }
  }

  /// Whether an earlier attempt did this step, unchanged, on every one of its hosts.
  func allDone(_ planned: PlannedStep, positions: [Int]) async -> Bool {
    guard !context.resume.done.isEmpty else { return false }
    let masker = await context.state.masker
    for position in positions {
      let host = planned.hosts[position]
      let rendered = planned.rendered(
        at: position, captured: await context.state.captured(for: host))
      guard let done = context.resume.done[ResumePoint.key(step: planned.step.id, host: host)],
        done.contentSHA256
          == ResumePoint.contentHash(planned.step, rendered, masker: masker, key: context.key)
      else { return false }
    }
    return true
  }

  /// The record of a step the operator chose not to run.
  func skippedRecord(_ planned: PlannedStep, position: Int?) async -> StepRecord {
    let step = planned.step
    let now = RunLayout.timestamp(clock.now())
    let body = planned.rendered(at: position ?? 0).body
    var record = StepRecord(
      step: step.id, index: step.index, kind: step.kind, line: step.line,
      headingPath: step.headingPath, host: position.map { planned.hosts[$0] } ?? "operator",
      status: .skipped, reason: "skipped by the operator", exitCode: nil, attempts: 0,
      startedAt: now, endedAt: now, durationMs: 0,
      script: await context.state.masker.mask(body), contentSHA256: "", log: nil,
      outputBytes: 0, outputSHA256: Self.emptySHA, outputTail: "", outputTruncated: false)
    record.operatorAction = .skipped
    record.attempt = context.resume.attempt
    return record
  }

  static let emptySHA = Digest.sha256(Data())
}
