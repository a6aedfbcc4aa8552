import Crypto
import Foundation

/// A run as its reports show it: the journal's records with the runbook they ran, read
/// from a run directory. Every report is rendered from this, so `runbook report` can
/// render them again at any time, also for an interrupted run.
public struct RunReport: Sendable {
  /// The run directory.
  public var directory: String
  /// The run record.
  public var run: RunRecord
  /// The end record; `nil` when the run did not finish (crash, kill -9).
  public var end: RunEndRecord?
  /// The digest of the journal's last record before the reports.
  public var digest: String
  /// The runbook as it was run (the snapshot in the run directory).
  public var runbook: Runbook
  /// Per step index, the latest record of each host, hosts in the order they first ran.
  public var results: [Int: [StepRecord]]

  /// The name of the runbook snapshot in a run directory.
  public static let snapshotName = "runbook.md"

  /// The run's outcome: passed, failed, interrupted, dry-run, or incomplete.
  public var status: String { end?.status ?? "incomplete" }

  /// Reads a run directory.
  public static func load(directory: String) throws -> RunReport {
    let journalPath = directory + "/journal.jsonl"
    guard FileManager.default.fileExists(atPath: journalPath) else {
      throw ReportError("\(directory) is not a run directory: it has no journal.jsonl")
    }
    let contents = try Journal.readAll(path: journalPath)
    guard let run = contents.run else { throw ReportError("\(journalPath) has no run record") }
    let snapshot = directory + "/" + snapshotName
    guard let data = FileManager.default.contents(atPath: snapshot) else {
      throw ReportError("\(snapshot) is missing: the run directory is incomplete")
    }
    let (runbook, _) = Runbook.parse(String(decoding: data, as: UTF8.self), file: run.runbook)
    var results: [Int: [StepRecord]] = [:]
    for record in contents.steps {
      var list = results[record.index, default: []]
      if let at = list.firstIndex(where: { $0.host == record.host }) {
        list[at] = record
      } else {
        list.append(record)
      }
      results[record.index] = list
    }
    return RunReport(
      directory: directory, run: run, end: contents.end, digest: contents.digest,
      runbook: runbook, results: results)
  }

  /// What a step without records is: not selected, or not reached.
  func absence(of step: Step) -> String {
    if let selected = run.selectedSteps, !selected.contains(step.index) { return "not selected" }
    return "not reached"
  }

  /// Step×host records per status, with steps that did not run.
  public var counts: [(status: String, count: Int)] {
    var counts: [String: Int] = [:]
    for step in runbook.steps {
      let records = results[step.index] ?? []
      if records.isEmpty { counts[absence(of: step), default: 0] += 1 }
      for record in records { counts[record.status.rawValue, default: 0] += 1 }
    }
    let order = [
      "ok", "failed", "timeout", "interrupted", "skipped", "pending", "not reached", "not selected",
    ]
    return order.compactMap { key in counts[key].map { (key, $0) } }
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
