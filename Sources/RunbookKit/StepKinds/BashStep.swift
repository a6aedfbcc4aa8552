extension StepKind {
  /// A `bash` script run with errexit and pipefail.
  public static let bash = StepKind(rawValue: "bash")
}

/// `bash` blocks, `interpreter=bash`, and a Runme document's shell blocks when its
/// front matter names bash: the body runs under `set -eo pipefail`.
struct BashStep: StepKindHandler {
  let kind = StepKind.bash
  let session = SessionUse.carries

  func claims(_ block: BlockFacts) -> Bool {
    if let interpreter = block.attributes.interpreter {
      return StepKind.shellLanguages[interpreter] == .bash
    }
    switch StepKind.shellLanguages[block.language] {
    case .bash?: return true
    case .shell?: return block.runmeShell?.hasSuffix("bash") == true
    default: return false
    }
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(input.shellScript(bash: true))
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .script(input.shellScript(bash: true, guarded: false))
  }

  func quotedValue(_ name: String) -> String? { "{{ \(name) | quote }}" }
}
