import Foundation

extension HostStepRunner {
  /// The verdict on a run of a step: what ends any command the same way (stopped, timed
  /// out, not started, lost, skipped by its guard), else what its kind says of it.
  func evaluate(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    let outcome = run.outcome
    if outcome.interrupted { return StepVerdict(.interrupted, "stopped by the operator") }
    if outcome.timedOut {
      return StepVerdict(
        .timeout, "stopped after \(run.step.attributes.timeout?.secondsText ?? "its timeout")")
    }
    if let error = outcome.launchError { return StepVerdict(.failed, "cannot start: \(error)") }
    switch outcome.lost {
    case .gone?:
      return StepVerdict(
        .failed, "the connection was lost, and the step's processes ended without a status")
    case .neverStarted?:
      return StepVerdict(.failed, "the connection was lost before the step started")
    case .unknown?:
      return StepVerdict(
        .unknown,
        "the connection was lost and the host cannot be asked whether the step finished; --resume asks again"
      )
    case nil:
      break
    }
    let fields = run.rendered.fields
    if let skip = StepScript.skipReason(
      run.stdout, nonce: run.nonce, creates: fields[.creates], unless: fields[.unless])
    {
      return StepVerdict(.skipped, skip)
    }
    return run.step.kind.handler.judge(run, record: &record)
  }

  /// The status of a command that did not succeed.
  static func status(of outcome: CommandOutcome) -> StepStatus {
    outcome.interrupted ? .interrupted : outcome.timedOut ? .timeout : .failed
  }
}
