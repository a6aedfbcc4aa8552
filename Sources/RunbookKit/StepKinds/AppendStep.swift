import Yams

extension StepKind {
  /// The block is added once to `file=`, between marker lines.
  public static let appendBlock = StepKind(rawValue: "append")
}

/// Blocks with `file=` and `append`: the block goes once into the host's file, between
/// marker lines named after the step, replacing what an earlier run put there.
struct AppendStep: StepKindHandler {
  let kind = StepKind.appendBlock
  var writesFile: Bool { true }

  func claims(_ block: BlockFacts) -> Bool {
    block.attributes.file != nil && block.attributes.append
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    await FileMerge.script(input, on: host) { current in
      .success(FileEdit.appendBlock(input.rendered.body, to: current ?? "", id: input.step.id))
    }
  }

  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    run.judgedWithFileChange(record: &record)
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    FileMerge.exportAction(
      input, edit: "append", extra: [("id", PlaybookBuilder.string(input.step.id))])
  }
}
