import Foundation

/// The runs recorded in a folder of run directories (`runbook runs`), as ARA lists
/// playbook runs: when, which runbook, who, how it ended, how many attempts, the
/// operator's deviations, and whether the run is signed. A folder that is not a run
/// directory (no journal) is passed over; one whose journal cannot be read is listed as
/// unreadable, never dropped silently.
public struct RunIndex: Sendable {
  /// One run.
  public struct Entry: Sendable, Equatable {
    /// The run directory's name inside the folder.
    public var directory: String
    /// When its first attempt started; empty when unreadable.
    public var startedAt: String
    /// The runbook file, as given.
    public var runbook: String
    /// Who ran the last attempt.
    public var operatorName: String
    /// How it ended (`passed`, `failed`, `incomplete`…), or `unreadable`.
    public var status: String
    /// The attempts the journal holds.
    public var attempts: Int
    /// The operator's deviations (edits, skips, manual answers) in what counts.
    public var deviations: Int
    /// Whether a signature lies beside the journal (`runbook verify` checks it).
    public var signed: Bool
    /// The principal the signature names.
    public var signer: String? = nil
  }

  /// The runs, newest first.
  public var entries: [Entry]

  /// Reads the run directories in `folder`.
  public static func read(_ folder: String) throws -> RunIndex {
    let manager = FileManager.default
    guard let names = try? manager.contentsOfDirectory(atPath: folder) else {
      throw ReportError("\(folder) is not a folder this user can read")
    }
    var entries: [Entry] = []
    for name in names.sorted() {
      let path = folder + "/" + name
      guard manager.fileExists(atPath: path + "/journal.jsonl") else { continue }
      guard let report = try? RunReport.load(directory: path) else {
        entries.append(
          Entry(
            directory: name, startedAt: "", runbook: "", operatorName: "", status: "unreadable",
            attempts: 0, deviations: 0,
            signed: manager.fileExists(atPath: path + "/" + RunSignature.signatureName)))
        continue
      }
      entries.append(
        Entry(
          directory: name, startedAt: report.run.startedAt, runbook: report.run.runbook,
          operatorName: report.lastAttempt.operatorName, status: report.status.rawValue,
          attempts: report.attempts.count,
          deviations: report.deviations.count, signed: report.isSigned,
          signer: report.isSigned ? report.signer : nil))
    }
    entries.sort { ($0.startedAt, $0.directory) > ($1.startedAt, $1.directory) }
    return RunIndex(entries: entries)
  }

  /// A line per run, for the terminal (host text made visible, never sent as is).
  public var text: String {
    guard !entries.isEmpty else { return "no runs\n" }
    let header = [
      "started", "status", "attempts", "deviations", "signed", "operator", "runbook", "run",
    ]
    let rows = entries.map { e in
      [
        e.startedAt.isEmpty ? "—" : e.startedAt, e.status, String(e.attempts),
        String(e.deviations), e.signed ? e.signer ?? "yes" : "no", e.operatorName, e.runbook,
        e.directory,
      ].map(TerminalText.visible)
    }
    var widths = header.map(\.count)
    for row in rows {
      for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) }
    }
    func line(_ cells: [String]) -> String {
      cells.enumerated().map { i, cell in
        i == cells.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0)
      }.joined(separator: "  ") + "\n"
    }
    return line(header) + rows.map(line).joined()
  }

  /// Writes `index.html` into `folder`, private to the operator as the run directories
  /// are (it names operators, runbooks and how their runs ended); returns its path.
  public func writeHTML(into folder: String) throws -> String {
    let path = (folder as NSString).appendingPathComponent("index.html")
    try PrivateFile.write(Data(html.utf8), to: path)
    return path
  }

  /// `index.html`: one self-contained page, each run linking to its report.
  public var html: String {
    let x = Escape.xml
    var rows = ""
    for e in entries {
      let link = "<a href=\"\(x(e.directory))/report.html\">\(x(e.directory))</a>"
      rows +=
        "<tr class=\"\(x(e.status))\"><td>\(x(e.startedAt.isEmpty ? "—" : e.startedAt))</td><td><span class=\"badge \(x(e.status))\">\(x(e.status))</span></td><td>\(e.attempts)</td><td>\(e.deviations == 0 ? "—" : String(e.deviations))</td><td>\(e.signed ? x(e.signer ?? "signed") : "—")</td><td>\(x(e.operatorName))</td><td><code>\(x(e.runbook))</code></td><td>\(link)</td></tr>\n"
    }
    return """
      <!DOCTYPE html>
      <html lang="en"><head><meta charset="utf-8"><title>Runs</title>
      <style>
      body{font-family:system-ui,sans-serif;margin:2em;color:#222}
      table{border-collapse:collapse}td,th{padding:.3em .7em;border-bottom:1px solid #ddd;text-align:left}
      .badge{padding:.1em .5em;border-radius:.3em;color:#fff;background:#777}
      .badge.passed{background:#2a7d2a}.badge.failed,.badge.unreadable{background:#b22}
      .badge.pending,.badge.incomplete,.badge.interrupted,.badge.stopped{background:#b70}
      </style></head><body>
      <h1>Runs</h1>
      <table><tr><th>started</th><th>status</th><th>attempts</th><th>deviations</th><th>signed</th><th>operator</th><th>runbook</th><th>run</th></tr>
      \(rows)</table>
      </body></html>

      """
  }
}
