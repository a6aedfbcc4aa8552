import Foundation

/// One step on one host as it goes through the stages of `runOnHost`: what it renders to,
/// and the record that ends up in the journal.
struct HostAttempt {
  /// The step and its hosts.
  let planned: PlannedStep
  /// The host's position among the step's hosts; nil for the operator (no host).
  let position: Int?
  /// The host's name, or `operator`.
  let hostName: String
  /// The step as rendered for the host (the operator's edit, if any).
  var rendered: RenderedStep
  /// Masks the secrets known so far.
  let masker: SecretMasker
  /// When the attempt started.
  let started: Date
  /// The hash that tells a later attempt whether the step changed.
  let contentHash: String
  /// What the journal will record.
  var record: StepRecord
  /// The step's output, once it has a log.
  var output: OutputCollector?

  var step: Step { planned.step }
  var attributes: StepAttributes { planned.step.attributes }
  var fields: [StepField: String] { rendered.fields }
  /// The user the step runs as: `user=`, `-` for root (`become`), nil for the login user.
  var runAs: String? { fields[.user] ?? (attributes.become ? "-" : nil) }
  /// Whether the operator changed the step's text before it ran.
  var edited: Bool { record.deviation != nil }

  /// The record, ended now with `verdict` (its reason masked: reasons quote commands).
  mutating func finish(_ verdict: StepVerdict, at ended: Date) -> StepRecord {
    if record.log != nil, output?.wroteLog != true { record.log = nil }
    record.status = verdict.status
    record.reason = verdict.reason.map(masker.mask)
    record.endedAt = RunLayout.timestamp(ended)
    record.durationMs = Int((ended.timeIntervalSince(started) * 1000).rounded())
    return record
  }
}

extension HostStepRunner {
  /// The attempt's first state: the step rendered for the host with what was captured so
  /// far, the operator's edit (`override`) in place and recorded as a deviation.
  func beginAttempt(
    _ planned: PlannedStep, position: Int?, override: String?, retry: Int
  ) async -> HostAttempt {
    let step = planned.step
    let hostName = position.map { planned.hosts[$0] } ?? "operator"
    var rendered = planned.rendered(
      at: position ?? 0, captured: await context.state.captured(for: hostName))
    let masker = await context.state.masker
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
    return HostAttempt(
      planned: planned, position: position, hostName: hostName, rendered: rendered,
      masker: masker, started: started, contentHash: contentHash, record: record)
  }
}
