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
    var stepsByLine: [Int: Step] = [:]
    var screenshotLine: [Int: (step: Step, shot: Int)] = [:]
    for step in runbook.steps {
      stepsByLine[step.line] = step
      for (i, shot) in step.screenshots.enumerated() { screenshotLine[shot.line] = (step, i) }
    }
    var number = runbook.frontMatterEndLine + 1
    while number <= lines.count {
      let line = String(lines[number - 1])
      if let shot = screenshotLine[number] {
        // Each screenshot keeps its place and says what became of it; the first gives way
        // to what the step really printed.
        let indent = Self.indent(of: line)
        out.write(screenshotMarkdown(shot.step, shot: shot.shot, indent: indent))
        if shot.shot == 0 {
          out.write(outputsMarkdown(shot.step, indent: indent, replacing: true))
        }
        number += 1
        continue
      }
      guard let step = stepsByLine[number] else {
        out.write(line + "\n")
        number += 1
        continue
      }
      let indent = Self.indent(of: line)
      out.write(blockMarkdown(step, lines: lines, indent: indent))
      out.write(resultMarkdown(step, indent: indent))
      if step.screenshots.isEmpty {
        out.write(outputsMarkdown(step, indent: indent, replacing: false))
      }
      out.write(historyMarkdown(step, indent: indent))
      number = step.endLine + 1
    }
    out.write(formerStepsMarkdown())
  }

  /// The step's block as it ran: the rendered script (masked) in the runbook's fence, or
  /// the runbook's text followed by each host's rendering when they differ.
  private func blockMarkdown(_ step: Step, lines: [Substring], indent: String) -> String {
    let original =
      (step.line...min(step.endLine, lines.count)).map { String(lines[$0 - 1]) + "\n" }.joined()
    let records = (results[step.index] ?? []).filter { $0.operatorAction != .skipped }
    var scripts: [(script: String, hosts: [String])] = []
    for r in records {
      let script = r.runbookScript ?? r.script
      if let at = scripts.firstIndex(where: { $0.script == script }) {
        scripts[at].hosts.append(r.host)
      } else {
        scripts.append((script, [r.host]))
      }
    }
    let opening = String(lines[step.line - 1]).drop { $0 == " " }
    let info = String(opening.drop { $0 == "`" || $0 == "~" })
    guard !scripts.isEmpty else { return original }
    if scripts.count == 1 {
      if scripts[0].script == step.body { return original }
      return Self.fence(scripts[0].script, info: info, indent: indent)
    }
    var out = original
    for (script, hosts) in scripts {
      out +=
        "\n" + indent + "*As rendered for "
        + hosts.map { "`\(Self.code($0))`" }.joined(separator: ", ")
        + ":*\n\n" + Self.fence(script, info: info, indent: indent)
    }
    return out
  }

  private func auditMarkdown() -> String {
    var out = "# Execution report: \(Self.inline(run.title))\n\n"
    out += "| | |\n|---|---|\n"
    var result =
      badge.cls == status.rawValue
      ? "\(status.symbol) **\(status)** — \(resultLine)" : "⚠️ **\(badge.text)** — \(resultLine)"
    if !deviationSummary.isEmpty { result += " · **\(deviationSummary)**" }
    var rows: [(String, String)] = [("Result", result)]
    if let failure = firstFailure {
      rows.append(
        (
          "First failure",
          "[\(Self.inline(label(of: failure.step)))](#\(Self.anchor(failure.step))) (line \(failure.step.line)) on `\(Self.code(failure.record.host))`: \(Self.inline(failure.record.reason ?? failure.record.status.rawValue))"
        ))
    }
    rows += [
      ("Runbook", "`\(Self.code(run.runbook))` (SHA-256 `\(lastAttempt.runbookSHA256)`)"),
      (
        "Inventory",
        lastAttempt.inventory.map {
          "`\(Self.code($0))` (SHA-256 `\(lastAttempt.inventorySHA256 ?? "")`)"
        } ?? "none: every role on the operator's machine"
      ),
      (
        "Operator",
        "`\(Self.code(run.operatorName))`" + (signer.map { ", signed as `\(Self.code($0))`" } ?? "")
      ),
      ("Started", run.startedAt),
      ("Ended", end?.endedAt ?? "— (the run did not finish)"),
      ("Tool", "runbook \(lastAttempt.toolVersion)"),
      ("Hosts", lastAttempt.hosts.map { "`\(Self.code($0))`" }.joined(separator: ", ")),
      ("Run", "`\(Self.code(run.runID))`" + (run.dryRun ? ", dry run" : "")),
      ("Journal digest", "`\(digest)`"),
      ("Signature", signatureText { "`\(Self.code($0))`" }),
    ]
    for (key, value) in rows { out += "| \(key) | \(value) |\n" }
    if let details = lastAttempt.hostDetails, !details.isEmpty {
      out +=
        "\n**Hosts**\n\n| host | address | connection | login | runs steps as |\n|---|---|---|---|---|\n"
      for host in details {
        let becomes = (host.becomes ?? []).map { "`\(Self.code($0))`" }.joined(separator: ", ")
        out +=
          "| `\(Self.code(host.name))` | `\(Self.code(host.endpoint))` | \(host.connection) | \(host.user.map { "`\(Self.code($0))`" } ?? Self.inline(host.login)) | \(becomes.isEmpty ? "—" : becomes + " (" + Self.inline(host.becomeMethod ?? "") + ")") |\n"
      }
    }
    if attempts.count > 1 {
      out +=
        "\n**Attempts**\n\n| # | started | ended | operator | result | runbook |\n|---|---|---|---|---|---|\n"
      for (i, a) in attempts.enumerated() {
        let n = a.attempt ?? i + 1
        let ended = attemptEnds[n]
        out +=
          "| \(n) | \(a.startedAt) | \(ended?.endedAt ?? "—") | `\(Self.code(a.operatorName))` | \(ended?.status.rawValue ?? "did not finish") | [`\(a.runbookSHA256.prefix(12))`](\(a.snapshotFile))\(runbookChanged(inAttempt: n) ? " (changed)" : "")\(a.interactive == true ? ", interactive" : "") |\n"
      }
    }
    let variables = lastAttempt.variables
    if !variables.isEmpty {
      let definitions = lastAttempt.variableDefinitions ?? [:]
      out +=
        "\n**Variables** as the steps used them (secrets masked)\n\n| name | value | defined as |\n|---|---|---|\n"
      for (name, value) in variables.sorted(by: { $0.key < $1.key }) {
        out +=
          "| `\(Self.code(name))` | `\(Self.code(value))` | \(definitions[name].map { "`\(Self.code($0))`" } ?? "") |\n"
      }
    }
    return out
  }

  /// The status of a step on each host, right after the block, and the operator's
  /// deviations where nobody can miss them.
  private func resultMarkdown(_ step: Step, indent: String) -> String {
    let records = results[step.index] ?? []
    var out = "\n" + indent + "<a id=\"\(Self.anchor(step))\"></a>\n\n"
    // What GitHub does not show of a fence's info string: the step's id and where it ran.
    let roles =
      step.attributes.roles.isEmpty ? "the operator" : step.attributes.roles.joined(separator: ", ")
    let hosts = records.map { "`\(Self.code($0.host))`" }.joined(separator: ", ")
    out +=
      indent
      + "**Step `\(Self.code(step.id))`** (\(step.kind.rawValue), line \(step.line)) · \(Self.inline(roles))"
      + (hosts.isEmpty ? "" : " → " + hosts) + "\n\n"
    for change in stepChanges where change.step == step.id {
      out +=
        indent
        + "> ⚠️ **Deviation: this step's text changed before attempt \(change.attempt) ran it** (− before, + what ran)\n\n"
        + Self.fence(change.diff, info: "diff", indent: indent) + "\n"
    }
    guard !records.isEmpty else {
      return out + indent + "> ○ **\(absence(of: step))**\n\n"
    }
    let lastAttempt = self.lastAttempt.attempt ?? attempts.count
    out += indent + "| host | status | started | exit | duration | note |\n"
    out += indent + "|---|---|---|---|---|---|\n"
    for r in records {
      var notes: [String] = r.reason.map { [$0] } ?? []
      if r.changed == true { notes.append("changed") }
      if r.changed == false { notes.append("unchanged") }
      if r.attempts > 1 { notes.append("\(r.attempts) tries") }
      if (r.attempt ?? 1) < lastAttempt { notes.append("result of attempt \(r.attempt ?? 1)") }
      if let retry = r.retry { notes.append("retry \(retry)") }
      if let session = r.session { notes.append(session.line) }
      let action =
        r.operatorAction.map { " \(Self.actionMark($0)) \($0.rawValue) by the operator" } ?? ""
      out +=
        indent
        + "| `\(Self.code(r.host))` | \(r.status.mark) \(r.status.rawValue)\(action) | \(r.startedAt) | \(r.exitCode.map(String.init) ?? "") | \(Self.duration(r.durationMs)) | \(Self.inline(notes.joined(separator: "; "))) |\n"
    }
    out += "\n"
    for r in records {
      switch r.operatorAction {
      case .edited?:
        out +=
          indent
          + "> ⚠️ **Deviation on `\(Self.code(r.host))`: the operator edited the script before it ran** (− the runbook, + what ran)\n\n"
          + Self.fence(r.deviation ?? "", info: "diff", indent: indent) + "\n"
      case .skipped?:
        out +=
          indent
          + "> ⚠️ **Deviation on `\(Self.code(r.host))`: the operator skipped this step; it did not run**\n\n"
      case .confirmed?, .declined?:
        let said = r.operatorAction == .confirmed ? "confirmed it done" : "said it was not done"
        out +=
          indent + "> ✋ **Manual step: the operator \(said)**"
          + (r.note.map { " — note: \(Self.inline($0))" } ?? "") + "\n\n"
      case nil:
        break
      }
    }
    return out
  }

  /// The line that stands for a screenshot: which image (a link) and what became of it.
  private func screenshotMarkdown(_ step: Step, shot: Int, indent: String) -> String {
    let image = step.screenshots[shot]
    let what: String
    switch screenshotFate(step, shot: shot) {
    case .replaced(let hosts):
      what =
        "replaced by the real output of step `\(Self.code(step.id))` below ("
        + hosts.map { "`\(Self.code($0))`" }.joined(separator: ", ") + ")"
    case .outputShownEarlier:
      what =
        "kept: the output of step `\(Self.code(step.id))` stands at its first screenshot, and may not show what this one does"
    case .guardEvidence(let reason):
      what =
        "shown by the guard of step `\(Self.code(step.id))`, which found the work done: \(Self.inline(reason))"
    case .notShown(let why):
      what = "not shown by any output of this run (\(why), step `\(Self.code(step.id))`)"
    }
    return
      indent
      + "> 📷 The guide's screenshot “\(Self.inline(image.alt))” ([original image](<\(image.url)>), line \(image.line)): \(what).\n\n"
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
      out += Self.recordMarkdown(
        r, label: label, writesFile: step.kind.writesFile, indent: indent, quietNote: replacing)
    }
    return out
  }

  /// One run's diff, mismatch and output; outputs longer than `foldLines` lines are folded.
  static func recordMarkdown(
    _ r: StepRecord, label: String, writesFile: Bool, indent: String, quietNote: Bool
  ) -> String {
    var out = ""
    if let diff = r.diff, !diff.isEmpty {
      out +=
        indent + "**Changes to the file on `\(Self.code(r.host))`**\n\n"
        + Self.fence(diff, info: "diff", indent: indent) + "\n"
    }
    if let mismatch = r.mismatch {
      out +=
        indent + "**Mismatch on `\(Self.code(r.host))`**\n\n"
        + Self.fence(mismatch, info: "diff", indent: indent) + "\n"
    }
    if writesFile, r.diff != nil { return out }
    if r.outputBytes == 0 {
      if quietNote { out += indent + "*\(label): no output.*\n\n" }
      return out
    }
    let lineCount = r.outputTail.utf8.count { $0 == UInt8(ascii: "\n") }
    var title = label
    if r.outputTruncated {
      title += " — the last \(r.outputTail.utf8.count) of \(r.outputBytes) bytes"
    }
    if let log = r.log { title += " — [full log](\(log))" }
    // A fence cannot colour lines: the lines standard error wrote are named instead.
    let shownFrom = max(0, lineCount - foldLines)
    let errors = Self.stderrLineNumbers(r).map { $0 - (lineCount > foldLines ? shownFrom : 0) }
      .filter { $0 >= 1 }
    let errorNote =
      errors.isEmpty
      ? ""
      : " (standard error: \(Self.lineRuns(errors))\(lineCount > foldLines ? " of those shown" : ""))"
    if lineCount > foldLines {
      // Folded, and cut to its last lines (where a failure says why); the log has it all.
      // HTML inside <summary> is not Markdown: the label's code spans become <code>.
      let last = TextLines.split(r.outputTail).suffix(foldLines).joined(separator: "\n") + "\n"
      out +=
        indent + "<details><summary>" + Self.summaryHTML(title)
        + " (the last \(foldLines) of \(lineCount) lines)\(errorNote)</summary>\n\n"
        + Self.fence(last, info: "text", indent: indent) + "\n" + indent + "</details>\n\n"
    } else {
      out +=
        indent + "**\(title)**\(errorNote)\n\n"
        + Self.fence(r.outputTail, info: "text", indent: indent) + "\n"
    }
    return out
  }

  /// Outputs longer than this many lines are folded in `<details>` and cut to as many.
  static let foldLines = 40

  /// Earlier runs of the step (attempts before the one that counts, retries), folded.
  private func historyMarkdown(_ step: Step, indent: String) -> String {
    let earlier = earlierRecords(of: step)
    guard !earlier.isEmpty else { return "" }
    var out =
      indent
      + "<details><summary>History: \(earlier.count) earlier run\(earlier.count == 1 ? "" : "s") of this step</summary>\n\n"
    for r in earlier {
      out += indent + "- " + Self.inline(Self.historyLine(r)) + "\n\n"
      out += Self.recordMarkdown(
        r, label: "Output on `\(Self.code(r.host))` in attempt \(r.attempt ?? 1)",
        writesFile: step.kind.writesFile, indent: indent, quietNote: true)
    }
    return out + indent + "</details>\n\n"
  }

  /// Steps earlier attempts ran that the last attempt's runbook no longer has.
  private func formerStepsMarkdown() -> String {
    guard !formerSteps.isEmpty else { return "" }
    var out =
      "\n---\n\n## Steps of earlier versions of the runbook\n\nThese ran in an earlier attempt; the runbook of the last attempt no longer has them (renamed or removed).\n\n"
    for r in formerSteps {
      out += "### `\(Self.code(r.step))` (line \(r.line) of that version)\n\n"
      out +=
        Self.inline(Self.historyLine(r)) + "\n\n" + Self.fence(r.script, info: "", indent: "")
        + "\n"
      out += Self.recordMarkdown(
        r, label: "Output on `\(Self.code(r.host))`",
        writesFile: r.kind.writesFile, indent: "", quietNote: true)
    }
    return out
  }

  /// The anchor a step's results carry in `report.md`.
  static func anchor(_ step: Step) -> String { "step-" + step.id }

  /// A label with Markdown code spans and links, as HTML for a `<summary>`.
  static func summaryHTML(_ text: String) -> String {
    var out = ""
    var inCode = false
    for part in text.split(separator: "`", omittingEmptySubsequences: false) {
      out += inCode ? "<code>\(Escape.xml(String(part)))</code>" : Self.linksHTML(String(part))
      inCode.toggle()
    }
    return out
  }

  private static func linksHTML(_ text: String) -> String {
    RunReport.replace(in: Escape.xml(text), pattern: #"\[full log\]\(([^)]*)\)"#, group: true) {
      "<a href=\"\($0)\">full log</a>"
    }
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

}
