import Foundation

/// One long-lived shell per host (over ssh, or a local `/bin/sh`), which runs the steps
/// sent to it one after another: a step costs no new ssh channel, no login shell and no
/// process beyond the step's own.
///
/// The protocol, written and read by this type only (its scripts in `HostSession+Scripts`):
/// - The first line the tool sends is the session key: 128 random bits that never appear
///   in a script, an argument or a file, so no step output can carry them. Every line the
///   tool acts on (`RUNBOOK-SESSION-`, `-STARTED-`, `-DONE-`, `-STATE-`) carries the key.
///   The second line is the become password (empty without one).
/// - A loop under bash answers `ready counted`: every later message is then eight digits of
///   its length in bytes and the message itself, which bash reads at once (a shell reads a
///   line a byte at a time); under `/bin/sh` messages are lines.
/// - A step is framed on standard input (`RUNBOOK-BEGIN <nonce> <command>`, the script's
///   lines, `RUNBOOK-END-<nonce>`; a local tool writes the file itself and sends
///   `RUNBOOK-RUN <nonce> <command>`). The loop writes the script to a file in a private
///   state directory on the host and runs it in a process group that holds nothing of an
///   earlier step (standard input empty): a plain `sh`/`bash` step in a subshell of the
///   runner (a shell kept while no step leaves processes behind in its group), any other as
///   a process of its own. It appends `<nonce> started PGID LOOP` and, when the step has
///   ended, `<nonce> done STATUS` to its status file there. A stop reads the group from
///   that file, never from output, and ends it. `RUNBOOK-TIMED` before the command asks
///   for a `STARTED` line when the step has started (its timeout counts from there).
/// - `RUNBOOK-QUERY <nonce>` asks a (new) session what became of a step whose connection
///   was lost: `done RC` (waiting while it still runs), `gone` (its processes ended without
///   a status) or `unknown` (it never started).
final class HostSession: @unchecked Sendable {
  // Every mutable field below is read and written under `lock`; the subprocess task and
  // the step's caller meet only there.

  private let host: PlanHost
  private let launch: ProcessCommand
  private let runner: any CommandRunning
  private let lock = NSLock()
  private let key = Digest.randomHex(16)
  private var input: SessionInput?
  private var alive = false
  private var ready: [CheckedContinuation<Bool, Never>] = []
  private var isReady = false
  /// The loop reads counted messages (bash): a length, then that many bytes at once, where
  /// a shell reads lines a byte at a time.
  private var counted = false
  private var current: Current?
  private var queries: [String: CheckedContinuation<RemoteState?, Never>] = [:]
  private var buffers: [Bool: [UInt8]] = [true: [], false: []]  // true: stdout
  /// The task that runs the session's process: `close` awaits it, so no session outlives
  /// its run.
  private var task: Task<Void, Never>?

  /// The step being run: where its output goes and who waits for its end.
  private final class Current: @unchecked Sendable {
    // Guarded by the session's lock.
    let nonce: String
    let collector: OutputCollector
    var stdoutDone = false
    var stderrDone = false
    var status: Int32?
    var started: (@Sendable () -> Void)?
    var continuation: CheckedContinuation<Int32?, Never>?
    init(nonce: String, collector: OutputCollector) {
      self.nonce = nonce
      self.collector = collector
    }
  }

  /// Where the tool writes each step's script itself (a local session), if it does.
  private let scriptFile: String?

  init(
    host: PlanHost, launch: ProcessCommand, runner: any CommandRunning, scriptFile: String? = nil
  ) {
    self.host = host
    self.launch = launch
    self.runner = runner
    self.scriptFile = scriptFile
  }

  /// Opens the session if it is not open; true when its loop answered.
  private func ensureOpen() async -> Bool {
    // The common case, without a suspension: an open session that has answered.
    if lock.withLock({ alive && isReady }) { return true }
    lock.withLock {
      if alive { return }
      alive = true
      isReady = false
      buffers = [true: [], false: []]
      let stream = SessionInput()
      input = stream
      stream.send(key + "\n")
      // The become password travels once, on standard input, and stays in the loop's memory;
      // without one, its line is empty.
      stream.send((host.becomePassword ?? "") + "\n")
      let command = launch
      let runner = self.runner
      task = Task.detached { [self] in
        _ = await runner.session(
          command, input: stream,
          stdout: { self.route($0, stdout: true) }, stderr: { self.route($0, stdout: false) })
        self.ended()
      }
    }
    return await withCheckedContinuation { (waiting: CheckedContinuation<Bool, Never>) in
      lock.lock()
      if isReady || !alive {
        let answer = isReady
        lock.unlock()
        waiting.resume(returning: answer)
      } else {
        ready.append(waiting)
        lock.unlock()
      }
    }
  }

  /// The shell is gone: the current step's caller learns it, the next use opens a new one.
  private func ended() {
    lock.lock()
    alive = false
    isReady = false
    input?.finish()
    input = nil
    let step = current
    current = nil
    let waiting = ready
    ready = []
    let asked = queries
    queries = [:]
    lock.unlock()
    for w in waiting { w.resume(returning: false) }
    for q in asked.values { q.resume(returning: nil) }
    if let step, let continuation = step.continuation {
      step.continuation = nil
      continuation.resume(returning: nil)
    }
  }

  /// Hands output to the current step, watching for the keyed control lines. Output goes on
  /// in whole runs of lines; only a run that holds the key is looked at line by line.
  private func route(_ bytes: [UInt8], stdout: Bool) {
    var actions: [() -> Void] = []
    lock.lock()
    var buffer = buffers.removeValue(forKey: stdout) ?? []
    buffer += bytes
    var cut = (buffer.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    // A long line without its end yet goes on, but for what could be the start of a marker.
    let keep = 64
    if cut == 0, buffer.count > 65_536 { cut = buffer.count - keep }
    if cut > 0 {
      let region = Array(buffer[..<cut])
      let needle = Array(key.utf8)
      if region.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: needle, in: $0) != nil }) {
        var start = 0
        while start < region.count {
          let end = (region[start...].firstIndex(of: UInt8(ascii: "\n")) ?? (region.count - 1)) + 1
          handle(Array(region[start..<end]), stdout: stdout, actions: &actions)
          start = end
        }
      } else if let step = current {
        if stdout { step.collector.stdout(region) } else { step.collector.stderr(region) }
      }
    }
    buffers[stdout] = Array(buffer[cut...])
    lock.unlock()
    for action in actions { action() }
  }

  /// One line of output; holds the lock. What must resume a waiter goes into `actions`.
  private func handle(_ line: [UInt8], stdout: Bool, actions: inout [() -> Void]) {
    var found: (word: String, start: Int, end: Int)?
    for word in ["DONE", "STARTED", "STATE", "SESSION"] {
      let marker = Array("RUNBOOK-\(word)-\(key)".utf8)
      if let at = line.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: marker, in: $0) }) {
        found = (word, at, at + marker.count)
        break
      }
    }
    guard let (word, start, end) = found else {
      deliver(line, stdout: stdout)
      return
    }
    let fields = String(decoding: line[end...], as: UTF8.self)
      .split(separator: " ").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
    // Output without a final newline shares its line with the marker.
    if start > 0 { deliver(Array(line[..<start]), stdout: stdout) }
    switch word {
    case "SESSION":
      isReady = fields.first == "ready"
      counted = fields.dropFirst().contains("counted")
      let waiting = ready
      ready = []
      let answer = isReady
      actions.append { for w in waiting { w.resume(returning: answer) } }
    case "STARTED":
      if let step = current, fields.first == step.nonce, let started = step.started {
        step.started = nil
        actions.append(started)
      }
    case "STATE":
      guard let nonce = fields.first, let waiting = queries.removeValue(forKey: nonce) else {
        return
      }
      let state: RemoteState? =
        switch fields.dropFirst().first {
        case "done": .done(fields.count > 2 ? Int32(fields[2]) ?? -1 : -1)
        case "gone": .gone
        case "unknown": .unknown
        default: nil
        }
      actions.append { waiting.resume(returning: state) }
    default:
      guard let step = current, fields.first == step.nonce else { return }
      if stdout {
        step.status = fields.count > 1 ? Int32(fields[1]) ?? -1 : -1
        step.stdoutDone = true
      } else {
        step.stderrDone = true
      }
      guard step.stdoutDone, step.stderrDone else { return }
      current = nil
      if let continuation = step.continuation {
        step.continuation = nil
        let status = step.status
        actions.append { continuation.resume(returning: status) }
      }
    }
  }

  /// `text` as the loop reads it; holds the lock. Counted: eight digits of its length in
  /// bytes, then the text (whose first line is the command, and the rest a script).
  private func message(_ text: String) -> String {
    guard counted else { return text }
    let length = String(text.utf8.count)
    return String(repeating: "0", count: max(0, 8 - length.count)) + length + text
  }

  /// Writes a local step's script (owner-only, never through a link); false when it cannot.
  private static func write(_ text: String, to path: String) -> Bool {
    let fd = PrivateFile.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW)
    guard fd >= 0 else { return false }
    defer { Glibc.close(fd) }
    // write(2) itself: this runs once per local step, where a FileHandle and a Data copy
    // showed in the profile at about 6% of the tool's CPU.
    var bytes = Array(text.utf8)[...]
    while !bytes.isEmpty {
      let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
      if n < 0, errno == EINTR { continue }
      guard n > 0 else { return false }
      bytes = bytes.dropFirst(n)
    }
    return true
  }

  private func deliver(_ bytes: [UInt8], stdout: Bool) {
    guard let step = current else { return }
    if stdout { step.collector.stdout(bytes) } else { step.collector.stderr(bytes) }
  }

  /// Runs a script; the outcome is like a process's (exit status, timeout, interrupt). The
  /// timeout counts from the moment the step started on the host. When the connection is
  /// lost, the host is asked (over a new connection) what became of the step before
  /// anything is recorded.
  func run(
    _ script: StepScript, command: [String], timeout: Duration?, collector: OutputCollector,
    stop: @escaping @Sendable () async -> Void
  ) async -> CommandOutcome {
    var outcome = CommandOutcome()
    guard await ensureOpen() else {
      outcome.exitStatus = 255
      collector.note("runbook: cannot open a session on \(host.name)\n")
      return outcome
    }
    let step = Current(nonce: script.nonce, collector: collector)
    let state = StopState()
    let text = script.text + (script.text.hasSuffix("\n") ? "" : "\n")
    // Only a timed step's start is told: a message less each way for the others.
    let words = ([script.nonce] + (timeout == nil ? [] : ["RUNBOOK-TIMED"]) + command)
      .joined(separator: " ")
    // Counted, the script follows its command line; else its lines end at an end line.
    let frame: (head: String, script: String, end: String) =
      if let scriptFile, Self.write(text, to: scriptFile) {
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
        timer.set(
          Task {
            try? await Task.sleep(for: timeout)
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
        let text =
          counted ? message(frame.head + frame.script) : frame.head + frame.script + frame.end
        lock.unlock()
        // Written outside the lock: the output of the session is routed meanwhile. A loop
        // that no longer reads ends its output too, which ends the step.
        input.send(text)
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
        let text = message("RUNBOOK-QUERY \(nonce)\n")
        lock.unlock()
        input.send(text)
      }
      if let answer { return answer }
    }
    return nil
  }

  /// Ends the session: the loop reads end of input and exits.
  /// With `forget`, the host also removes the run's state directory: every step's end is
  /// in the journal, so nothing will ask about them again. A lost connection also ends the
  /// loop's input, but without this line, so the state stays for the questions to come.
  /// Waits (at most a few seconds) for the shell to exit, so the masters are not closed
  /// under it.
  func close(forget: Bool) async {
    let running: Task<Void, Never>? = lock.withLock {
      if forget { input?.send(message("RUNBOOK-FORGET\n")) }
      input?.finish()
      input = nil
      defer { task = nil }
      return task
    }
    guard let running else { return }
    // The loop exits at the end of its input; a session that does not (a hung connection)
    // is stopped after a few seconds. Either way its task has ended when close returns.
    var waited = 0
    while lock.withLock({ alive }), waited < 100 {
      try? await Task.sleep(for: .milliseconds(50))
      waited += 1
    }
    if lock.withLock({ alive }) { running.cancel() }
    await running.value
  }
}
