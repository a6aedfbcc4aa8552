extension StepKind {
  /// The block is written to `file=` as it is.
  public static let writeFile = StepKind(rawValue: "file")
}

/// Blocks with `file=`: the block is the file's whole content. The host reports whether the
/// file changed and how, which the record keeps as a diff.
struct FileStep: StepKindHandler {
  let kind = StepKind.writeFile
  var writesFile: Bool { true }

  func claims(_ block: BlockFacts) -> Bool { block.attributes.file != nil }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(
      StepScript.writeFile(
        input.fields[.file] ?? "", content: input.rendered.body, mode: input.attributes.mode,
        owner: input.fields[.owner], creates: input.fields[.creates],
        unless: input.fields[.unless], nonce: input.nonce))
  }

  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    run.judgedWithFileChange(record: &record)
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    FileMerge.exportAction(input, edit: "write")
  }
}

extension FinishedRun {
  /// The verdict of a step that writes a file, with the change the host reported recorded
  /// (masked) when the write succeeded.
  func judgedWithFileChange(record: inout StepRecord) -> StepVerdict {
    if (outcome.exitStatus ?? 0) == 0, outcome.signal == nil,
      let change = StepScript.fileChange(stdout, nonce: nonce)
    {
      record.changed = change.changed
      record.diff = change.diff.map(masker.maskDiff)
    }
    return judgedByStatus(record: &record)
  }
}
