import Foundation
import Subprocess

#if canImport(System)
  import System
#else
  import SystemPackage
#endif

/// One long-lived remote shell per ssh host, which runs the steps sent to it one after
/// another: a step costs no new ssh channel, no login shell and no remote process beyond
/// the step's own.
///
/// Each step is framed on the session's standard input (`RUNBOOK-BEGIN <nonce> <command>`,
/// the script's lines, `RUNBOOK-END-<nonce>`); the remote loop writes it to a temporary
/// file and runs it in its own session (`setsid`), so a stop kills exactly the step's
/// process group, then reports `RUNBOOK-DONE-<nonce> <status>` on standard output and
/// `RUNBOOK-DONE-<nonce>` on standard error. A session that dies fails its current step
/// and is opened again for the next one.
final class HostSession: @unchecked Sendable {
  /// The loop the remote shell runs (no single quotes: it travels inside them).
  static let server = """
    sid=$(command -v setsid || true)
    while IFS= read -r line; do
      case "$line" in "RUNBOOK-BEGIN "*) ;; *) continue ;; esac
      set -f; set -- $line; set +f
      nonce=$2; shift 2
      f=$(mktemp "${TMPDIR:-/tmp}/runbook.XXXXXX") || { echo "RUNBOOK-DONE-$nonce 126"; echo "RUNBOOK-DONE-$nonce" >&2; continue; }
      exec 3>"$f"
      while IFS= read -r l; do [ "$l" = "RUNBOOK-END-$nonce" ] && break; printf "%s\\n" "$l" >&3; done
      exec 3>&-
      $sid "$@" "$f" </dev/null &
      pid=$!
      printf "\\001RUNBOOK-PGID %s\\n" "$pid" >&2
      wait "$pid"; rc=$?
      rm -f "$f"
      echo "RUNBOOK-DONE-$nonce $rc"
      echo "RUNBOOK-DONE-$nonce" >&2
    done
    """

  private let connection: HostConnection
  private let lock = NSLock()
  private var input: AsyncStream<String>.Continuation?
  private var alive = false
  private var current: Current?
  private var buffers: [Bool: [UInt8]] = [true: [], false: []]  // true: stdout

  /// The step being run: where its output goes and who waits for its end.
  private final class Current: @unchecked Sendable {
    let nonce: String
    let collector: OutputCollector
    var stdoutDone = false
    var stderrDone = false
    var status: Int32?
    var pgid: Int32?
    var continuation: CheckedContinuation<Int32?, Never>?
    init(nonce: String, collector: OutputCollector) {
      self.nonce = nonce
      self.collector = collector
    }
  }

  init(connection: HostConnection) {
    self.connection = connection
  }

  /// Opens the session if it is not open.
  private func ensureOpen() {
    lock.lock()
    defer { lock.unlock() }
    guard !alive else { return }
    alive = true
    buffers = [true: [], false: []]
    let (stream, continuation) = AsyncStream<String>.makeStream()
    input = continuation
    let command = connection.remoteLoop(Self.server)
    Task.detached { [self] in
      var options = PlatformOptions()
      options.processGroupID = 0
      _ = try? await Subprocess.run(
        .name(command.executable), arguments: Arguments(command.arguments),
        platformOptions: options,
        input: .inputWriter, output: .sequence, error: .sequence
      ) { execution in
        await withTaskGroup(of: Void.self) { tasks in
          tasks.addTask {
            for await frame in stream {
              do { _ = try await execution.standardInputWriter.write(frame) } catch { break }
            }
            try? await execution.standardInputWriter.finish()
          }
          tasks.addTask {
            do {
              for try await chunk in execution.standardOutput {
                self.route(chunk.withUnsafeBytes { Array($0) }, stdout: true)
              }
            } catch {}
          }
          tasks.addTask {
            do {
              for try await chunk in execution.standardError {
                self.route(chunk.withUnsafeBytes { Array($0) }, stdout: false)
              }
            } catch {}
          }
          // The session ends when the remote side closes its output; stop writing then.
          await tasks.next()
          await tasks.next()
          continuation.finish()
        }
      }
      self.ended()
    }
  }

  /// The remote side is gone: the current step fails, the next one opens a new session.
  private func ended() {
    lock.lock()
    alive = false
    input?.finish()
    input = nil
    let step = current
    current = nil
    lock.unlock()
    if let step, let waiting = step.continuation {
      step.continuation = nil
      waiting.resume(returning: nil)
    }
  }

  /// Hands output to the current step, watching for its markers. Output goes on in whole
  /// runs of lines; only a run that holds a marker is looked at line by line.
  private func route(_ bytes: [UInt8], stdout: Bool) {
    lock.lock()
    var buffer = buffers.removeValue(forKey: stdout) ?? []
    buffer += bytes
    var finished: Current?
    var cut = (buffer.lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    // A long line without its end yet goes on, but for what could be the start of a marker.
    if cut == 0, buffer.count > 65_536 { cut = buffer.count - 64 }
    if cut > 0, let step = current {
      let region = Array(buffer[..<cut])
      let markers = [
        Array("RUNBOOK-DONE-\(step.nonce)".utf8), Array(HostConnection.groupMarker.utf8),
      ]
      if markers.contains(where: { marker in
        region.withUnsafeBufferPointer { ByteSearch.firstIndex(of: marker, in: $0) != nil }
      }) {
        var start = 0
        while start < region.count {
          let end = (region[start...].firstIndex(of: UInt8(ascii: "\n")) ?? (region.count - 1)) + 1
          if let done = handle(Array(region[start..<end]), stdout: stdout) { finished = done }
          start = end
        }
      } else if stdout {
        step.collector.stdout(region)
      } else {
        step.collector.stderr(region)
      }
    }
    buffers[stdout] = Array(buffer[cut...])
    lock.unlock()
    if let finished, let waiting = finished.continuation {
      finished.continuation = nil
      waiting.resume(returning: finished.status)
    }
  }

  /// One line of output; returns the step when this line completed it. Holds the lock.
  private func handle(_ line: [UInt8], stdout: Bool) -> Current? {
    guard let step = current else { return nil }
    let text = String(decoding: line, as: UTF8.self)
    if !stdout, text.hasPrefix(HostConnection.groupMarker) {
      step.pgid = Int32(text.dropFirst(HostConnection.groupMarker.count).trimmingWhitespace())
      return nil
    }
    let marker = Array("RUNBOOK-DONE-\(step.nonce)".utf8)
    guard let at = line.withUnsafeBufferPointer({ ByteSearch.firstIndex(of: marker, in: $0) })
    else {
      if stdout { step.collector.stdout(line) } else { step.collector.stderr(line) }
      return nil
    }
    // Output without a final newline shares its line with the marker.
    if at > 0 {
      if stdout {
        step.collector.stdout(Array(line[..<at]))
      } else {
        step.collector.stderr(Array(line[..<at]))
      }
    }
    if stdout {
      step.status =
        Int32(String(decoding: line[(at + marker.count)...], as: UTF8.self).trimmingWhitespace())
        ?? -1
      step.stdoutDone = true
    } else {
      step.stderrDone = true
    }
    guard step.stdoutDone, step.stderrDone else { return nil }
    current = nil
    return step
  }

  /// Runs a script; the outcome is like a process's (exit status, timeout, interrupt).
  func run(
    _ script: StepScript, command: [String], timeout: Duration?, collector: OutputCollector,
    stop: @escaping @Sendable (Int32) async -> Void
  ) async -> CommandOutcome {
    ensureOpen()
    let step = Current(nonce: script.nonce, collector: collector)
    let state = StopState()
    let frame =
      "RUNBOOK-BEGIN \(script.nonce) \(command.joined(separator: " "))\n" + script.text
      + (script.text.hasSuffix("\n") ? "" : "\n") + "RUNBOOK-END-\(script.nonce)\n"
    let pgid: @Sendable () -> Int32? = { [self] in lock.withLock { step.pgid } }
    @Sendable func stopStep(_ why: StopState.Reason) async {
      guard state.begin(why) else { return }
      var waited = 0
      while pgid() == nil, waited < 40 {
        try? await Task.sleep(for: .milliseconds(50))
        waited += 1
      }
      if let group = pgid() { await stop(group) }
    }
    let timer = timeout.map { limit in
      Task {
        try? await Task.sleep(for: limit)
        if !Task.isCancelled { await stopStep(.timeout) }
      }
    }
    let status: Int32? = await withTaskCancellationHandler {
      await withCheckedContinuation { (continuation: CheckedContinuation<Int32?, Never>) in
        lock.lock()
        guard alive, let input else {
          lock.unlock()
          continuation.resume(returning: nil)
          return
        }
        step.continuation = continuation
        current = step
        input.yield(frame)
        lock.unlock()
      }
    } onCancel: {
      Task { await stopStep(.interrupt) }
    }
    timer?.cancel()
    var outcome = CommandOutcome()
    switch status {
    case nil:
      outcome.exitStatus = 255
      collector.note("runbook: the connection to \(connection.host.name) was lost\n")
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

  /// Ends the session: the remote loop reads end of input and exits.
  func close() {
    lock.withLock {
      input?.finish()
      input = nil
    }
  }
}
