import Foundation

/// What `runbook exec` was asked for beyond the plan.
public struct ExecOptions: Sendable {
  /// How many hosts run a step at once.
  public var forks = 10
  /// Record failures and go on instead of stopping after the failing step.
  public var continueOnError = false
  /// Plan and record, run nothing.
  public var dryRun = false
  /// The run directory (created if needed).
  public var runDirectory: String
  /// For each step, the positions of the hosts it runs on, nil for a step not selected:
  /// `Selection.apply`'s result, computed once by the caller (which also checks the hosts
  /// it touches); nil runs every step on all its hosts.
  public var selected: [[Int]?]?
  /// The ssh client settings.
  public var ssh: SSHSettings
  /// The journal of the run being resumed, read from `runDirectory`.
  public var resume = false
  /// `user@machine`.
  public var operatorName: String

  /// Creates options.
  public init(runDirectory: String, ssh: SSHSettings, operatorName: String) {
    self.runDirectory = runDirectory
    self.ssh = ssh
    self.operatorName = operatorName
  }
}

/// How a run ended.
public struct RunSummary: Sendable, Equatable {
  /// How the run ended.
  public var status: RunStatus
  /// The run directory.
  public var runDirectory: String
  /// Step×host records per status.
  public var counts: [String: Int]
  /// What kept the run from being recorded whole (the journal could not be written), or
  /// `nil`.
  public var problem: String?

  /// DESIGN.md's exit status: 0 passed, 1 a step failed, 130 interrupted.
  public var exitStatus: Int32 { status.exitCode }
}

/// Runs a plan: steps in order, each on all its hosts at once (bounded by `forks`),
/// recording every step on every host in the journal as it finishes.
///
/// The work is split by job: preflight checks (`Executor+Preflight`), the step loop
/// (`Executor+Run`), the operator's questions (`InteractiveDriver`), one step on one host
/// (`HostStepRunner`), and the hosts themselves (`Transport`, `TransportPool`).
public struct Executor: Sendable {
  /// The plan to run.
  public var plan: Plan
  /// The options.
  public var options: ExecOptions
  /// Starts processes: the only door through which a process starts.
  public var runner: any CommandRunning
  /// The time and the waits between retries.
  public var clock: any RunClock = SystemRunClock()
  /// Makes each host's transport (the registry's, unless a test brings its own).
  public var makeTransport: TransportRegistry.Maker = TransportRegistry.transport
  /// Receives progress and output lines for the terminal (already masked).
  public var echo: (@Sendable (String) -> Void)?
  /// Receives structured progress (for the terminal's live view).
  public var events: (@Sendable (RunEvent) -> Void)?
  /// Asks the operator before each step and after failures (`--interactive`).
  public var interaction: (any Interaction)?

  /// Creates an executor.
  public init(plan: Plan, options: ExecOptions, runner: any CommandRunning = SubprocessRunner()) {
    self.plan = plan
    self.options = options
    self.runner = runner
  }

  /// A transport for a check before the run (no session is opened by a check).
  func preflightTransport(_ host: PlanHost) -> any Transport {
    makeTransport(
      host,
      TransportContext(runner: runner, ssh: options.ssh, stateToken: "preflight", clock: clock))
  }

  /// Releases what the preflight's checks left open (the ssh masters).
  public func closeConnections() async {
    await withTaskGroup(of: Void.self) { group in
      for host in plan.hosts {
        group.addTask { await preflightTransport(host).close(forget: false) }
      }
    }
  }
}
