import Yams

extension StepKind {
  /// The block's `key = value` lines are merged into sections of the INI file `file=`.
  public static let iniMerge = StepKind(rawValue: "ini")
}

/// `ini` blocks with `file=`: the host's file is read, the block's settings merged into it
/// (`section=` for lines before any header), and the result written like a file step.
struct INIMergeStep: StepKindHandler {
  let kind = StepKind.iniMerge
  var writesFile: Bool { true }

  func claims(_ block: BlockFacts) -> Bool {
    block.attributes.file != nil && block.language == "ini"
  }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    await FileMerge.script(input, on: host) { current in
      guard current != nil || input.attributes.create else {
        return .failure(
          FileMerge.Refusal(
            "\(input.fields[.file] ?? "") does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)"
          ))
      }
      return .success(
        FileEdit.mergeINI(
          input.rendered.body, into: current ?? "", section: input.attributes.section))
    }
  }

  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    run.judgedWithFileChange(record: &record)
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    var extra: [(String, Node)] = []
    if let section = input.attributes.section {
      extra.append(("section", PlaybookBuilder.string(section)))
    }
    if input.attributes.create { extra.append(("create", Node("true", Tag(.bool)))) }
    return FileMerge.exportAction(input, edit: "ini", extra: extra)
  }
}
