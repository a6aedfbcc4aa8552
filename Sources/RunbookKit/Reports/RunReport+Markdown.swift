import Foundation

extension RunReport {
  /// `report.md`: the runbook itself, headings, prose and blocks in order, with each step
  /// followed by its result per host, and each screenshot that followed a step replaced by
  /// that step's real output. CommonMark with GitHub tables; renders on GitHub.
  public func markdown() -> String {
    var sink = StringSink()
    writeMarkdown(to: &sink)
    return sink.text
  }

  func writeMarkdown<Sink: ReportSink>(to out: inout Sink) {
    out.write(auditMarkdown())
    out.write("\n---\n\n")
    let lines = runbook.source.split(separator: "\n", omittingEmptySubsequences: false)
    var stepsByEnd: [Int: Step] = [:]
    var screenshotLine: [Int: (step: Step, first: Bool)] = [:]
    for step in runbook.steps {
      stepsByEnd[step.endLine] = step
      for (i, shot) in step.screenshots.enumerated() { screenshotLine[shot.line] = (step, i == 0) }
    }
    let bodyStart = runbook.frontMatterEndLine + 1
    for number in bodyStart...max(bodyStart, lines.count) where number <= lines.count {
      let line = String(lines[number - 1])
      if let shot = screenshotLine[number] {
        // The screenshot gives way to what the step really printed.
        if shot.first {
          out.write(outputsMarkdown(shot.step, indent: Self.indent(of: line), replacing: true))
        }
        continue
      }
      out.write(line + "\n")
      if let step = stepsByEnd[number] {
        let indent = Self.indent(of: String(lines[step.line - 1]))
        out.write(resultMarkdown(step, indent: indent))
        if step.screenshots.isEmpty {
          out.write(outputsMarkdown(step, indent: indent, replacing: false))
        }
      }
    }
  }

  private func auditMarkdown() -> String {
    let counts = self.counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ")
    var out = "# Execution report: \(Self.inline(run.title))\n\n"
    out += "| | |\n|---|---|\n"
    let rows: [(String, String)] = [
      ("Result", "\(Self.statusMark(status)) **\(status)** — \(counts)"),
      ("Runbook", "`\(Self.code(run.runbook))` (SHA-256 `\(run.runbookSHA256)`)"),
      (
        "Inventory",
        run.inventory.map { "`\(Self.code($0))` (SHA-256 `\(run.inventorySHA256 ?? "")`)" }
          ?? "none: every role on the operator's machine"
      ),
      ("Operator", "`\(Self.code(run.operator_))`"),
      ("Started", run.startedAt),
      ("Ended", end?.endedAt ?? "— (the run did not finish)"),
      ("Tool", "runbook \(run.toolVersion)"),
      ("Hosts", run.hosts.map { "`\(Self.code($0))`" }.joined(separator: ", ")),
      (
        "Run",
        "`\(Self.code(run.runID))`" + (run.resumes.map { ", resumes `\(Self.code($0))`" } ?? "")
          + (run.dryRun ? ", dry run" : "")
      ),
      ("Journal digest", "`\(digest)`"),
    ]
    for (key, value) in rows { out += "| \(key) | \(value) |\n" }
    if !run.variables.isEmpty {
      out += "\n**Variables** (secrets masked)\n\n| name | value |\n|---|---|\n"
      for (name, value) in run.variables.sorted(by: { $0.key < $1.key }) {
        out += "| `\(Self.code(name))` | `\(Self.code(value))` |\n"
      }
    }
    return out
  }

  /// The status of a step on each host, right after the block.
  private func resultMarkdown(_ step: Step, indent: String) -> String {
    let records = results[step.index] ?? []
    var out = "\n"
    guard !records.isEmpty else {
      return out + indent + "> ○ **\(absence(of: step))**\n\n"
    }
    out += indent + "| host | status | exit | duration | note |\n"
    out += indent + "|---|---|---|---|---|\n"
    for r in records {
      var note = r.reason ?? ""
      if r.changed == true { note = note.isEmpty ? "changed" : note + "; changed" }
      if r.changed == false { note = note.isEmpty ? "unchanged" : note + "; unchanged" }
      if r.attempts > 1 { note += (note.isEmpty ? "" : "; ") + "\(r.attempts) attempts" }
      out +=
        indent
        + "| `\(Self.code(r.host))` | \(r.status.mark) \(r.status.rawValue) | \(r.exitCode.map(String.init) ?? "") | \(Self.duration(r.durationMs)) | \(Self.inline(note)) |\n"
    }
    return out + "\n"
  }

  /// Each host's output (and file diff or transcript mismatch).
  private func outputsMarkdown(_ step: Step, indent: String, replacing: Bool) -> String {
    let records = results[step.index] ?? []
    guard !records.isEmpty else { return "" }
    var out = ""
    for r in records {
      let label =
        replacing
        ? "Output on `\(Self.code(r.host))` (in place of the guide's screenshot)"
        : "Output on `\(Self.code(r.host))`"
      if let diff = r.diff, !diff.isEmpty {
        out +=
          indent + "**Changes to the file on `\(Self.code(r.host))`**\n\n"
          + Self.fence(diff, info: "diff", indent: indent) + "\n"
      }
      if let deviation = r.deviation {
        out +=
          indent
          + "**Deviation on `\(Self.code(r.host))`: the operator edited the script before it ran**\n\n"
          + Self.fence(deviation, info: "diff", indent: indent) + "\n"
      }
      if let note = r.note {
        out += indent + "**Operator's note on `\(Self.code(r.host))`:** \(Self.inline(note))\n\n"
      }
      if let mismatch = r.mismatch {
        out +=
          indent + "**Mismatch on `\(Self.code(r.host))`**\n\n"
          + Self.fence(mismatch, info: "diff", indent: indent) + "\n"
      }
      if step.kind.writesFile, r.diff != nil { continue }
      if r.outputBytes == 0 {
        if replacing { out += indent + "*\(label): no output.*\n\n" }
        continue
      }
      out += indent + "**\(label)**"
      if r.outputTruncated, let log = r.log {
        out +=
          " — the last \(r.outputTail.utf8.count) of \(r.outputBytes) bytes; full log: [\(Self.inline(log))](\(log))"
      }
      out += "\n\n" + Self.fence(r.outputTail, info: "text", indent: indent) + "\n"
    }
    return out
  }

  // MARK: Markdown helpers

  /// A fenced block long enough for text that contains backtick fences itself.
  static func fence(_ text: String, info: String, indent: String) -> String {
    var longest = 0
    var run = 0
    for byte in text.utf8 {
      if byte == UInt8(ascii: "`") {
        run += 1
        longest = max(longest, run)
      } else {
        run = 0
      }
    }
    let marks = String(repeating: "`", count: max(3, longest + 1))
    var body = text.utf8.last == UInt8(ascii: "\n") ? String(text.utf8.dropLast())! : text
    if !indent.isEmpty { body = indent + ByteSearch.prefixingLines(body, with: indent) }
    return indent + marks + info + "\n" + body + "\n" + indent + marks + "\n"
  }

  /// Text for a table cell or heading: no raw HTML, no cell breaks.
  static func inline(_ text: String) -> String {
    var out = ByteSearch.replacing(["\\"], in: text, with: "\\\\")
    out = ByteSearch.replacing(["|"], in: out, with: "\\|")
    out = ByteSearch.replacing(["<"], in: out, with: "&lt;")
    return ByteSearch.replacing(["\n"], in: out, with: " ")
  }

  /// Text for inside a code span in a table cell.
  static func code(_ text: String) -> String {
    var out = ByteSearch.replacing(["`"], in: text, with: "'")
    out = ByteSearch.replacing(["|"], in: out, with: "\\|")
    return ByteSearch.replacing(["\n"], in: out, with: " ")
  }

  static func indent(of line: String) -> String {
    String(repeating: " ", count: line.prefix { $0 == " " }.count)
  }

  static func duration(_ ms: Int) -> String {
    ms < 1000 ? "\(ms) ms" : String(format: "%.1f s", Double(ms) / 1000)
  }

  static func statusMark(_ status: String) -> String {
    switch status {
    case "passed": return "✅"
    case "failed": return "❌"
    case "interrupted": return "⛔"
    case "dry-run": return "📝"
    default: return "⚠️"
    }
  }
}
