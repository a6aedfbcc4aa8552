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
    var outcome = CommandOutcome()
    // The step's time counts from here: connecting and starting the shell are part of it.
    let clock = ContinuousClock()
    let began = clock.now
    guard await ensureOpen(within: timeout) else {
      if Task.isCancelled {
        outcome.interrupted = true
      } else if let timeout, began.duration(to: clock.now) >= timeout {
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
    let step = Current(nonce: script.nonce, collector: collector)
    let state = StopState()
    let text = script.text + (script.text.hasSuffix("\n") ? "" : "\n")
    // Only a timed step's start is told: a message less each way for the others.
    // A step as another user may need the become password: it follows the message.
    let password = command.first == "RUNBOOK-AS" ? host.becomePassword.map { $0 + "\n" } : nil
    let words =
      ([script.nonce] + (timeout == nil ? [] : ["RUNBOOK-TIMED"])
      + (password.map { ["RUNBOOK-PW", String($0.utf8.count)] } ?? []) + command)
      .joined(separator: " ")
    // Counted, the script follows its command line; else its lines end at an end line.
    let frame: (head: String, script: String, end: String) =
      if let scriptFile, PrivateFile.overwrite(scriptFile, with: text) {
        ("RUNBOOK-RUN \(words)\n", "", "")
      } else {
        ("RUNBOOK-BEGIN \(words)\n", text, "RUNBOOK-END-\(script.nonce)\n")
      }
    let stopStep: @Sendable (StopState.Reason) async -> Void = { why in
      guard state.begin(why) else { return }
      await stop()
    }
    let timer = Locked<Task<Void, Never>?>(nil)
    if let timeout {
      step.started = {
        // What is left of the step's time once it runs on the host.
        let left = timeout - began.duration(to: clock.now)
        timer.set(
          Task {
            if left > .zero { try? await Task.sleep(for: left) }
            if !Task.isCancelled { await stopStep(.timeout) }
          })
      }
    }
    // Ctrl-C stops the step on the host, also while a lost step is being asked about (the
    // host's answer then comes once the stop has ended it), and so does the timeout.
    let (status, answer): (Int32?, RemoteState??) = await withTaskCancellationHandler {
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
          + (password ?? "")
        lock.unlock()
        // Sent outside the lock: the output of the session is routed meanwhile. A loop that
        // no longer reads ends its output too, which ends the step.
        input.send(framed)
      }
      guard status == nil else { return (status, nil) }
      collector.note(
        "runbook: the connection to \(host.name) was lost; asking the host what became of the step\n"
      )
      return (nil, .some(await query(script.nonce)))
    } onCancel: {
      Task { await stopStep(.interrupt) }
    }
    var code = status
    switch answer {
    case nil:
      break
    case .done(let rc)??:
      collector.note(
        "runbook: the host says the step ended with status \(rc); output after the loss was not received\n"
      )
      code = rc
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
    timer.get()?.cancel()
    switch code {
    case nil:
      outcome.exitStatus = 255
    case let code?:
      // 128+N: the step's shell was killed by signal N.
      if code > 128, state.reason != nil {
        outcome.signal = code - 128
      } else {
        outcome.exitStatus = code
      }
    }
    outcome.timedOut = state.reason == .timeout
    outcome.interrupted = state.reason == .interrupt
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
        let framed = message("RUNBOOK-QUERY \(nonce)\n")
        lock.unlock()
        input.send(framed)
      }
      if let answer { return answer }
    }
    return nil
  }
}
