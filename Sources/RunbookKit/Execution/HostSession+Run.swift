import Foundation

extension HostSession {
  /// Runs a script; the outcome is like a process's (exit status, timeout, interrupt). The
  /// timeout counts from the moment the step started on the host. When the connection is
  /// lost, the host is asked (over a new connection) what became of the step before
  /// anything is recorded.
  func run(
    _ script: StepScript, command: [String], timeout: Duration?, collector: OutputCollector,
    stop: @escaping @Sendable () async -> Void
  ) async -> CommandOutcome {
    // The step's time counts from here: connecting and starting the shell are part of it.
    let clock = self.clock
    let began = clock.now()
    guard await ensureOpen(within: timeout) else {
      return unopened(began: began, timeout: timeout, collector: collector)
    }
    let step = Current(nonce: script.nonce, collector: collector)
    let state = StopState()
    let frame = self.frame(script, command: command, timed: timeout != nil)
    let stopStep: @Sendable (StopState.Reason) async -> Void = { why in
      guard state.begin(why) else { return }
      await stop()
    }
    // The timer starts once the step runs on the host, with what is left of its time, and
    // is ended and awaited with the step.
    let timer = Locked<Task<Void, Never>?>(nil)
    if let timeout {
      step.started = {
        let left = timeout - Self.elapsed(since: began, on: clock)
        timer.set(
          Task {
            if left > .zero { try? await clock.sleep(for: left) }
            if !Task.isCancelled { await stopStep(.timeout) }
          })
      }
    }
    // Ctrl-C stops the step on the host, also while a lost step is being asked about (the
    // host's answer then comes once the stop has ended it), and so does the timeout.
    let (status, answer) = await withAwaitedCancellation {
      await self.send(frame, for: step, collector: collector)
    } onCancel: {
      await stopStep(.interrupt)
    }
    // Why the step was stopped, as it stood when its status came: a timer that fires
    // after that stops nothing that was still running.
    let stopped = state.reason
    var outcome = CommandOutcome()
    let code = settle(status: status, answer: answer, outcome: &outcome, collector: collector)
    if let running = timer.get() {
      running.cancel()
      await running.value
    }
    return finished(outcome, code: code, stopped: stopped)
  }

  /// The outcome of a step whose session did not open: interrupted, out of time, refused
  /// at the start, or not reached.
  private func unopened(
    began: Date, timeout: Duration?, collector: OutputCollector
  ) -> CommandOutcome {
    var outcome = CommandOutcome()
    if Task.isCancelled {
      outcome.interrupted = true
    } else if let timeout, Self.elapsed(since: began, on: clock) >= timeout {
      outcome.timedOut = true
      collector.note(
        "runbook: the session on \(host.name) had not started when the step's time ran out\n")
    } else if let why = lock.withLock({ startFailure }) {
      outcome.launchError = "\(host.name) answered, but \(why) (--connect-timeout)"
    } else {
      outcome.exitStatus = 255
      collector.note("runbook: cannot open a session on \(host.name)\n")
    }
    return outcome
  }

  /// A step's message, in the pieces the loop reads: its first line, the script (unless
  /// the tool wrote the session's script file itself), the end line, and the become
  /// password that follows it, if the step may need it.
  struct Frame {
    var head: String
    var script: String
    var end: String
    var password: String?
  }

  /// The message of `script` run by `command`; `timed` asks the loop to tell its start.
  private func frame(_ script: StepScript, command: [String], timed: Bool) -> Frame {
    let text = script.text + (script.text.hasSuffix("\n") ? "" : "\n")
    // Only a timed step's start is told: a message less each way for the others.
    // A step as another user may need the become password: it follows the message.
    let password =
      SessionProtocol.needsPassword(command) ? host.becomePassword.map { $0 + "\n" } : nil
    let line = { (verb: SessionProtocol.Verb) in
      SessionProtocol.stepLine(
        verb, nonce: script.nonce, timed: timed, passwordBytes: password?.utf8.count,
        command: command)
    }
    // Counted, the script follows its command line; else its lines end at an end line.
    if let scriptFile, PrivateFile.overwrite(scriptFile, with: text) {
      return Frame(head: line(.run), script: "", end: "", password: password)
    }
    return Frame(
      head: line(.begin), script: text, end: SessionProtocol.endLine(nonce: script.nonce),
      password: password)
  }

  /// Sends the step and waits for its status; nil and the host's answer when the
  /// connection was lost (the answer nil when the host could not be asked).
  private func send(
    _ frame: Frame, for step: Current, collector: OutputCollector
  ) async -> (Int32?, RemoteState??) {
    let status = await withCheckedContinuation {
      (continuation: CheckedContinuation<Int32?, Never>) in
      lock.lock()
      guard alive, let input else {
        lock.unlock()
        continuation.resume(returning: nil)
        return
      }
      step.continuation = continuation
      current = step
      let framed =
        (counted ? message(frame.head + frame.script) : frame.head + frame.script + frame.end)
        + (frame.password ?? "")
      lock.unlock()
      // Sent outside the lock: the output of the session is routed meanwhile. A loop that
      // no longer reads ends its output too, which ends the step.
      input.send(framed)
    }
    guard status == nil else { return (status, nil) }
    collector.note(
      "runbook: the connection to \(host.name) was lost; asking the host what became of the step\n"
    )
    return (nil, .some(await query(step.nonce)))
  }

  /// The step's status once the host's answer about a lost step is taken in: what the
  /// host says it ended with, or nil (with why in `outcome.lost`).
  private func settle(
    status: Int32?, answer: RemoteState??, outcome: inout CommandOutcome,
    collector: OutputCollector
  ) -> Int32? {
    switch answer {
    case nil:
      return status
    case .done(let rc)??:
      collector.note(
        "runbook: the host says the step ended with status \(rc); output after the loss was not received\n"
      )
      return rc
    case .gone??:
      collector.note("runbook: the host says the step's processes ended without a status\n")
      outcome.lost = .gone
    case .unknown??:
      collector.note("runbook: the host says the step never started\n")
      outcome.lost = .neverStarted
    case .some(nil):
      collector.note("runbook: the host cannot be asked; whether the step finished is unknown\n")
      outcome.lost = .unknown
    }
    return status
  }

  /// `outcome` with the step's status `code` and why it was stopped, if it was.
  private func finished(
    _ outcome: CommandOutcome, code: Int32?, stopped: StopState.Reason?
  ) -> CommandOutcome {
    var outcome = outcome
    switch code {
    case nil:
      outcome.exitStatus = 255
    case let code?:
      // 128+N: the step's shell was killed by signal N.
      if code > 128, stopped != nil {
        outcome.signal = code - 128
      } else {
        outcome.exitStatus = code
      }
    }
    outcome.timedOut = stopped == .timeout
    outcome.interrupted = stopped == .interrupt
    return outcome
  }

  /// Asks a new session what became of the step `nonce` (it waits while the step runs).
  /// Tries to reconnect a few times; nil when the host cannot be asked.
  func query(_ nonce: String, tries: Int = 3) async -> RemoteState? {
    for attempt in 1...tries {
      if attempt > 1 { try? await Task.sleep(for: .seconds(2)) }
      guard await ensureOpen() else { continue }
      let answer: RemoteState? = await withCheckedContinuation { continuation in
        lock.lock()
        guard alive, let input else {
          lock.unlock()
          continuation.resume(returning: nil)
          return
        }
        queries[nonce] = continuation
        let framed = message(SessionProtocol.queryLine(nonce: nonce))
        lock.unlock()
        input.send(framed)
      }
      if let answer { return answer }
    }
    return nil
  }

  /// The time since `began` on `clock`.
  static func elapsed(since began: Date, on clock: any RunClock) -> Duration {
    .milliseconds(Int64((clock.now().timeIntervalSince(began) * 1000).rounded()))
  }
}
