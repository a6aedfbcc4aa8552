import Foundation

/// What a reader looks for first, shared by the HTML and Markdown reports: the first
/// failure, the operator's deviations, the attempts, short step labels.
extension RunReport {
  /// A step's result on a host that went wrong, with where it is.
  struct Failure {
    var step: Step
    var record: StepRecord
  }

  /// The first step, in runbook order, whose result that counts is a failure.
  var firstFailure: Failure? {
    for step in runbook.steps {
      if let record = (results[step.index] ?? []).first(where: { $0.status.isProblem }) {
        return Failure(step: step, record: record)
      }
    }
    return nil
  }

  /// How many results that count were edited, skipped or confirmed by the operator.
  var deviationCounts: [(action: OperatorAction, count: Int)] {
    var counts: [OperatorAction: Int] = [:]
    for records in results.values {
      for record in records {
        if let action = record.operatorAction { counts[action, default: 0] += 1 }
      }
    }
    let order: [OperatorAction] = [.edited, .skipped, .confirmed, .declined]
    return order.compactMap { action in counts[action].map { (action, $0) } }
  }

  /// One way the run departed from the runbook as written: an operator's edit, skip or
  /// manual answer, an interactive retry, or a step whose text changed between attempts.
  public struct Deviation: Sendable, Equatable {
    /// `edited`, `skipped`, `confirmed`, `declined`, `retried` or `changed`.
    public var kind: String
    /// The step's id.
    public var step: String
    /// The host, where the deviation was on one.
    public var host: String?
    /// The attempt it happened in.
    public var attempt: Int
    /// The diff of an edit or a change between attempts, masked.
    public var diff: String?
    /// For a change between attempts, what changed (`check`, `script`, `attributes`).
    public var what: String? = nil
  }

  /// Every deviation, in runbook order: what counts of the operator's answers, every
  /// interactive retry, every change of a step's text between attempts.
  public var deviations: [Deviation] {
    var list: [Deviation] = []
    for step in runbook.steps {
      for record in results[step.index] ?? [] {
        if let action = record.operatorAction {
          list.append(
            Deviation(
              kind: action.rawValue, step: step.id, host: record.host,
              attempt: record.attempt ?? 1, diff: record.deviation))
        }
      }
      for record in history[step.index] ?? [] where (record.retry ?? 0) > 0 {
        list.append(
          Deviation(
            kind: "retried", step: step.id, host: record.host, attempt: record.attempt ?? 1,
            diff: nil))
      }
      for change in stepChanges where change.step == step.id {
        list.append(
          Deviation(
            kind: "changed", step: step.id, host: nil, attempt: change.attempt, diff: change.diff,
            what: change.what))
      }
    }
    return list
  }

  /// The steps whose text changed between attempts, by id.
  var changedSteps: Set<String> { Set(stepChanges.map(\.step)) }

  /// "with 1 edit, 2 operator skips, 1 step changed between attempts (check)", or "" when
  /// the run went as written.
  public var deviationSummary: String {
    var parts = deviationCounts.map { action, count -> String in
      let noun: String
      switch action {
      case .edited: noun = count == 1 ? "edit" : "edits"
      case .skipped: noun = count == 1 ? "operator skip" : "operator skips"
      case .confirmed: noun = count == 1 ? "manual confirmation" : "manual confirmations"
      case .declined: noun = count == 1 ? "manual step declined" : "manual steps declined"
      }
      return "\(count) \(noun)"
    }
    let retries = history.values.joined().count { ($0.retry ?? 0) > 0 }
    if retries > 0 { parts.append("\(retries) interactive \(retries == 1 ? "retry" : "retries")") }
    let changed = runbook.steps.compactMap { step in stepChanges.last { $0.step == step.id } }
    if !changed.isEmpty {
      parts.append(
        "\(changed.count) \(changed.count == 1 ? "step" : "steps") changed between attempts ("
          + changed.map { "the \($0.what) of \($0.step)" }.joined(separator: ", ") + ")")
    }
    return parts.isEmpty ? "" : "with " + parts.joined(separator: ", ")
  }

  /// What became of a screenshot the guide put after a step, in this run.
  enum ScreenshotFate: Equatable {
    /// The step's real output stands in its place (on these hosts).
    case replaced(hosts: [String])
    /// The step's output stands at its first screenshot; this one is kept, as it may show
    /// what no output can (a web page, a dashboard).
    case outputShownEarlier
    /// The step's guard found the work done: its words are the evidence.
    case guardEvidence(reason: String)
    /// No output of this run shows it (why).
    case notShown(String)
  }

  /// The fate of `step`'s screenshot number `shot` (0-based).
  func screenshotFate(_ step: Step, shot: Int) -> ScreenshotFate {
    let records = results[step.index] ?? []
    guard !records.isEmpty else { return .notShown("its step did not run") }
    let guarded = records.filter { Self.effect(of: $0, step: step) == .skippedByGuard }
    if guarded.count == records.count, let reason = guarded.first?.reason {
      return .guardEvidence(reason: reason)
    }
    let printed = records.filter {
      $0.outputBytes > 0 || $0.diff?.isEmpty == false || $0.mismatch != nil
    }
    guard !printed.isEmpty else { return .notShown("its step printed nothing") }
    return shot == 0 ? .replaced(hosts: printed.map(\.host)) : .outputShownEarlier
  }

  /// The badge's word and class: a passed run with deviations is not a clean pass.
  var badge: (text: String, cls: String) {
    status == .passed && !deviationSummary.isEmpty
      ? ("passed, with deviations", "passed deviated") : (status.rawValue, status.rawValue)
  }

  /// The effective counts in words, with the number of attempts when there was more than one.
  public var resultLine: String {
    var line = counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ")
    if attempts.count > 1 { line += " · \(attempts.count) attempts" }
    if !effectLine.isEmpty { line += " · " + effectLine }
    return line
  }

  /// What a result did to its host, as far as its record tells: a file step `changed` its
  /// file or left it `unchanged`; a command with a guard (`creates=`, `unless=`) that ran
  /// `changed` what the guard looks at, or was `skipped by guard`; a command without one
  /// `ran` (whether it changed anything, only the command knows).
  public enum Effect: String, Sendable, CaseIterable {
    case changed, unchanged
    case skippedByGuard = "skipped by guard"
    case ran
  }

  /// The effect of `record`, a result of `step`; nil where it did nothing to the host
  /// (failed, not run, skipped by the operator, a manual step).
  public static func effect(of record: StepRecord, step: Step) -> Effect? {
    let guarded = step.attributes.creates != nil || step.attributes.unless != nil
    switch record.status {
    case .ok where step.kind.handler.writesFile:
      return record.changed == true ? .changed : .unchanged
    case .ok where step.kind == .manual:
      return nil
    case .ok:
      return guarded ? .changed : .ran
    case .skipped where guarded && StepScript.isGuardSkip(record.reason):
      return .skippedByGuard
    default:
      return nil
    }
  }

  /// How many results had each effect, in `Effect`'s order, leaving out the zeros.
  var effectCounts: [(effect: Effect, count: Int)] {
    var counts: [Effect: Int] = [:]
    for step in runbook.steps {
      for record in results[step.index] ?? [] {
        if let effect = Self.effect(of: record, step: step) { counts[effect, default: 0] += 1 }
      }
    }
    return Effect.allCases.compactMap { effect in counts[effect].map { (effect, $0) } }
  }

  /// "12 changed, 40 unchanged, 3 skipped by guard, 5 ran", or "" when nothing ran.
  public var effectLine: String {
    effectCounts.map { "\($0.count) \($0.effect.rawValue)" }.joined(separator: ", ")
  }

  /// A short label for a step in the grid: the author's name when there is one, else its
  /// position and heading (an id made from headings can be long).
  func label(of step: Step) -> String {
    stepLabels[step.index] ?? Self.baseLabel(of: step)
  }

  /// Every step's label: its name, else its heading and a short summary of what it does;
  /// a label more than one step would have gets the step's line, so none is shared.
  static func labels(of runbook: Runbook) -> [Int: String] {
    let base = runbook.steps.map { baseLabel(of: $0) }
    let counts = Dictionary(base.map { ($0, 1) }, uniquingKeysWith: +)
    var labels: [Int: String] = [:]
    for (step, label) in zip(runbook.steps, base) {
      labels[step.index] = counts[label, default: 0] > 1 ? "\(label) (line \(step.line))" : label
    }
    return labels
  }

  /// A step's name, else "heading: first line" (each part shortened).
  static func baseLabel(of step: Step) -> String {
    if let name = step.attributes.name { return name }
    let heading = shortened(step.headingPath.last ?? "", to: 32)
    let summary = shortened(firstLineSummary(of: step), to: 32)
    if heading.isEmpty { return summary.isEmpty ? "step \(step.index + 1)" : summary }
    return summary.isEmpty ? heading : heading + ": " + summary
  }

  /// What a step does, in a few words: the file it writes, else its first line that is not
  /// a comment (a transcript's first command, without its prompt).
  static func firstLineSummary(of step: Step) -> String {
    if let file = step.attributes.file {
      return (step.attributes.append ? "append to " : "") + file
    }
    guard step.kind == .console else { return StepBuilder.firstCommandLine(step.body) ?? "" }
    // A transcript's first command: a `# ` line is root's prompt there, not a comment.
    let command = TextLines.split(step.body).map { $0.trimmingCharacters(in: .whitespaces) }
      .first { $0.hasPrefix("$ ") || $0.hasPrefix("# ") }
    return command.map { String($0.dropFirst(2)) } ?? ""
  }

  /// `text` cut to `limit` characters, an ellipsis marking the cut.
  static func shortened(_ text: String, to limit: Int) -> String {
    text.count > limit
      ? String(text.prefix(limit - 1)).trimmingCharacters(in: .whitespaces) + "…" : text
  }

  /// How `r`, a result of `step`, came after other runs on its host, in words ("3 tries;
  /// after 1 earlier run: attempt 1 failed"); empty when it ran once.
  func runsBefore(_ r: StepRecord, of step: Step) -> String {
    var parts: [String] = []
    if r.attempts > 1 { parts.append("\(r.attempts) tries (retries=)") }
    let earlier = earlierRecords(of: step).filter { $0.host == r.host }
    if !earlier.isEmpty {
      let runs = earlier.map { e in
        "attempt \(e.attempt ?? 1)\(e.retry.map { " retry \($0)" } ?? "") \(e.status.rawValue)"
      }
      parts.append(
        "after \(earlier.count) earlier \(earlier.count == 1 ? "run" : "runs"): "
          + runs.joined(separator: ", "))
    }
    return parts.joined(separator: "; ")
  }

  /// One line of a step's history on a host: attempt, status, why.
  static func historyLine(_ record: StepRecord) -> String {
    var line = "attempt \(record.attempt ?? 1)"
    if let retry = record.retry { line += ", retry \(retry)" }
    line += ": \(record.status.rawValue) on \(record.host)"
    if let code = record.exitCode { line += " (exit \(code))" }
    if let action = record.operatorAction { line += " [\(action.rawValue) by the operator]" }
    if let reason = record.reason { line += " — \(reason)" }
    return line
  }

  /// The records of a step that ran before its result that counts (earlier attempts and
  /// retries), for the history shown with the step.
  func earlierRecords(of step: Step) -> [StepRecord] {
    let effective = Set((results[step.index] ?? []).map(\.identity))
    return (history[step.index] ?? []).filter { !effective.contains($0.identity) }
  }

  /// Whether the runbook of attempt `n` differs from the one before it.
  func runbookChanged(inAttempt n: Int) -> Bool {
    guard n > 1, attempts.count >= n else { return false }
    return attempts[n - 1].runbookSHA256 != attempts[n - 2].runbookSHA256
  }
}

extension StepRecord {
  /// Tells apart the records of one step and host: attempt, retry and start.
  var identity: String { "\(attempt ?? 1)/\(retry ?? 0)/\(host)/\(startedAt)" }
}

extension StepStatus {
  /// A result a reader must look at: it failed, or its end is not known.
  var isProblem: Bool {
    switch self {
    case .failed, .timeout, .interrupted, .unknown: return true
    case .ok, .skipped, .pending: return false
    }
  }
}

extension RunReport {
  /// The lines of `r`'s output tail that standard error wrote (1-based).
  static func stderrLineNumbers(_ r: StepRecord) -> Set<Int> {
    // Only lines the tail has: a record's pairs are read, not trusted.
    let count = r.outputTail.utf8.count { $0 == UInt8(ascii: "\n") } + 1
    var lines: Set<Int> = []
    for pair in r.stderrLines ?? [] where pair.count == 2 {
      let (low, high) = (max(pair[0], 1), min(pair[1], count))
      if low <= high { lines.formUnion(low...high) }
    }
    return lines
  }

  /// "lines 2–4, 9" of a set of 1-based line numbers, as runs.
  static func lineRuns(_ lines: [Int]) -> String {
    var runs: [String] = []
    var start: Int?
    var previous = 0
    for line in lines.sorted() + [Int.max] {
      if start != nil, line == previous + 1 {
        previous = line
        continue
      }
      if let first = start { runs.append(first == previous ? "\(first)" : "\(first)–\(previous)") }
      start = line
      previous = line
    }
    return (runs.count == 1 && !runs[0].contains("–") ? "line " : "lines ")
      + runs.joined(separator: ", ")
  }
}
