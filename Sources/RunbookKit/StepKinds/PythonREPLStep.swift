import Foundation

extension StepKind {
  /// A Python session typed at `>>> `: each statement runs as Python's interpreter runs what
  /// is typed at its prompt, and what it prints is held against the transcript.
  public static let pythonREPL = StepKind(rawValue: "python-session")
}

/// `pycon` blocks, and Python blocks whose lines start with `>>> ` (a guide's copy of an
/// interactive session): sending them to `python3` as a script would fail at the first
/// prompt. Each statement goes to one interpreter, as typed; an expression's value is
/// echoed as the prompt echoes it; the output is checked as a console transcript's is.
struct PythonREPLStep: StepKindHandler {
  let kind = StepKind.pythonREPL
  let session = SessionUse.reads
  var checksItsOutput: Bool { true }

  static let languages: Set<String> = ["python", "python3", "py"]

  func claims(_ block: BlockFacts) -> Bool {
    guard block.attributes.interpreter == nil else { return false }
    return block.language == "pycon"
      || (Self.languages.contains(block.language)
        && block.body.split(separator: "\n").contains { $0.hasPrefix(">>> ") })
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(
      StepScript.pythonSession(
        ConsoleTranscript.python(input.rendered.body), prelude: input.prelude,
        creates: input.fields[.creates], unless: input.fields[.unless], nonce: input.nonce))
  }

  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    ConsoleStep.judge(
      ConsoleTranscript.python(run.rendered.body), prompt: ">>> ", run: run, record: &record)
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .script(
      StepScript.pythonSession(
        ConsoleTranscript.python(input.rendered.body), prelude: input.prelude,
        nonce: ConsoleStep.exportNonce))
  }

  func exportCheck(_ input: ScriptInput, register: String) -> ExportCheck? {
    ConsoleStep.exportCheck(ConsoleTranscript.python(input.rendered.body), register: register)
  }
}
