/// What `--interactive` shows the operator before a step.
public struct StepPrompt: Sendable {
  /// The step's place in the run (1-based) and the number of steps selected.
  public var ordinal: Int
  public var total: Int
  /// The step.
  public var step: Step
  /// The hosts it runs on.
  public var hosts: [String]
  /// The rendered script of the first host, secrets masked.
  public var script: String
  /// The rendered script with real values (what an edit starts from).
  public var rawScript: String
  /// How many different renderings the hosts get (an edit applies to all hosts).
  public var distinctRenderings: Int
  /// Masks the run's secrets in text shown to the operator (an edit's diff).
  public var mask: @Sendable (String) -> String = { $0 }
}

/// The answer before a step.
public enum StepDecision: Sendable, Equatable {
  /// Run it.
  case run
  /// Do not run it; record it as skipped by the operator.
  case skip
  /// Run this text instead (a deviation from the runbook, recorded with its diff).
  case edit(String)
  /// Run this and every remaining step without asking.
  case runAll
  /// End the run now (reports written; `--resume` continues).
  case quit
}

/// The answer after a step failed.
public enum FailureDecision: Sendable, Equatable {
  /// Run the step again on the hosts that failed.
  case retry
  /// Leave the failure recorded and go on.
  case skip
  /// Open a shell on this host, then ask again.
  case shell(String)
  /// Run this text on the hosts that failed (an edit, recorded with its diff).
  case retryEdited(String)
  /// End the run now.
  case quit
}

/// Questions an interactive run asks; the terminal is one implementation, tests another.
public protocol Interaction: Sendable {
  /// Before a step runs.
  func beforeStep(_ prompt: StepPrompt) async -> StepDecision
  /// After a step failed on `failed` hosts.
  func afterFailure(_ prompt: StepPrompt, failed: [String]) async -> FailureDecision
  /// A manual step: whether the operator did it, and their note; nil to end the run.
  func confirmManual(_ prompt: StepPrompt) async -> (done: Bool, note: String?)?
  /// Opens an interactive shell on a host and returns when it ends.
  func openShell(_ command: ProcessCommand) async
}
