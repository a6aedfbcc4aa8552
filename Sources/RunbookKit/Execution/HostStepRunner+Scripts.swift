import Foundation

/// A step's script, or the end of the step before it runs (a file merge that cannot read
/// its file, or whose guard says it is done).
enum ScriptOrEnd {
  case script(StepScript)
  case end(StepStatus, String)
}

extension HostStepRunner {
  /// The script that does a step on a host. A file merge reads the file first (guards
  /// included), then writes like a file step.
  func makeScript(
    _ planned: PlannedStep, _ rendered: RenderedStep, prelude: String, nonce: String,
    runAs: String?, transport: any Transport, masker: SecretMasker, record: inout StepRecord
  ) async -> ScriptOrEnd {
    let step = planned.step
    let a = step.attributes
    let fields = rendered.fields
    let guards = (creates: fields[.creates], unless: fields[.unless])
    switch step.kind {
    case .iniMerge, .appendBlock:
      let path = fields[.file] ?? ""
      let fetchCollector = OutputCollector(
        logPath: nil, masker: masker, hiddenPrefixes: [], echo: nil)
      let fetch = await transport.run(
        StepScript.fetch(path, creates: guards.creates, unless: guards.unless, nonce: nonce),
        as: runAs, timeout: a.timeout, collector: fetchCollector)
      let fetched = fetchCollector.finish()
      if !fetch.succeeded {
        record.attempts = 1
        record.exitCode = fetch.exitStatus
        return .end(
          Self.status(of: fetch),
          "cannot read \(path): "
            + (fetched.firstErrorLines.first ?? "exit \(fetch.exitStatus ?? -1)"))
      }
      if let skip = StepScript.skipReason(
        fetched.stdout, nonce: nonce, creates: guards.creates, unless: guards.unless)
      {
        record.attempts = 1
        return .end(.skipped, skip)
      }
      if fetched.stdoutTruncated {
        record.attempts = 1
        return .end(
          .failed,
          "\(path) is larger than \(OutputCollector.keptStdoutLimit) bytes; merge it with a shell step"
        )
      }
      let current = StepScript.fetched(fetched.stdout, nonce: nonce)
      if current == nil, step.kind == .iniMerge, !a.create {
        record.attempts = 1
        return .end(
          .failed,
          "\(path) does not exist: install the package that provides it first, or add 'create' to the step to create it (mode 0644 unless mode= says otherwise)"
        )
      }
      let merged =
        step.kind == .iniMerge
        ? FileEdit.mergeINI(rendered.body, into: current ?? "", section: a.section)
        : FileEdit.appendBlock(rendered.body, to: current ?? "", id: step.id)
      return .script(
        StepScript.writeFile(
          path, content: merged, mode: a.mode, owner: fields[.owner], nonce: nonce))
    case .writeFile:
      return .script(
        StepScript.writeFile(
          fields[.file] ?? "", content: rendered.body, mode: a.mode, owner: fields[.owner],
          creates: guards.creates, unless: guards.unless, nonce: nonce))
    case .console:
      return .script(
        StepScript.console(
          ConsoleTranscript(rendered.body), prelude: prelude, creates: guards.creates,
          unless: guards.unless, nonce: nonce))
    case .sql:
      return .script(
        StepScript.sql(
          rendered.body, client: fields[.client], prelude: prelude, creates: guards.creates,
          unless: guards.unless, nonce: nonce))
    case .program:
      return .script(
        StepScript.program(
          rendered.body,
          interpreter: a.interpreter ?? StepKind.interpreterLanguages[step.language.lowercased()]
            ?? "python3",
          prelude: prelude, creates: guards.creates, unless: guards.unless, nonce: nonce))
    case .shell, .bash, .manual:
      return .script(
        StepScript.shell(
          rendered.body, bash: step.kind == .bash, prelude: prelude, creates: guards.creates,
          unless: guards.unless, nonce: nonce))
    }
  }
}
