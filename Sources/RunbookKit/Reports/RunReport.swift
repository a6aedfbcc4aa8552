import Crypto
import Foundation

/// A run as its reports show it: the journal's records with the runbook they ran, read
/// from a run directory. Every report is rendered from this, so `runbook report` can
/// render them again at any time, also for an interrupted run.
public struct RunReport: Sendable {
  /// The run directory.
  public var directory: String
  /// The run record of the first attempt (the run's id, runbook file, start).
  public var run: RunRecord
  /// Every attempt's run record, in order; the last one's runbook is the one reported.
  public var attempts: [RunRecord]
  /// The end record; `nil` when the last attempt did not finish (crash, kill -9).
  public var end: RunEndRecord?
  /// The end record of each attempt that finished, by attempt number.
  public var attemptEnds: [Int: RunEndRecord]
  /// The digest of the journal's last record before the reports.
  public var digest: String
  /// The runbook as the last attempt ran it (its snapshot in the run directory).
  public var runbook: Runbook
  /// Per step index, the result that counts on each host (hosts in the order they first
  /// ran): the latest record of a run of the step, in whichever attempt it ran. A later
  /// attempt that found the step done, unchanged, does not replace it.
  public var results: [Int: [StepRecord]]
  /// Per step index, every record of a run of the step, in order (all attempts, retries).
  public var history: [Int: [StepRecord]]
  /// Records of steps the last attempt's runbook no longer has (renamed or removed).
  public var formerSteps: [StepRecord]
  /// Steps whose text in the runbook changed between attempts, where the later attempt
  /// ran them again.
  public var stepChanges: [StepChange] = []
  /// Whether the run is signed, by which key, and how much of the journal it covers.
  public var signature = RunSignature.State.unsigned
  /// Each step's label (see `labels(of:)`), by step index.
  var stepLabels: [Int: String] = [:]

  /// A step whose runbook text an attempt changed before running it again.
  public struct StepChange: Sendable, Equatable {
    /// The step's id.
    public var step: String
    /// The attempt that ran the changed text.
    public var attempt: Int
    /// The fence's lines, from the attempt before to this one (a line diff).
    public var diff: String
    /// What changed, in words: `check` (its `expect=`), `attributes`, `script`, `text`.
    public var what = "text"

    /// What changed from `old` to `new`, the same step in two attempts.
    static func what(from old: Step, to new: Step) -> String {
      var parts: [String] = []
      if old.body != new.body { parts.append("script") }
      if old.attributes.expect != new.attributes.expect {
        parts.append("check")
      } else if old.attributes != new.attributes || old.language != new.language {
        parts.append("attributes")
      }
      return parts.isEmpty ? "text" : parts.joined(separator: " and ")
    }
  }

  /// The name of the first attempt's runbook snapshot in a run directory.
  public static let snapshotName = "runbook.md"

  /// The runbook snapshot of an attempt: `runbook.md`, then `runbook.attempt-N.md`.
  public static func snapshotName(attempt: Int) -> String {
    attempt <= 1 ? snapshotName : "runbook.attempt-\(attempt).md"
  }

  /// The run's outcome: passed, failed, interrupted, dry-run, or incomplete.
  public var status: RunStatus { end?.status ?? .incomplete }

  /// The attempt the reports describe last.
  public var lastAttempt: RunRecord { attempts.last ?? run }

  /// Reads a run directory.
  public static func load(directory: String) throws -> RunReport {
    let journalPath = directory + "/journal.jsonl"
    guard FileManager.default.fileExists(atPath: journalPath) else {
      throw ReportError("\(directory) is not a run directory: it has no journal.jsonl")
    }
    let contents = try Journal.readAll(path: journalPath)
    guard let run = contents.run else { throw ReportError("\(journalPath) has no run record") }
    let last = contents.attempts.last ?? run
    // Journals from before attempts had one snapshot, runbook.md.
    let snapshot = directory + "/" + last.snapshotFile
    guard let data = FileManager.default.contents(atPath: snapshot) else {
      throw ReportError("\(snapshot) is missing: the run directory is incomplete")
    }
    let (runbook, _) = Runbook.parse(String(decoding: data, as: UTF8.self), file: run.runbook)
    let (results, history, former) = effectiveResults(contents.steps, runbook: runbook)
    var report = RunReport(
      directory: directory, run: run, attempts: contents.attempts, end: contents.end,
      attemptEnds: contents.ends, digest: contents.digest, runbook: runbook, results: results,
      history: history, formerSteps: former)
    report.stepChanges = stepChanges(
      directory: directory, attempts: contents.attempts, records: contents.steps, file: run.runbook)
    report.stepLabels = labels(of: runbook)
    report.signature = RunSignature.state(
      directory: directory, records: contents.chain)
    return report
  }

  /// The steps whose fence (attributes and body) an attempt's runbook changed from the
  /// attempt before, among those the attempt ran: read from the attempts' snapshots.
  static func stepChanges(
    directory: String, attempts: [RunRecord], records: [StepRecord], file: String
  ) -> [StepChange] {
    var changes: [StepChange] = []
    var previous: (sha: String, fences: [String: [String]], steps: [String: Step])?
    for (i, attempt) in attempts.enumerated() {
      let n = attempt.attempt ?? i + 1
      guard previous == nil || previous?.sha != attempt.runbookSHA256 else { continue }
      guard let data = FileManager.default.contents(atPath: directory + "/" + attempt.snapshotFile)
      else {
        previous = nil
        continue
      }
      let text = String(decoding: data, as: UTF8.self)
      let lines = TextLines.split(text)
      let (book, _) = Runbook.parse(text, file: file)
      var fences: [String: [String]] = [:]
      var steps: [String: Step] = [:]
      for step in book.steps where step.line >= 1 && step.endLine <= lines.count {
        fences[step.id] = Array(lines[(step.line - 1)..<step.endLine])
        steps[step.id] = step
      }
      if let before = previous {
        let ran = Set(records.filter { ($0.attempt ?? 1) == n && $0.keptFrom == nil }.map(\.step))
        for step in book.steps where ran.contains(step.id) {
          guard let old = before.fences[step.id], let new = fences[step.id], old != new else {
            continue
          }
          changes.append(
            StepChange(
              step: step.id, attempt: n,
              diff: LineDiff.lines(old, new).joined(separator: "\n") + "\n",
              what: before.steps[step.id].map { StepChange.what(from: $0, to: step) } ?? "text"))
        }
      }
      previous = (attempt.runbookSHA256, fences, steps)
    }
    return changes
  }

  /// The result that counts per step and host, each step's history, and records of steps
  /// the runbook no longer has. Records belong to a step by its id.
  static func effectiveResults(_ records: [StepRecord], runbook: Runbook) -> (
    [Int: [StepRecord]], [Int: [StepRecord]], [StepRecord]
  ) {
    var indexByID: [String: Int] = [:]
    for step in runbook.steps { indexByID[step.id] = step.index }
    // Positions in `records` first, records copied once at the end: a record is a large
    // value, and a large run has tens of thousands.
    var effective: [Int: [Int]] = [:]
    var ran: [Int: [Int]] = [:]
    var former: [StepRecord] = []
    for (position, record) in records.enumerated() {
      // Journals from before `keptFrom` said so in the reason.
      let kept =
        record.keptFrom != nil || record.reason == "done in an earlier attempt of this run"
      guard let index = indexByID[record.step] else {
        if !kept { former.append(record) }
        continue
      }
      if !kept { ran[index, default: []].append(position) }
      if let at = effective[index]?.firstIndex(where: { records[$0].host == record.host }) {
        if !kept { effective[index]![at] = position }
      } else {
        effective[index, default: []].append(position)
      }
    }
    let results = effective.mapValues { $0.map { records[$0] } }
    let history = ran.mapValues { $0.map { records[$0] } }
    return (results, history, former)
  }
  /// What a step without records is: not selected (by any attempt), or not reached.
  func absence(of step: Step) -> Absence {
    let selections = attempts.isEmpty ? [run] : attempts
    let selected = selections.contains { attempt in
      attempt.selectedSteps.map { $0.contains(step.index) } ?? true
    }
    return selected ? .notReached : .notSelected
  }

  /// What a host without a record of a step is: the step does not run there, or it does
  /// but was not reached (or not selected). Nil when the run did not record the step's
  /// hosts (journals from before `roleHosts`).
  func absence(of step: Step, on host: String) -> Absence? {
    guard let map = lastAttempt.roleHosts else { return nil }
    let positions = map[step.attributes.roles.joined(separator: " ")] ?? []
    let hosts = lastAttempt.hosts
    let runsThere = positions.contains { hosts.indices.contains($0) && hosts[$0] == host }
    return runsThere ? absence(of: step) : .notOnHost
  }

  /// Step×host records per status, with steps that did not run.
  public var counts: [(status: String, count: Int)] {
    var statuses: [StepStatus: Int] = [:]
    var absences: [Absence: Int] = [:]
    for step in runbook.steps {
      let records = results[step.index] ?? []
      if records.isEmpty { absences[absence(of: step), default: 0] += 1 }
      for record in records { statuses[record.status, default: 0] += 1 }
    }
    let ran = StepStatus.allCases.sorted { $0.displayOrder < $1.displayOrder }
      .compactMap { status in statuses[status].map { (status.rawValue, $0) } }
    return ran
      + Absence.allCases.compactMap { absence in absences[absence].map { (absence.rawValue, $0) } }
  }

  /// Every host that has a record, in order of first appearance.
  public var hosts: [String] {
    var seen: Set<String> = []
    return runbook.steps.flatMap { results[$0.index] ?? [] }.map(\.host).filter {
      seen.insert($0).inserted
    }
  }
}

/// A run directory that cannot be reported on, with what is wrong.
public struct ReportError: Error, CustomStringConvertible, Sendable {
  /// What is wrong.
  public var description: String
  /// Creates an error.
  public init(_ description: String) { self.description = description }
}

extension StepStatus {
  /// A short mark for text reports.
  var mark: String {
    switch self {
    case .ok: return "✅"
    case .failed: return "❌"
    case .skipped: return "⏭️"
    case .pending: return "⏸️"
    case .timeout: return "⏱️"
    case .interrupted: return "⛔"
    case .unknown: return "❓"
    }
  }
}

extension String {
  /// The SHA-256 of the text's UTF-8 bytes, hex.
  var sha256: String {
    Digest.sha256(Data(utf8))
  }
}
