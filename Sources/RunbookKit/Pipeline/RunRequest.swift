import Foundation

/// What an operator asked `runbook exec` for, as values: the input of `RunPipeline`.
public struct RunRequest: Sendable {
  /// The runbook, inventory and variables, and how strictly they are read.
  public var preflight: Preflight
  /// Which steps and hosts run (`--limit`, `--role`, `--tags`, `--from`, `--to`).
  public var selection = Selection()
  /// `--report-dir`: where the run is recorded (default: a new directory under Reports/).
  public var reportDirectory: String?
  /// `--resume`: the run directory of an earlier attempt to continue.
  public var resumeDirectory: String?
  /// How many hosts run a step at once.
  public var forks = 10
  /// Record failures and go on instead of stopping after the failing step.
  public var continueOnError = false
  /// Preflight and record the plan; run nothing.
  public var dryRun = false
  /// Ask the operator before each step and after failures.
  public var interactive = false
  /// How progress is shown.
  public var presentation = RunPresentation.lines
  /// The ssh key that signs the run directory once its journal is complete.
  public var signKey: String?
  /// `--signer`: the principal the signature names (default: the operator's e-mail).
  public var signer: String?
  /// `--operator`: who runs this (see `OperatorIdentity`).
  public var operatorName: String?
  /// The operator's ssh settings (`--ssh-config`, `--ssh-option`, `--connect-timeout`),
  /// laid over the run's private control directory.
  public var configureSSH: @Sendable (inout SSHSettings) -> Void = { _ in }

  /// A request to run `preflight`'s runbook with the defaults.
  public init(preflight: Preflight) {
    self.preflight = preflight
  }

  /// The directory the run is recorded in: the resumed one, the one asked for, or a new one.
  var runDirectory: String {
    resumeDirectory ?? reportDirectory
      ?? RunSetup.defaultRunDirectory(for: preflight.runbookPath)
  }
}

/// How a run shows its progress.
public enum RunPresentation: Sendable, Equatable {
  /// Only failures and the summary.
  case quiet
  /// A live view redrawn in place (a colour terminal); `verbose` streams every output line.
  case live(verbose: Bool)
  /// Plain lines: each step, each host's result and its output.
  case lines
}
