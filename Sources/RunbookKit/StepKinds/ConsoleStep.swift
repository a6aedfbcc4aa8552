extension StepKind {
  /// A transcript: `$ `/`# ` lines are commands, the lines after them expected output.
  public static let console = StepKind(rawValue: "console")
}

/// `console` and `shell-session` blocks: each command runs, and its output and exit status
/// are held against the transcript.
struct ConsoleStep: StepKindHandler {
  let kind = StepKind.console
  let session = SessionUse.carries
  var checksItsOutput: Bool { true }

  /// The languages that are transcripts of a terminal session.
  static let languages: Set<String> = ["console", "shell-session"]

  /// The marker of a console step's command outputs in an export (a run's own nonce would
  /// make every export differ).
  static let exportNonce = "RUNBOOK-CONSOLE-OUTPUT"

  func claims(_ block: BlockFacts) -> Bool { Self.languages.contains(block.language) }

  func script(_ input: ScriptInput, on host: HostAccess) async -> ScriptOrEnd {
    .script(
      StepScript.console(
        ConsoleTranscript(input.rendered.body), prelude: input.prelude,
        epilogue: input.epilogue, creates: input.fields[.creates], unless: input.fields[.unless],
        nonce: input.nonce))
  }

  /// Each command's output and status against the transcript; the exit status of the
  /// whole script says nothing more.
  func judge(_ run: FinishedRun, record: inout StepRecord) -> StepVerdict {
    Self.judge(ConsoleTranscript(run.rendered.body), prompt: "$ ", run: run, record: &record)
  }

  /// Each command's output and status in `run` against `transcript`; a mismatch is recorded
  /// as a diff under the command, shown after `prompt`.
  static func judge(
    _ transcript: ConsoleTranscript, prompt: String, run: FinishedRun, record: inout StepRecord
  ) -> StepVerdict {
    let outputs = StepScript.consoleOutputs(run.stdout, nonce: run.nonce)
    for (i, command) in transcript.commands.enumerated() {
      guard i < outputs.count else {
        return StepVerdict(.failed, "console: '\(run.masker.mask(command.command))' did not run")
      }
      let (lines, status) = outputs[i]
      if status != command.expectedStatus || !ConsoleTranscript.matches(lines, command.expected) {
        var diff =
          [prompt + command.command]
          + ConsoleTranscript.diff(expected: command.expected, actual: lines)
        if status != command.expectedStatus {
          diff.append("exit status \(status), expected \(command.expectedStatus)")
        }
        record.mismatch = run.masker.mask(diff.joined(separator: "\n"))
        return StepVerdict(
          .failed,
          "console: output of '\(run.masker.mask(command.command))' differs from the transcript")
      }
    }
    return StepVerdict(.ok)
  }

  func exportAction(_ input: ScriptInput) -> ExportAction {
    .script(
      StepScript.console(
        ConsoleTranscript(input.rendered.body), prelude: input.prelude, epilogue: input.epilogue,
        nonce: Self.exportNonce))
  }

  /// Each command's output against the transcript, with runbook's line patterns; the
  /// expected lines are templated by Ansible like the commands.
  func exportCheck(_ input: ScriptInput, register: String) -> ExportCheck? {
    Self.exportCheck(ConsoleTranscript(input.rendered.body), register: register)
  }

  /// The export's check of each command's output against `transcript`.
  static func exportCheck(_ transcript: ConsoleTranscript, register: String) -> ExportCheck? {
    let commands = transcript.commands.map { command in
      PlaybookBuilder.mapping([
        ("command", PlaybookBuilder.string(command.command)),
        ("expected", .sequence(.init(command.expected.map { PlaybookBuilder.string($0) }))),
      ])
    }
    let mismatch =
      "\(register).stdout | runbook_console('\(exportNonce)', runbook_transcript)"
    return ExportCheck(
      what: "output matches the transcript",
      input: ("runbook_transcript", .sequence(.init(commands))), that: "\(mismatch) == ''",
      failMessage: "{{ \(mismatch) }}")
  }

  func quotedValue(_ name: String) -> String? { "{{ \(name) | quote }}" }
}
