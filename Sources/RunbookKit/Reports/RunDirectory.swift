import Crypto
import Foundation

/// The files of a run directory and the operations on them: render every report, verify
/// that nothing was changed afterwards.
public enum RunDirectory {
  /// The report files, by name.
  public static let reportFiles = ["report.html", "report.md", "run.json", "junit.xml"]

  /// Renders every report from the journal and records their SHA-256 in the journal.
  @discardableResult
  public static func writeReports(directory: String) async throws -> RunReport {
    let report = try RunReport.load(directory: directory)
    let renderers: [(String, @Sendable (inout FileSink) -> Void)] = [
      ("report.html", { report.writeHTML(to: &$0) }),
      ("report.md", { report.writeMarkdown(to: &$0) }),
      ("run.json", { report.writeJSON(to: &$0) }), ("junit.xml", { report.writeJUnit(to: &$0) }),
    ]
    // The four renderings are independent: they run at once, each streaming to its file.
    let hashes = try await withThrowingTaskGroup(of: (String, String).self) { group in
      for (name, render) in renderers {
        group.addTask {
          // Written beside the old file and renamed, so a reader never sees half a report.
          let temporary = directory + "/." + name + ".tmp"
          var sink = try FileSink(path: temporary)
          render(&sink)
          let hash: String
          do {
            hash = try sink.finish()
          } catch {
            unlink(temporary)  // half a report (a full disk) is no report
            throw error
          }
          if rename(temporary, directory + "/" + name) != 0 {
            throw ReportError("cannot write \(directory)/\(name)")
          }
          return (name, hash)
        }
      }
      var hashes: [String: String] = [:]
      for try await (name, hash) in group { hashes[name] = hash }
      return hashes
    }
    let journal = try Journal(path: directory + "/journal.jsonl")
    try await journal.append(ReportsRecord(files: hashes, renderedAt: report.digest))
    await journal.close()
    try RunLedger.record(directory: directory)
    return report
  }

  /// A file of a run directory that does not match what the journal recorded.
  public struct Mismatch: Sendable, Equatable, CustomStringConvertible {
    /// The file, relative to the run directory (with `:LINE` for a journal record).
    public var file: String
    /// What does not match.
    public var problem: String
    /// `FILE: problem`.
    public var description: String { "\(file): \(problem)" }
  }

  /// Checks the journal's digest chain, the runbook snapshot, every log and every report
  /// against the SHA-256 the journal recorded; the first mismatch comes first.
  public static func verify(directory: String) -> [Mismatch] {
    let journalPath = directory + "/journal.jsonl"
    guard FileManager.default.fileExists(atPath: journalPath) else {
      return [Mismatch(file: "journal.jsonl", problem: "missing: this is not a run directory")]
    }
    var problems: [Mismatch] = []
    do {
      if let line = try Journal.verifyChain(path: journalPath) {
        problems.append(
          Mismatch(
            file: "journal.jsonl:\(line)",
            problem:
              "record does not match the digest chain (edited, inserted, removed or reordered)"))
      }
    } catch {
      return [Mismatch(file: "journal.jsonl", problem: "cannot be read: \(error)")]
    }
    guard let contents = try? Journal.readAll(path: journalPath), let run = contents.run else {
      return problems + [Mismatch(file: "journal.jsonl", problem: "has no run record")]
    }
    problems += hashProblems(contents, directory: directory)
    problems += RunSignature.statementProblems(directory: directory, run: run)
    if let cut = RunLedger.problem(
      directory: directory, journalDigests: Set(Journal.digests(path: journalPath)))
    {
      problems.append(Mismatch(file: "journal.jsonl", problem: cut))
    }
    if let truncated = truncation(contents, directory: directory) { problems.append(truncated) }
    problems += unrecordedFiles(contents, directory: directory)
    if let reports = contents.reports {
      for name in reports.files.keys.sorted()
      where sha256(file: directory + "/" + name) != reports.files[name] {
        problems.append(
          Mismatch(file: name, problem: "does not match the SHA-256 recorded when it was rendered"))
      }
    } else {
      problems.append(
        Mismatch(
          file: "journal.jsonl",
          problem: "has no reports record: run `runbook report` to render them"))
    }
    return problems
  }

  /// Every file a record hashes that does not match: each attempt's runbook snapshot, each
  /// log.
  private static func hashProblems(_ contents: Journal.Contents, directory: String) -> [Mismatch] {
    var problems: [Mismatch] = []
    // Before attempts had their own snapshot, every attempt wrote runbook.md: it holds one
    // of theirs.
    let legacy = contents.attempts.filter { $0.snapshot == nil }
    if !legacy.isEmpty,
      !legacy.contains(where: {
        sha256(file: directory + "/" + RunReport.snapshotName) == $0.runbookSHA256
      })
    {
      problems.append(
        Mismatch(
          file: RunReport.snapshotName,
          problem: "does not match the runbook SHA-256 in the run record"))
    }
    let hashed: [(file: String, hash: String, what: String)] =
      contents.attempts.compactMap { attempt in
        attempt.snapshot.map {
          (
            file: $0, hash: attempt.runbookSHA256,
            what: "the runbook SHA-256 recorded for attempt \(attempt.attempt ?? 1)"
          )
        }
      }
      + contents.steps.compactMap { record in
        record.log.map {
          (
            file: $0, hash: record.outputSHA256,
            what: "the output SHA-256 recorded for \(record.step) on \(record.host)"
          )
        }
      }
    for (file, hash, what) in hashed where sha256(file: directory + "/" + file) != hash {
      problems.append(Mismatch(file: file, problem: "does not match " + what))
    }
    return problems
  }

  /// A finished run ends with an end record: a journal cut short is not an interrupted run
  /// when the run's own reports say it finished.
  private static func truncation(_ contents: Journal.Contents, directory: String) -> Mismatch? {
    guard contents.end == nil,
      let data = FileManager.default.contents(atPath: directory + "/run.json"),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let status = (object["status"] as? String).flatMap(RunStatus.init(rawValue:)),
      status != .incomplete
    else { return nil }
    return Mismatch(
      file: "journal.jsonl",
      problem: "is truncated: run.json records a \(status) run, but the journal has no end record")
  }

  /// Files the journal does not account for: it names each log, the rest are known by name.
  private static func unrecordedFiles(_ contents: Journal.Contents, directory: String)
    -> [Mismatch]
  {
    var expected: Set<String> = Set(
      reportFiles + ["journal.jsonl", RunSignature.fileName, RunSignature.signatureName]
        + contents.attempts.map(\.snapshotFile))
    if contents.attempts.contains(where: { $0.snapshot == nil }) {
      expected.insert(RunDirectoryLock.legacyFileName)
    }
    for record in contents.steps { if let log = record.log { expected.insert(log) } }
    // A step whose record was never written (the tool was killed) left its log.
    for start in contents.starts {
      expected.insert(
        start.log ?? RunLayout.logPath(index: start.index, step: start.step, host: start.host))
    }
    var problems: [Mismatch] = []
    let entries =
      FileManager.default.enumerator(atPath: directory)?.compactMap { $0 as? String } ?? []
    for entry in entries.sorted() where !expected.contains(entry) {
      var isDirectory: ObjCBool = false
      let exists = FileManager.default.fileExists(
        atPath: directory + "/" + entry, isDirectory: &isDirectory)
      if !exists || isDirectory.boolValue { continue }
      problems.append(
        Mismatch(file: entry, problem: "is not recorded in the journal (added after the run?)"))
    }
    return problems
  }

  static func sha256(file path: String) -> String? { Digest.sha256(file: path) }

  /// What changed between two runs, per step and host: status, rendered script, output.
  /// Lines a package manager or a downloader prints about its progress (apt, dpkg, curl's
  /// meter, pip, wget): they differ from run to run without saying anything changed.
  static let progressLine = try! NSRegularExpression(
    pattern:
      #"^\s*(?:(?:Get|Hit|Ign|Err):\d+ |Reading (?:package lists|state information)|Building dependency tree|Fetched [\d.,]+ [kMG]?B in |(?:Selecting previously unselected|Preparing to unpack|Unpacking|Setting up|Processing triggers for) |\(Reading database \.\.\.|% Total +% Received|Dload +Upload|[\d.]+[kMG]? +\d+ +[\d.]+[kMG]? +\d+ |Downloading |Collecting |Using cached |━|--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--|Resolving .* \(|Connecting to .*\|?:\d+|HTTP request sent|Length: |Saving to: |\d+K[ .]+\d+%)"#
  )

  /// Whether `line` is only a tool's progress.
  static func isProgress(_ line: String) -> Bool {
    progressLine.firstMatch(in: line, range: NSRange(line.startIndex..., in: line)) != nil
  }

  /// The comparison of two runs, per step and host; `progress` keeps the lines
  /// `isProgress` leaves out of the outputs by default.
  public static func diff(_ a: RunReport, _ b: RunReport, progress: Bool = false) -> String {
    var out = "--- \(a.run.runID) (\(a.status))\n+++ \(b.run.runID) (\(b.status))\n"
    let idsA = a.runbook.steps.map(\.id)
    let idsB = b.runbook.steps.map(\.id)
    var order = idsA
    for id in idsB where !order.contains(id) { order.append(id) }
    var changes = 0
    for id in order {
      let stepA = a.runbook.steps.first { $0.id == id }
      let stepB = b.runbook.steps.first { $0.id == id }
      guard let stepA, let stepB else {
        out += "\n\(id): only in \(stepA == nil ? b.run.runID : a.run.runID)\n"
        changes += 1
        continue
      }
      let recordsA = a.results[stepA.index] ?? []
      let recordsB = b.results[stepB.index] ?? []
      var hosts = recordsA.map(\.host)
      for r in recordsB where !hosts.contains(r.host) { hosts.append(r.host) }
      if hosts.isEmpty, a.absence(of: stepA) != b.absence(of: stepB) {
        out += "\n\(id): \(a.absence(of: stepA)) → \(b.absence(of: stepB))\n"
        changes += 1
      }
      for host in hosts {
        let ra = recordsA.first { $0.host == host }
        let rb = recordsB.first { $0.host == host }
        var lines: [String] = []
        let statusA = ra?.status.rawValue ?? a.absence(of: stepA).rawValue
        let statusB = rb?.status.rawValue ?? b.absence(of: stepB).rawValue
        if statusA != statusB { lines.append("  status: \(statusA) → \(statusB)") }
        if let ra, let rb {
          if ra.script != rb.script {
            lines.append("  script:")
            lines += LineDiff.lines(TextLines.split(ra.script), TextLines.split(rb.script)).map {
              "    " + $0
            }
          }
          let outputA = TextLines.split(ra.outputTail).filter { progress || !isProgress($0) }
          let outputB = TextLines.split(rb.outputTail).filter { progress || !isProgress($0) }
          if outputA != outputB {
            lines.append("  output:")
            lines += LineDiff.lines(outputA, outputB)
              .filter {
                !$0.hasPrefix("  ")
              }
              .map { "    " + $0 }
          }
          let session = SessionRecord.differences(ra.session, rb.session)
          if !session.isEmpty {
            lines.append("  session:")
            lines += session.map { "    " + $0 }
          }
        }
        if !lines.isEmpty {
          changes += 1
          out += "\n\(id) on \(host):\n" + lines.joined(separator: "\n") + "\n"
        }
      }
    }
    return out
      + (changes == 0 ? "\nno differences in status, scripts, output or session\n" : "")
  }

}
