import Foundation

/// How the last try of a step's script ended, and the verdict on it.
struct ScriptRun {
  /// How the command ended.
  var outcome = CommandOutcome()
  /// The verdict.
  var verdict = StepVerdict(.ok)
}

extension HostStepRunner {
  /// Runs the script until it passes or its retries are spent, waiting `delay=` (on the
  /// run's clock) between tries.
  func runWithRetries(
    _ script: StepScript, _ attempt: inout HostAttempt, transport: any Transport,
    runAs: String?, collector: OutputCollector
  ) async -> ScriptRun {
    let attributes = attempt.attributes
    let nonce = attempt.record.attemptID ?? ""
    var run = ScriptRun()
    let tries = attributes.retries + 1
    for number in 1...tries {
      attempt.record.attempts += 1
      if number > 1 {
        collector.note("--- attempt \(number) of \(tries) ---\n")
        try? await clock.sleep(for: attributes.delay)
        if Task.isCancelled { break }
      }
      collector.resetKeptStdout()
      // No step starts on a host before the record of the one before it is on disk.
      if let failure = await context.journal.durable() {
        attempt.record.attempts -= 1
        run.verdict = StepVerdict(.failed, "not started: the journal is not on disk (\(failure))")
        break
      }
      run.outcome = await transport.run(
        script, as: runAs, timeout: attributes.timeout, collector: collector)
      attempt.record.exitCode = run.outcome.exitStatus
      run.verdict = evaluate(
        FinishedRun(
          step: attempt.step, rendered: attempt.rendered, outcome: run.outcome,
          stdout: collector.keptStdout(), nonce: nonce, masker: attempt.masker),
        record: &attempt.record)
      if run.verdict.status != .failed || run.outcome.interrupted || Task.isCancelled { break }
    }
    return run
  }

  /// Records what the run left: the captured value, the file's changes, the output's
  /// size, hash and tail, and, for a failure that gave no reason, the lines that say why.
  func recordOutput(
    _ attempt: inout HostAttempt, run: ScriptRun, script: StepScript, collector: OutputCollector
  ) async -> StepVerdict {
    let step = attempt.step
    let nonce = attempt.record.attemptID ?? ""
    var learnt: [String] = []
    if run.verdict.status == .ok, let name = step.attributes.capture {
      let value = StepScript.strip(collector.keptStdout(), nonce: nonce).trimmingWhitespace()
      await context.state.capture([name: value], host: attempt.hostName)
      attempt.record.captured = [name: await context.state.masker.mask(value)]
      if secretCapture(of: step) != nil { learnt.append(value) }
    }
    if let diff = attempt.record.diff {
      collector.note("--- changes to \(attempt.fields[.file] ?? "the file") ---\n" + diff + "\n")
    }
    let collected = collector.finish(secrets: learnt)
    await recordSession(
      &attempt, state: collector.keptState(), passed: run.verdict.status == .ok)
    attempt.record.outputBytes = collected.bytes
    attempt.record.outputSHA256 = collected.sha256
    attempt.record.outputTail = collected.tail
    attempt.record.stderrLines = collected.stderrLines.isEmpty ? nil : collected.stderrLines
    attempt.record.outputTruncated = collected.truncatedTail

    var verdict = run.verdict
    if let failure = collected.logFailure, verdict.status == .ok || verdict.status == .skipped {
      verdict = StepVerdict(.failed, "its output could not be kept: \(failure)")
    }
    if verdict.status == .failed, verdict.reason == nil {
      let bodyLines = TextLines.split(attempt.rendered.body).count
      let why = FailureReason(
        file: plan.runbook.file, scriptBodyLine: script.bodyLine, runbookBodyLine: step.bodyLine,
        bodyLines: bodyLines,
        sameLines: !attempt.edited && bodyLines == TextLines.split(step.body).count,
        sql: step.kind == .sql)
      verdict.reason = why.pick(
        stderr: collected.lastErrorLines, output: Array(TextLines.split(collected.tail).suffix(40)))
    }
    return verdict
  }
}
