import Foundation

#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// The pipes of a session's process and the thread that reads its output: each chunk is
/// handed on from that thread as it comes (one wake-up, where the sequences of
/// swift-subprocess cost a hop through its monitor thread and a task for each read).
struct SessionPipes: Sendable {
  /// The ends the process gets (its standard input, output and error).
  let child: (input: Int32, output: Int32, error: Int32)
  /// The ends the tool keeps.
  let parent: (input: Int32, output: Int32, error: Int32)

  /// A write to a pipe whose reader has gone must fail (EPIPE), not end the tool.
  static let ignoreBrokenPipes: Void = { _ = signal(SIGPIPE, SIG_IGN) }()

  /// Three pipes, every end closed on exec (the process gets its ends as 0, 1 and 2 only,
  /// and no other process started meanwhile holds one); nil when they cannot be made.
  static func make() -> SessionPipes? {
    var ends: [Int32] = []
    for _ in 0..<3 {
      // pipe2: close-on-exec from the start, also for a process started meanwhile.
      guard let pipe = try? FileDescriptor.pipe(options: .closeOnExec) else {
        for fd in ends { close(fd) }
        return nil
      }
      ends += [pipe.readEnd.rawValue, pipe.writeEnd.rawValue]
    }
    return SessionPipes(
      child: (input: ends[0], output: ends[3], error: ends[5]),
      parent: (input: ends[1], output: ends[2], error: ends[4]))
  }

  /// Reads standard output and error on a thread of its own until both end (the process
  /// and all that inherited them are gone) or the task is cancelled (a process left behind
  /// by a step may hold them for ever), handing each chunk on; returns then, having closed
  /// them.
  func read(
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async {
    let fds = (parent.output, parent.error)
    guard let wake = Wake() else {
      for fd in [fds.0, fds.1] { close(fd) }
      return
    }
    await withTaskCancellationHandler {
      await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        let thread = Thread {
          Self.pump(fds.0, fds.1, wake: wake.fd, stdout: stdout, stderr: stderr)
          wake.close()
          done.resume()
        }
        thread.name = "runbook session"
        thread.start()
      }
    } onCancel: {
      wake.ring()
    }
  }

  /// A pipe that wakes the reading thread: rung once, from any thread, until closed.
  private final class Wake: Sendable {
    /// The end the thread polls.
    let fd: Int32
    // The other end, -1 once closed: never written after, so no later file that reuses
    // its number is written to.
    private let ringer: Locked<Int32>

    init?() {
      guard let pipe = try? FileDescriptor.pipe(options: .closeOnExec) else { return nil }
      fd = pipe.readEnd.rawValue
      ringer = Locked(pipe.writeEnd.rawValue)
    }

    func ring() {
      ringer.withLock { if $0 >= 0 { _ = Descriptor.writeAll([1], to: $0) } }
    }

    func close() {
      ringer.withLock {
        if $0 >= 0 { Glibc.close($0) }
        $0 = -1
      }
      Glibc.close(fd)
    }
  }

  private static func pump(
    _ output: Int32, _ error: Int32, wake: Int32, stdout: ([UInt8]) -> Void,
    stderr: ([UInt8]) -> Void
  ) {
    var open = [output, error]
    var buffer = [UInt8](repeating: 0, count: 65_536)
    reading: while !open.isEmpty {
      var polled = ([wake] + open).map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
      let ready = poll(&polled, nfds_t(polled.count), -1)
      if ready < 0 {
        if errno == EINTR { continue }
        break
      }
      if polled[0].revents != 0 { break reading }
      for entry in polled.dropFirst() where entry.revents != 0 {
        let n = buffer.withUnsafeMutableBytes { Glibc.read(entry.fd, $0.baseAddress, $0.count) }
        if n > 0 {
          let chunk = Array(buffer[..<n])
          if entry.fd == output { stdout(chunk) } else { stderr(chunk) }
        } else if n == 0 || (errno != EINTR && errno != EAGAIN) {
          close(entry.fd)
          open.removeAll { $0 == entry.fd }
        }
      }
    }
    for fd in open { close(fd) }
  }
}
