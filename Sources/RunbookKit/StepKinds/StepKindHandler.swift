import Foundation
import Yams

/// What a step kind does at each stage of a run: which blocks are of the kind, the script
/// an attempt runs on a host, how its output is judged, and the task that does it in an
/// Ansible export. A new kind is one file with a handler and one line in `StepKinds.all`.
protocol StepKindHandler: Sendable {
  /// The kind this handler does.
  var kind: StepKind { get }
  /// Whether the step changes a file rather than running a command.
  var writesFile: Bool { get }
  /// Whether the step runs commands on its host (and gets the step's environment there).
  var runsCommands: Bool { get }
  /// Whether an export checks the step's output even without `expect=`.
  var checksItsOutput: Bool { get }
  /// How the step takes part in its host's session (working directory, variables).
  var session: SessionUse { get }

  /// Whether `block` is of this kind; the registry asks in its order, the first claim wins.
  func claims(_ block: BlockFacts) -> Bool

  /// The script of one attempt on one host, or the end of the step before it runs.
  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd

  /// The verdict on a run that ended by itself (not stopped, not lost, not skipped by a
  /// guard), with what the kind records of it (a file's diff, a transcript's mismatch).
  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict

  /// What does the step in an Ansible export.
  func exportAction(_ input: ScriptInput) -> ExportAction

  /// The check of the step's output that an export adds after it, if the kind has one.
  func exportCheck(_ input: ScriptInput, register: String) -> ExportCheck?

  /// How the variable `name` is written into the body so that no value can break out of
  /// its quotes; nil when the body is not code whose quotes a value could break.
  func quotedValue(_ name: String) -> String?
}

extension StepKindHandler {
  var writesFile: Bool { false }
  var runsCommands: Bool { !writesFile }
  var checksItsOutput: Bool { false }
  var session: SessionUse { .none }

  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    run.judgedByStatus(record: &record)
  }

  func exportCheck(_ input: ScriptInput, register: String) -> ExportCheck? { nil }

  func quotedValue(_ name: String) -> String? { nil }
}

/// What classifying a block looks at.
struct BlockFacts {
  /// The fence's language, lowercased.
  var language: String
  /// Its attributes.
  var attributes: StepAttributes
  /// The shell a Runme document names for its blocks (`shell:` in its front matter).
  var runmeShell: String?
  /// The block's text (a Python block typed at `>>> ` is a transcript).
  var body = ""
}

/// What a kind needs to write the script of one attempt on one host.
struct ScriptInput: Sendable {
  /// The step.
  var step: Step
  /// Its text and attributes as rendered for the host.
  var rendered: RenderedStep
  /// The lines every command step starts with (context, environment, directory).
  var prelude: String
  /// The attempt's marker, which no output can guess.
  var nonce: String
  /// The lines after the commands, run when they all succeeded (the session's state).
  var epilogue = ""
  /// The SQL client an earlier step left open for this one, or that it opens for the next.
  var client: SQLClientSession?

  var attributes: StepAttributes { step.attributes }
  var fields: [StepField: String] { rendered.fields }
}

/// How a step kind takes part in its host's session (see `ShellState`).
enum SessionUse: Sendable {
  /// Not at all (a file is written where the step says).
  case none
  /// It starts in the session's directory with its variables (a program, a SQL client).
  case reads
  /// It is typed into the session: what it changes carries to the next step (a shell).
  case carries
}

/// What a kind may do on the host before its script is written (read the file it merges).
struct HostAccess: Sendable {
  /// Runs a script as the step's user, within its timeout, collecting its output apart.
  var run: @Sendable (StepScript) async -> (CommandOutcome, CollectedOutput)
}

/// A step's script, or the end of the step before it runs (a file merge that cannot read
/// its file, or whose guard says it is done).
enum ScriptOrEnd: Sendable {
  /// The script to run.
  case script(StepScript)
  /// The step ends here, after one look at the host that exited with `exitCode`.
  case end(StepVerdict, exitCode: Int32? = nil)
}

/// A step's status on a host and why.
struct StepVerdict: Sendable, Equatable {
  /// The status.
  var status: StepStatus
  /// Why, when the status needs saying why.
  var reason: String?

  /// A verdict.
  init(_ status: StepStatus, _ reason: String? = nil) {
    self.status = status
    self.reason = reason
  }
}

/// A run of a step that ended by itself, to be judged.
struct FinishedRun {
  /// The step.
  var step: Step
  /// Its rendering on the host.
  var rendered: RenderedStep
  /// How the command ended.
  var outcome: CommandOutcome
  /// Its standard output, as kept.
  var stdout: String
  /// The attempt's marker.
  var nonce: String
  /// Masks secrets in what is recorded.
  var masker: SecretMasker

  /// The verdict of a command: its exit status, then `expect=` on its output.
  func judgedByStatus(record: inout StepRecord) -> StepVerdict {
    if let code = outcome.exitStatus, code != 0 { return StepVerdict(.failed) }
    if let signal = outcome.signal { return StepVerdict(.failed, "killed by signal \(signal)") }
    if let pattern = rendered.fields[.expect] {
      let text = StepScript.strip(stdout, nonce: nonce)
      if text.range(of: pattern, options: .regularExpression) == nil {
        let why = "output does not match expect=\(masker.mask(pattern))"
        record.mismatch = why
        return StepVerdict(.failed, why)
      }
    }
    return StepVerdict(.ok)
  }
}

/// What does a step in an Ansible export.
enum ExportAction {
  /// A script run by `ansible.builtin.shell`.
  case script(StepScript)
  /// A module call: its name and arguments.
  case module(String, Node)
}

/// An assertion on a step's output in an Ansible export.
struct ExportCheck {
  /// What it checks, for the task's name.
  var what: String
  /// The variable the assertion reads, and its value.
  var input: (String, Node)
  /// The Jinja condition that holds when the output is right.
  var that: String
  /// The message when it does not.
  var failMessage: String
}

extension Runbook {
  /// How a step of `kind` with `attributes` takes part in its host's session: as its kind
  /// does, unless the step (or the whole document) is `isolated`.
  func sessionUse(_ kind: StepKind, _ attributes: StepAttributes) -> SessionUse {
    attributes.isolated || frontMatter.isolatedSteps ? .none : kind.handler.session
  }
}
