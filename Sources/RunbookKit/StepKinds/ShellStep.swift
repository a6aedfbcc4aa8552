extension StepKind {
  /// A POSIX `sh` script run with errexit.
  public static let shell = StepKind(rawValue: "shell")
}

/// `sh` and `shell` blocks (and `interpreter=sh`): the body runs under `set -e`.
struct ShellStep: StepKindHandler {
  let kind = StepKind.shell
  let session = SessionUse.carries

  func claims(_ block: BlockFacts) -> Bool {
    StepKind.shellLanguages[block.attributes.interpreter ?? block.language] == .shell
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(input.shellScript(bash: false))
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .script(input.shellScript(bash: false, guarded: false))
  }

  func quotedValue(_ name: String) -> String? { "{{ \(name) | quote }}" }
}

extension ScriptInput {
  /// The body as a shell script after the step's prelude; `guarded`, with its guards and
  /// marker (an export's guards are tasks of their own).
  func shellScript(bash: Bool, guarded: Bool = true) -> StepScript {
    guarded
      ? StepScript.shell(
        rendered.body, bash: bash, prelude: prelude, epilogue: epilogue, creates: fields[.creates],
        unless: fields[.unless], nonce: nonce)
      : StepScript.shell(rendered.body, bash: bash, prelude: prelude, epilogue: epilogue)
  }
}
