import Foundation

/// One long-lived shell per host (over ssh, or a local `/bin/sh`), which runs the steps
/// sent to it one after another: a step costs no new ssh channel, no login shell and no
/// process beyond the step's own.
///
/// The protocol, written and read by this type only (its scripts in `Scripts/`, filled in
/// by `HostSession+Scripts`; its words, named below as the cases of `SessionProtocol`, are
/// spelled there and nowhere else):
/// - The first line the tool sends is the session key: 128 random bits that never appear
///   in a script, an argument or a file, so no step output can carry them. Every line the
///   tool acts on (a `Marker`: session, started, done, state) carries the key.
///   The second line says whether the host has a become password (`1`, or empty); the
///   password itself follows each `asUser` step's message (`password <bytes>`), read
///   by `dd` straight into `sudo -S` (or dropped), never into a variable of the loop.
/// - A loop under bash answers `ready counted`: every later message is then eight digits of
///   its length in bytes and the message itself, which bash reads at once (a shell reads a
///   line a byte at a time); under `/bin/sh` messages are lines.
/// - A step is framed on standard input (`begin <nonce> <command>`, the script's lines,
///   `scriptEnd<nonce>`; a local tool writes the file itself and sends
///   `run <nonce> <command>`). The loop writes the script to a file in a private
///   state directory on the host and runs it in a process group that holds nothing of an
///   earlier step (standard input empty): a plain `sh`/`bash` step in a subshell of the
///   runner (a shell kept while no step leaves processes behind in its group), any other as
///   a process of its own. It appends `<nonce> started PGID LOOP` and, when the step has
///   ended, `<nonce> done STATUS` to its status file there. A stop reads the group from
///   that file, never from output, and ends it. `timed` before the command asks
///   for a `started` line when the step has started (its timeout counts from there).
/// - `query <nonce>` asks a (new) session what became of a step whose connection
///   was lost: `done RC` (waiting while it still runs), `gone` (its processes ended without
///   a status) or `unknown` (it never started).
final class HostSession: @unchecked Sendable {
  // Every mutable field below is read and written under `lock` (also by `run` and `query`,
  // in HostSession+Run); the session's reading thread and the step's caller meet only there.

  let host: PlanHost
  private let launch: ProcessCommand
  private let runner: any CommandRunning
  let lock = NSLock()
  private let key = Digest.randomHex(16)
  var input: SessionInput?
  var alive = false
  private var ready: [CheckedContinuation<Bool, Never>] = []
  private var isReady = false
  /// The loop reads counted messages (bash): a length, then that many bytes at once, where
  /// a shell reads lines a byte at a time.
  var counted = false
  var current: Current?
  var queries: [String: CheckedContinuation<RemoteState?, Never>] = [:]
  private var output: SessionOutput
  private var errors: SessionOutput
  /// The task that runs the session's process: `close` awaits it, so no session outlives
  /// its run.
  private var task: Task<Void, Never>?
  /// How long a session has to start (connect, log in, start the shell, say it is ready):
  /// a host that takes the connection but never starts the shell is given up then.
  let startTimeout: Duration
  /// Why the last start failed, when the tool gave it up (nil: the shell ended by itself).
  private(set) var startFailure: String?

  /// The step being run: where its output goes and who waits for its end.
  final class Current: @unchecked Sendable {
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
  let scriptFile: String?

  /// The run's clock: a step's time is measured, and its timeout waited for, on it.
  let clock: any RunClock

  init(
    host: PlanHost, launch: ProcessCommand, runner: any CommandRunning, scriptFile: String? = nil,
    startTimeout: Duration = .seconds(SSHSettings.defaultConnectTimeout),
    clock: any RunClock = SystemRunClock()
  ) {
    self.startTimeout = startTimeout
    self.clock = clock
    self.host = host
    self.launch = launch
    self.runner = runner
    self.scriptFile = scriptFile
    output = SessionOutput(key: key)
    errors = SessionOutput(key: key)
  }

  /// Opens the session if it is not open; true when its loop answered within `limit` (and
  /// `startTimeout`). A session that has not answered by then, or whose caller is
  /// cancelled meanwhile (Ctrl-C), is ended: nothing a host does holds the run.
  func ensureOpen(within limit: Duration? = nil) async -> Bool {
    // The common case, without a suspension: an open session that has answered.
    if lock.withLock({ alive && isReady }) { return true }
    let wait = min(limit ?? startTimeout, startTimeout)
    let session: Task<Void, Never>? = lock.withLock {
      defer { startFailure = nil }
      guard !alive else { return task }
      alive = true
      isReady = false
      output.reset()
      errors.reset()
      let stream = SessionInput()
      input = stream
      stream.send(key + "\n")
      // Whether there is a become password; the password itself follows each step that
      // may need it (`run`), so that the loop never holds it.
      stream.send((host.becomePassword == nil ? "" : "1") + "\n")
      let command = launch
      let runner = self.runner
      task = Task.detached { [self] in
        _ = await runner.session(
          command, input: stream,
          stdout: { self.route($0, stdout: true) }, stderr: { self.route($0, stdout: false) })
        self.ended()
      }
      return task
    }
    // Real time, not the run's clock: how long a connection takes to answer is the
    // network's, whatever clock the steps are measured on.
    let watchdog = Task { [self] in
      try? await Task.sleep(for: wait)
      guard !Task.isCancelled else { return }
      let givenUp: Bool = lock.withLock {
        guard alive, !isReady else { return false }
        startFailure = "its session did not start within \(wait.secondsText)"
        return true
      }
      // Ending the session's process ends the wait below (`ended`).
      if givenUp { session?.cancel() }
    }
    let answered = await withTaskCancellationHandler {
      await withCheckedContinuation { (waiting: CheckedContinuation<Bool, Never>) in
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
    } onCancel: {
      // Cancelling a task starts nothing: the session's task ends, and the wait with it.
      if !lock.withLock({ isReady }) { session?.cancel() }
    }
    watchdog.cancel()
    await watchdog.value
    return answered
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

  /// Hands output to the current step, and acts on the keyed lines of the loop.
  private func route(_ bytes: [UInt8], stdout: Bool) {
    var actions: [() -> Void] = []
    lock.lock()
    let events = stdout ? output.feed(bytes) : errors.feed(bytes)
    for event in events {
      switch event {
      case .output(let chunk): deliver(chunk, stdout: stdout)
      case .marker(let word, let fields): handle(word, fields, stdout: stdout, actions: &actions)
      }
    }
    lock.unlock()
    for action in actions { action() }
  }

  /// A keyed line; holds the lock. What must resume a waiter goes into `actions`.
  private func handle(
    _ word: SessionOutput.Word, _ fields: [String], stdout: Bool, actions: inout [() -> Void]
  ) {
    switch word {
    case .session:
      (isReady, counted) = SessionProtocol.readiness(fields)
      let waiting = ready
      ready = []
      let answer = isReady
      actions.append { for w in waiting { w.resume(returning: answer) } }
    case .started:
      if let step = current, fields.first == step.nonce, let started = step.started {
        step.started = nil
        actions.append(started)
      }
    case .state:
      guard let nonce = fields.first, let waiting = queries.removeValue(forKey: nonce) else {
        return
      }
      let state = SessionProtocol.remoteState(fields.dropFirst())
      actions.append { waiting.resume(returning: state) }
    case .done:
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
  func message(_ text: String) -> String {
    guard counted else { return text }
    let length = String(text.utf8.count)
    return String(repeating: "0", count: max(0, 8 - length.count)) + length + text
  }

  private func deliver(_ bytes: [UInt8], stdout: Bool) {
    guard let step = current else { return }
    if stdout { step.collector.stdout(bytes) } else { step.collector.stderr(bytes) }
  }

  /// Ends the session: the loop reads end of input and exits.
  /// With `forget`, the host also removes the run's state directory: every step's end is
  /// in the journal, so nothing will ask about them again. A lost connection also ends the
  /// loop's input, but without this line, so the state stays for the questions to come.
  /// Waits (at most a few seconds) for the shell to exit, so the masters are not closed
  /// under it.
  func close(forget: Bool) async {
    let running: Task<Void, Never>? = lock.withLock {
      if forget { input?.send(message(SessionProtocol.forgetLine)) }
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
