extension StepKind {
  /// A program for another interpreter (`python`, `perl`, `ruby`, `node`, or
  /// `interpreter=`), given on its standard input; it fails by its exit status.
  public static let program = StepKind(rawValue: "program")
}

/// Blocks in an interpreter's language, or with `interpreter=`: the body is the
/// interpreter's standard input.
struct ProgramStep: StepKindHandler {
  let kind = StepKind.program
  let session = SessionUse.reads

  func claims(_ block: BlockFacts) -> Bool {
    block.attributes.interpreter != nil || StepKind.interpreterLanguages[block.language] != nil
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(
      StepScript.program(
        input.rendered.body, interpreter: interpreter(of: input.step), prelude: input.prelude,
        creates: input.fields[.creates], unless: input.fields[.unless], nonce: input.nonce))
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .script(
      StepScript.program(
        input.rendered.body, interpreter: interpreter(of: input.step), prelude: input.prelude))
  }

  /// `interpreter=`, else the language's interpreter, else python3.
  func interpreter(of step: Step) -> String {
    step.attributes.interpreter ?? StepKind.interpreterLanguages[step.language.lowercased()]
      ?? "python3"
  }
}
