import Yams

extension StepKind {
  /// An action a person must take; batch runs record it as pending.
  public static let manual = StepKind(rawValue: "manual")
}

/// `manual` blocks: what the operator does by hand. Nothing runs on a host: the executor
/// asks the operator (`--interactive`) or records the step as pending.
struct ManualStep: StepKindHandler {
  let kind = StepKind.manual
  var runsCommands: Bool { false }

  func claims(_ block: BlockFacts) -> Bool { block.language == "manual" }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .end(StepVerdict(.pending, "manual step: confirm it with --interactive"))
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .module(
      "ansible.builtin.pause",
      PlaybookBuilder.mapping([("prompt", PlaybookBuilder.string(input.rendered.body))]))
  }
}
