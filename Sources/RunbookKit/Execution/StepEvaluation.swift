import Foundation

extension HostStepRunner {
  /// Reads the result of a run of a step: status and reason, and file diffs and console
  /// mismatches into the record.
  func evaluate(
    _ step: Step, _ rendered: RenderedStep, outcome: CommandOutcome, stdout: String, nonce: String,
    masker: SecretMasker, record: inout StepRecord
  ) -> (StepStatus, String?) {
    if outcome.interrupted { return (.interrupted, "stopped by the operator") }
    if outcome.timedOut {
      return (.timeout, "stopped after \(step.attributes.timeout?.secondsText ?? "its timeout")")
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
    if let skip = StepScript.skipReason(
      stdout, nonce: nonce, creates: rendered.fields[.creates], unless: rendered.fields[.unless])
    {
      return (.skipped, skip)
    }
    if step.kind == .console {
      let transcript = ConsoleTranscript(rendered.body)
      let outputs = StepScript.consoleOutputs(stdout, nonce: nonce)
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
      if let change = StepScript.fileChange(stdout, nonce: nonce) {
        record.changed = change.changed
        record.diff = change.diff.map(masker.maskDiff)
      }
    }
    if let pattern = rendered.fields[.expect] {
      let text = StepScript.strip(stdout, nonce: nonce)
      if text.range(of: pattern, options: .regularExpression) == nil {
        record.mismatch = "output does not match expect=\(masker.mask(pattern))"
        return (.failed, "output does not match expect=\(masker.mask(pattern))")
      }
    }
    return (.ok, nil)
  }

  /// The status of a command that did not succeed.
  static func status(of outcome: CommandOutcome) -> StepStatus {
    outcome.interrupted ? .interrupted : outcome.timedOut ? .timeout : .failed
  }
}
