import Foundation

@testable import RunbookKit

/// What a scripted host does when it is given a step.
public enum ScriptedReply: Sendable {
  /// Prints `stdout` and exits with `status`.
  case exit(Int32, stdout: String = "")
  /// Never ends by itself: stopped at once by a timeout, else when the task is cancelled.
  case hang
  /// The connection is lost and the host cannot be asked.
  case lost
}

/// Hosts in memory, for the executor's logic: each step gets the next reply the test wrote
/// for it (by step id and host), no process starts, nothing sleeps.
public final class ScriptedHosts: @unchecked Sendable {
  // Everything mutable is touched under `lock`: hosts run concurrently.
  private let lock = NSLock()
  private var replies: [String: [ScriptedReply]] = [:]
  private var answers: [String: RemoteState] = [:]
  public private(set) var runs: [(step: String, host: String, timeout: Duration?)] = []
  public private(set) var questions: [String] = []
  public private(set) var closed: [String] = []

  /// Hosts with no replies written yet (every step exits 0).
  public init() {}

  /// The replies for `step` on `host`, one per run, in order (the last one repeats).
  public func script(_ step: String, on host: String, _ replies: ScriptedReply...) {
    lock.withLock { self.replies[step + "@" + host] = replies }
  }

  /// What the host answers about any lost step.
  public func answer(_ state: RemoteState, host: String) {
    lock.withLock { answers[host] = state }
  }

  /// How many times `step` ran on `host`.
  public func runCount(_ step: String, on host: String) -> Int {
    lock.withLock { runs.filter { $0.step == step && $0.host == host }.count }
  }

  fileprivate func next(_ step: String, host: String, timeout: Duration?) -> ScriptedReply {
    lock.withLock {
      runs.append((step, host, timeout))
      var queue = replies[step + "@" + host] ?? [.exit(0)]
      let reply = queue.first ?? .exit(0)
      if queue.count > 1 { queue.removeFirst() }
      replies[step + "@" + host] = queue
      return reply
    }
  }

  fileprivate func ask(_ attemptID: String, host: String) -> RemoteState? {
    lock.withLock {
      questions.append(host)
      return answers[host]
    }
  }

  fileprivate func close(_ host: String) { lock.withLock { closed.append(host) } }

  /// The maker to give an `Executor`.
  public var maker: TransportRegistry.Maker {
    { host, _ in ScriptedTransport(host: host, hosts: self) }
  }
}

/// One scripted host.
struct ScriptedTransport: Transport {
  let host: PlanHost
  let hosts: ScriptedHosts
  let name = "scripted"

  func checkConnection() async -> String? { nil }
  func checkEscalation(users: [String]) async -> String? { nil }

  func run(
    _ script: StepScript, as user: String?, timeout: Duration?, collector: OutputCollector
  ) async -> CommandOutcome {
    // The step's id is in the prelude every command step starts with.
    let step =
      script.text.split(separator: "\n").first { $0.hasPrefix("export RUNBOOK_STEP=") }
      .map { $0.dropFirst("export RUNBOOK_STEP=".count).trimmingCharacters(in: ["'"]) } ?? "?"
    switch hosts.next(step, host: host.name, timeout: timeout) {
    case .exit(let status, let stdout):
      collector.stdout(Array(stdout.utf8))
      return CommandOutcome(exitStatus: status)
    case .hang:
      if timeout != nil { return CommandOutcome(exitStatus: 143, timedOut: true) }
      let (stream, continuation) = AsyncStream<Void>.makeStream()
      await withTaskCancellationHandler {
        for await _ in stream {}
      } onCancel: {
        continuation.finish()
      }
      return CommandOutcome(exitStatus: 143, interrupted: true)
    case .lost:
      var outcome = CommandOutcome(exitStatus: 255)
      outcome.lost = .unknown
      return outcome
    }
  }

  func ask(about attemptID: String) async -> RemoteState? {
    hosts.ask(attemptID, host: host.name)
  }

  var interactiveShell: ProcessCommand { ProcessCommand("/bin/false", []) }
  func interactive(_ command: String) -> ProcessCommand { ProcessCommand("/bin/false", []) }

  func close(forget: Bool) async { hosts.close(host.name) }
}

/// A clock whose waits take no time: it records them and moves its time on.
public final class RecordingClock: RunClock, @unchecked Sendable {
  // `elapsed` and `sleeps` are touched under `lock`.
  private let lock = NSLock()
  private let start = Date(timeIntervalSince1970: 1_800_000_000)
  private var elapsed: Duration = .zero
  public private(set) var sleeps: [Duration] = []

  /// Starts at a fixed time.
  public init() {}

  public func now() -> Date {
    lock.withLock {
      start.addingTimeInterval(
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }
  }

  public func sleep(for duration: Duration) async throws {
    try Task.checkCancellation()
    lock.withLock {
      sleeps.append(duration)
      elapsed += duration
    }
  }
}

/// Answers an interactive run from a list, recording the questions.
public final class ScriptedInteraction: Interaction, @unchecked Sendable {
  // The answer lists and the log are touched under `lock`.
  private let lock = NSLock()
  private var before: [StepDecision]
  private var after: [FailureDecision]
  public private(set) var asked: [String] = []

  /// Answers `before` each step and `after` each failure, in order.
  public init(before: [StepDecision], after: [FailureDecision]) {
    self.before = before
    self.after = after
  }

  public func beforeStep(_ prompt: StepPrompt) async -> StepDecision {
    lock.withLock {
      asked.append("before \(prompt.step.id)")
      return before.isEmpty ? .run : before.removeFirst()
    }
  }

  public func afterFailure(_ prompt: StepPrompt, failed: [String]) async -> FailureDecision {
    lock.withLock {
      asked.append("after \(prompt.step.id) on \(failed.joined(separator: ","))")
      return after.isEmpty ? .quit : after.removeFirst()
    }
  }

  public func confirmManual(_ prompt: StepPrompt) async -> (done: Bool, note: String?)? {
    (true, nil)
  }

  public func openShell(_ command: ProcessCommand) async {}
}
