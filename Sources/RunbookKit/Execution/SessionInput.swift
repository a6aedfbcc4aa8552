import Foundation

/// The standard input of a long-lived process (a host's session). What is sent is written
/// to the pipe at once, on the sender's thread, as far as the pipe takes it without
/// waiting (a step reaches its shell with no task switch); the rest is written in order by
/// a thread of its own, so that no sender, and no thread of the cooperative pool, waits for
/// a slow reader (a long script over a stalled connection). What is sent before the
/// process has started waits for it.
public final class SessionInput: Sendable {
  private struct State {
    /// The pipe, once the process has started; -1 before, and once closed.
    var fd: Int32 = -1
    /// What is sent and not yet written, in order.
    var backlog: [UInt8] = []
    /// A thread is writing the backlog as the pipe makes room.
    var draining = false
    /// The pipe is closed once the backlog is written.
    var finished = false
    /// The process no longer reads its input.
    var broken = false
  }
  private let state = Locked(State())

  /// Creates an input with nothing sent yet.
  public init() {}

  /// Sends `text`; false when the process no longer reads its input, or it was closed.
  @discardableResult
  public func send(_ text: String) -> Bool {
    state.withLock { state in
      guard !state.finished, !state.broken else { return false }
      state.backlog += Array(text.utf8)
      flush(&state)
      return !state.broken
    }
  }

  /// Closes the input once what was sent is written: the process then reads its end.
  public func finish() {
    state.withLock { state in
      state.finished = true
      closeIfDone(&state)
    }
  }

  /// The process has started and reads `fd`: what waited is written.
  public func attach(_ fd: Int32) {
    // Writes take what the pipe has room for and never wait.
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    state.withLock { state in
      state.fd = fd
      flush(&state)
      closeIfDone(&state)
    }
  }

  /// Writes what the pipe takes now, and leaves the rest to a thread; holds the lock.
  private func flush(_ state: inout State) {
    guard state.fd >= 0, !state.draining, !state.backlog.isEmpty else { return }
    switch Self.write(&state.backlog, to: state.fd) {
    case .all:
      break
    case .full:
      state.draining = true
      let fd = state.fd
      let thread = Thread { [self] in drain(fd) }
      thread.name = "runbook session input"
      thread.start()
    case .failed:
      state.broken = true
      state.backlog = []
    }
  }

  /// Waits for room in the pipe and writes the backlog, until it is written or the reader
  /// has gone (its end closed: poll answers at once). The pipe stays open meanwhile.
  private func drain(_ fd: Int32) {
    while true {
      var room = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
      if poll(&room, 1, -1) < 0, errno != EINTR { usleep(10_000) }
      let done = state.withLock { state -> Bool in
        switch Self.write(&state.backlog, to: fd) {
        case .full: return false
        case .all: break
        case .failed:
          state.broken = true
          state.backlog = []
        }
        state.draining = false
        closeIfDone(&state)
        return true
      }
      if done { return }
    }
  }

  /// Closes the pipe once finished and nothing is left to write; holds the lock.
  private func closeIfDone(_ state: inout State) {
    guard state.finished, state.fd >= 0, !state.draining, state.backlog.isEmpty else { return }
    close(state.fd)
    state.fd = -1
  }

  /// Writes what the pipe takes of `bytes` now, and removes it from them.
  private static func write(_ bytes: inout [UInt8], to fd: Int32) -> Descriptor.Written {
    SessionPipes.ignoreBrokenPipes
    return Descriptor.write(&bytes, to: fd)
  }
}
