import Foundation

/// What happened to a step on a host.
public enum StepStatus: String, Sendable, Codable, Hashable, CaseIterable, CustomStringConvertible {
  /// It ran and succeeded.
  case ok
  /// It ran and failed.
  case failed
  /// It did not run: `creates`/`unless` said it was done, or `--resume` found it done.
  case skipped
  /// A manual step not confirmed in a batch run.
  case pending
  /// The connection was lost while it ran and the host could not be asked whether it
  /// finished; `--resume` asks again before anything runs there.
  case unknown
  /// It was stopped by its timeout.
  case timeout
  /// The run was interrupted while it ran.
  case interrupted

  /// The word, as the journal and reports write it.
  public var description: String { rawValue }

  /// Where the status comes in counts and legends: what ran first, then what did not.
  public var displayOrder: Int {
    switch self {
    case .ok: 0
    case .failed: 1
    case .timeout: 2
    case .unknown: 3
    case .interrupted: 4
    case .skipped: 5
    case .pending: 6
    }
  }

  /// A result that fails its step (unless the step allows failure): the operator must look.
  public var failsStep: Bool { self == .failed || self == .timeout || self == .unknown }
}

/// How a run, or one attempt of it, ended; it owns the exit status DESIGN.md gives it.
public enum RunStatus: String, Sendable, Codable, Hashable, CaseIterable, CustomStringConvertible {
  /// Every selected step passed (or was skipped by its guard, or found done).
  case passed
  /// Nothing failed, but a manual step is pending or the operator said it was not done:
  /// the run is not a clean pass.
  case pending
  /// A step failed.
  case failed
  /// A signal stopped the run (Ctrl-C, SIGTERM).
  case interrupted
  /// The operator ended an interactive run at a question (`q`): a decision, not an
  /// accident, with its own exit status.
  case stopped
  /// Preflight and records only; nothing ran.
  case dryRun = "dry-run"
  /// The journal has no end record: the tool was killed, or the run goes on.
  case incomplete

  /// The word, as the journal and reports write it.
  public var description: String { rawValue }

  /// `runbook exec`'s exit status: 0 passed, 1 a step failed, 4 stopped by the operator,
  /// 130 interrupted.
  public var exitCode: Int32 {
    switch self {
    case .passed, .pending, .dryRun: 0
    case .failed, .incomplete: 1
    case .stopped: 4
    case .interrupted: 130
    }
  }

  /// The mark reports put beside the status.
  public var symbol: String {
    switch self {
    case .passed: "✅"
    case .pending: "⏸️"
    case .failed: "❌"
    case .interrupted: "⛔"
    case .stopped: "⏹️"
    case .dryRun: "📝"
    case .incomplete: "⚠️"
    }
  }
}

/// Why a step has no record on a host: the grid's and the counts' other states.
public enum Absence: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  /// Selected, but the run stopped before it.
  case notReached = "not reached"
  /// No attempt selected it (`--from`, `--tags`, …).
  case notSelected = "not selected"
  /// The step's roles do not include the host.
  case notOnHost = "not on this host"

  /// The words, as reports write them.
  public var description: String { rawValue }
}
