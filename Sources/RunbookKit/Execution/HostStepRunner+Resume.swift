import Foundation

/// What an earlier attempt of the run says about a step on a host.
enum ResumeDecision {
  /// The step ends here with this verdict (done before and unchanged, or finished on the
  /// host after the connection was lost).
  case finished(StepVerdict)
  /// The step runs; the note says why it runs again, for its log.
  case run(note: String?)
}

extension HostStepRunner {
  /// Whether the step runs on the host, given what earlier attempts did there.
  func resumeDecision(_ attempt: inout HostAttempt, on target: PlanHost?) async -> ResumeDecision {
    let key = ResumePoint.key(step: attempt.step.id, host: attempt.hostName)
    if !attempt.edited, let done = context.resume.done[key],
      done.contentSHA256 == attempt.contentHash,
      done.captured?.values.contains(where: { $0.contains(SecretMasker.mask) }) != true
    {
      if let values = done.captured { await context.state.capture(values, host: attempt.hostName) }
      attempt.record.captured = done.captured
      let from = done.keptFrom ?? done.attempt ?? 1
      attempt.record.keptFrom = from
      return .finished(
        StepVerdict(.skipped, "done in attempt \(from), unchanged since: not run again"))
    }
    // An earlier attempt lost this step: the host says whether it finished before it runs again.
    guard let lost = context.resume.lost[key], let target, !options.dryRun else {
      return .run(note: nil)
    }
    let answer = await context.transports.transport(for: target).ask(about: lost.attemptID)
    let unchanged = lost.contentSHA256 == attempt.contentHash
    switch answer {
    case .done(0)? where unchanged && attempt.attributes.capture == nil:
      attempt.record.attemptID = lost.attemptID
      // Running it again could do twice what it did; its change to the session went with
      // its output, so the operator is told what later steps start from.
      let session =
        sessionUse(attempt) == .carries
        ? "; what it changed in the session (directory, variables) went with it: later steps on \(attempt.hostName) start from the session as it was before this step"
        : ""
      return .finished(
        StepVerdict(
          .ok,
          "finished on the host after an earlier attempt lost it (exit 0); its output after that was not received"
            + session))
    case nil:
      attempt.record.attemptID = lost.attemptID
      return .finished(
        StepVerdict(
          .unknown,
          "an earlier attempt lost this step and the host cannot be asked whether it finished; see \(stateHint(lost.attemptID)) on \(attempt.hostName)"
        ))
    case .done(0)? where unchanged:
      return .run(
        note:
          "an earlier attempt finished this step, but the output it captures was lost with the connection: it runs again"
      )
    case .done(0)?:
      return .run(
        note: "an earlier attempt finished this step, but the step has changed since: it runs again"
      )
    case .done(let rc)?:
      return .run(
        note:
          "an earlier attempt of this step ended with status \(rc) after its connection was lost: it runs again"
      )
    case .gone?:
      return .run(
        note: "an earlier attempt of this step was killed without a status: it runs again")
    case .unknown?:
      return .run(note: "an earlier attempt lost this step before it started: it runs now")
    }
  }

  /// Where the host keeps what it knows of a step, for messages.
  func stateHint(_ attemptID: String) -> String {
    "the lines starting '\(attemptID)' in ${TMPDIR:-/tmp}/\(SessionProtocol.stateDirectory(token: context.resume.stateToken))/\(SessionProtocol.statusFilePrefix)*"
  }
}
