import Yams

/// What the steps that edit a host's file share: they read it first (guards included),
/// merge the block into what they read, and write the result like a file step.
enum FileMerge {
  /// Why a merge cannot be made from what was read.
  struct Refusal: Error {
    /// The reason, for the record.
    var reason: String

    init(_ reason: String) { self.reason = reason }
  }

  /// Reads the file on the host, then writes `merge(current)`; `current` is nil when the
  /// file does not exist.
  static func script(
    _ input: ScriptInput, on host: HostAccess,
    merge: (String?) -> Result<String, Refusal>
  ) async -> ScriptOrEnd {
    let path = input.fields[.file] ?? ""
    let creates = input.fields[.creates]
    let unless = input.fields[.unless]
    let (fetch, fetched) = await host.run(
      StepScript.fetch(path, creates: creates, unless: unless, nonce: input.nonce))
    if !fetch.succeeded {
      return .end(
        StepVerdict(
          HostStepRunner.status(of: fetch),
          "cannot read \(path): "
            + (fetched.firstErrorLines.first ?? "exit \(fetch.exitStatus ?? -1)")),
        exitCode: fetch.exitStatus)
    }
    if let skip = StepScript.skipReason(
      fetched.stdout, nonce: input.nonce, creates: creates, unless: unless)
    {
      return .end(StepVerdict(.skipped, skip))
    }
    if fetched.stdoutTruncated {
      return .end(
        StepVerdict(
          .failed,
          "\(path) is larger than \(OutputCollector.keptStdoutLimit) bytes; merge it with a shell step"
        ))
    }
    switch merge(StepScript.fetched(fetched.stdout, nonce: input.nonce)) {
    case .failure(let refusal):
      return .end(StepVerdict(.failed, refusal.reason))
    case .success(let merged):
      return .script(
        StepScript.writeFile(
          path, content: merged, mode: input.attributes.mode, owner: input.fields[.owner],
          nonce: input.nonce))
    }
  }

  /// The export's `runbook_file` task, which does the same edit with runbook's own merge.
  static func exportAction(
    _ input: ScriptInput, edit: String, extra: [(String, Node)] = []
  ) -> ExportAction {
    var args: [(String, Node)] = [
      ("path", PlaybookBuilder.string(input.fields[.file] ?? "")),
      ("edit", PlaybookBuilder.string(edit)),
      ("content", PlaybookBuilder.string(input.rendered.body)),
    ]
    args += extra
    if let mode = input.attributes.mode { args.append(("mode", PlaybookBuilder.string(mode))) }
    if let owner = input.fields[.owner] { args.append(("owner", PlaybookBuilder.string(owner))) }
    return .module("runbook_file", PlaybookBuilder.mapping(args))
  }
}
