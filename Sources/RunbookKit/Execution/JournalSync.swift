import Foundation

/// The journal's fsyncs that run while the tool goes on: a step's record is written at
/// once, and made durable while the next step is prepared; `wait` holds the next step
/// back until it is (the executor calls it before a step starts on a host).
final class JournalSync: Sendable {
  private struct State {
    /// Requests made so far, and how many of them a finished fsync covers.
    var requested = 0
    var completed = 0
    /// An fsync is queued or running.
    var busy = false
    var waiters: [(Int, CheckedContinuation<Void, Never>)] = []
    var failure: String?
  }

  private let state = Locked(State())
  // One fsync at a time, on a thread of its own (an fsync blocks for a disk flush: never on
  // the cooperative pool).
  private let queue = DispatchQueue(label: "runbook.journal.sync")
  private let descriptor: Int32

  init(descriptor: Int32) { self.descriptor = descriptor }

  /// Makes everything written so far durable, in the background. One fsync covers every
  /// request made before it starts: the records of a step on many hosts cost one or two,
  /// not one each.
  func request() {
    let start = state.withLock { state -> Bool in
      state.requested += 1
      guard !state.busy else { return false }
      state.busy = true
      return true
    }
    if start { queue.async { [self] in sync() } }
  }

  /// fsyncs until no request is left that came after the last one began.
  private func sync() {
    while true {
      let covered = state.withLock { $0.requested }
      var rc: Int32
      repeat { rc = fsync(descriptor) } while rc != 0 && errno == EINTR
      let failed = rc == 0 ? nil : String(cString: strerror(errno))
      let (ready, again) = state.withLock {
        state -> ([CheckedContinuation<Void, Never>], Bool) in
        if let failed, state.failure == nil { state.failure = failed }
        state.completed = covered
        let ready = state.waiters.filter { $0.0 <= covered }.map(\.1)
        state.waiters.removeAll { $0.0 <= covered }
        let again = state.requested > covered
        if !again { state.busy = false }
        return (ready, again)
      }
      for waiter in ready { waiter.resume() }
      if !again { return }
    }
  }

  /// Returns once everything requested so far is durable, or its fsync failed (`failure`
  /// says so, and the journal's next append throws).
  func wait() async {
    await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
      let now = state.withLock { state -> Bool in
        if state.completed >= state.requested { return true }
        state.waiters.append((state.requested, waiter))
        return false
      }
      if now { waiter.resume() }
    }
  }

  /// Waits, on this thread, for every requested fsync (before the file is closed).
  func drain() { queue.sync {} }

  /// Why a background fsync failed, if one did.
  var failure: String? { state.withLock { $0.failure } }
}
