import Foundation

extension RunReport {
  /// `report.html`: one self-contained file (no external resource, readable offline and
  /// with JavaScript off): audit header, a steps × hosts grid, navigation by section, and
  /// the runbook with each step's hosts, script, output, file diffs and status.
  public func html() -> String {
    var sink = StringSink()
    writeHTML(to: &sink)
    return sink.text
  }

  func writeHTML<Sink: ReportSink>(to out: inout Sink) {
    var counts = resultLine
    if !deviationSummary.isEmpty { counts += " · " + deviationSummary }
    out.write(
      """
      <!DOCTYPE html>
      <html lang="en">
      <head>
      <meta charset="utf-8">
      <meta name="viewport" content="width=device-width, initial-scale=1">
      <title>Execution report: \(Self.xml(run.title))</title>
      <style>\(Self.css)</style>
      </head>
      <body>
      <header class="run \(status.rawValue)">
      <h1>\(Self.xml(run.title))</h1>
      <p class="result"><span class="badge \(badge.cls)">\(badge.text)</span> \(Self.xml(counts))</p>

      """)
    out.write(firstFailureHTML())
    out.write(auditHTML())
    out.write("</header>\n")
    out.write(navHTML())
    out.write(gridHTML())
    out.write(timelineHTML())
    out.write("<main class=\"runbook\">\n")
    writeRunbookHTML(to: &out)
    out.write(formerStepsHTML())
    out.write("</main>\n")
    out.write(
      """
      <footer>Journal digest <code>\(digest)</code> · rendered by runbook \(Self.xml(run.toolVersion)) from <code>journal.jsonl</code> · <code>runbook verify</code> checks this file.</footer>
      <script>\(Self.script)</script>
      </body>
      </html>

      """)
  }

  /// The runbook's prose with each step's card and each screenshot's stand-in in place.
  /// The prose is rendered by cmark with placeholders, and the step cards are written in
  /// their place as the prose is written out.
  private func writeRunbookHTML<Sink: ReportSink>(to out: inout Sink) {
    // Placeholders carry a word made for this rendering, so no prose can contain them.
    let word = Digest.randomHex(8)
    let prose = Array(tidy(MarkdownParser.renderHTML(proseWithPlaceholders(word))).utf8)
    let open = Array("<pre><code>RBSTEP\(word)X".utf8)
    let shot = Array("RBSHOT\(word)X".utf8)
    prose.withUnsafeBufferPointer { buffer in
      var start = 0
      // The next placeholder of each kind, searched for again only once passed (a search
      // to the end of the prose from each placeholder would cost the square of its length).
      var nextStep = ByteSearch.firstIndex(of: open, in: buffer)
      var nextShot = ByteSearch.firstIndex(of: shot, in: buffer)
      while start < buffer.count {
        if let at = nextStep, at < start {
          nextStep = ByteSearch.firstIndex(of: open, in: buffer, from: start)
        }
        if let at = nextShot, at < start {
          nextShot = ByteSearch.firstIndex(of: shot, in: buffer, from: start)
        }
        guard let at = [nextStep, nextShot].compactMap({ $0 }).min() else { break }
        out.write(String(decoding: buffer[start..<at], as: UTF8.self))
        let isStep = at == nextStep
        let digitsStart = at + (isStep ? open.count : shot.count)
        let number = Self.decimal(in: buffer, from: digitsStart)
        guard number.end > digitsStart, number.value < runbook.steps.count else {
          out.write(String(decoding: buffer[at..<number.end], as: UTF8.self))
          start = number.end
          continue
        }
        let step = runbook.steps[number.value]
        if isStep {
          out.write(stepHTML(step))
          // Skip the rest of the placeholder block: "\n</code></pre>".
          let close = Array("</code></pre>".utf8)
          start =
            (ByteSearch.firstIndex(of: close, in: buffer, from: number.end) ?? number.end)
            + close.count
        } else {
          // `Y` and the screenshot's number among the step's.
          var shotNumber = (value: 0, end: number.end)
          if number.end < buffer.count, buffer[number.end] == UInt8(ascii: "Y") {
            shotNumber = Self.decimal(in: buffer, from: number.end + 1)
          }
          out.write(screenshotHTML(step, shot: shotNumber.value))
          start = shotNumber.end
        }
      }
      if start < buffer.count { out.write(String(decoding: buffer[start...], as: UTF8.self)) }
    }
  }

  /// The decimal number whose digits start at `start` (0 when there are none), and where
  /// its digits end.
  private static func decimal(in buffer: UnsafeBufferPointer<UInt8>, from start: Int)
    -> (value: Int, end: Int)
  {
    var end = start
    var value = 0
    while end < buffer.count, (48...57).contains(buffer[end]) {
      value = value * 10 + Int(buffer[end] - 48)
      end += 1
    }
    return (value, end)
  }

  /// What stands where the guide had a screenshot: which image it was (a link, never
  /// loaded) and what became of it: replaced by the real output, shown by the guard's
  /// words, or not shown by any output of this run.
  private func screenshotHTML(_ step: Step, shot: Int) -> String {
    guard step.screenshots.indices.contains(shot) else { return "" }
    let image = step.screenshots[shot]
    let link = "<a href=\"#step-\(Self.xml(step.id))\">\(Self.xml(label(of: step)))</a>"
    let what: String
    switch screenshotFate(step, shot: shot) {
    case .replaced(let hosts):
      what =
        "replaced by the real output of step \(link) above (\(hosts.map(Self.xml).joined(separator: ", ")))"
    case .outputShownEarlier:
      what =
        "kept: the output of step \(link) stands at its first screenshot, and may not show what this one does"
    case .guardEvidence(let reason):
      what = "shown by the guard of step \(link), which found the work done: \(Self.xml(reason))"
    case .notShown(let why):
      what = "not shown by any output of this run (\(Self.xml(why)), step \(link))"
    }
    return
      "<span class=\"shot\">The guide's screenshot “\(Self.xml(image.alt))” (<a href=\"\(Self.xml(image.url))\" rel=\"noreferrer\">original image</a>, line \(image.line)): \(what).</span>"
  }

  /// Gives headings ids for the navigation and turns images into their description, so
  /// the report loads nothing from outside.
  private func tidy(_ html: String) -> String {
    var number = 0
    var text = Self.replace(in: html, pattern: #"<h([1-6])>"#, group: true) { level in
      number += 1
      return "<h\(level) id=\"sec-\(number)\">"
    }
    text = Self.replace(
      in: text, pattern: #"<img src="[^"]*" alt="([^"]*)"( title="[^"]*")? />"#, group: true
    ) {
      "<span class=\"img\">[image: \($0)]</span>"
    }
    return text
  }

  /// The runbook's Markdown with each step replaced by a placeholder block and each
  /// screenshot by a placeholder word, front matter left out.
  private func proseWithPlaceholders(_ word: String) -> String {
    let lines = runbook.source.split(separator: "\n", omittingEmptySubsequences: false)
    var stepAt: [Int: Step] = [:]
    var shotAt: [Int: (index: Int, shot: Int)] = [:]
    for step in runbook.steps {
      stepAt[step.line] = step
      for (i, shot) in step.screenshots.enumerated() where shotAt[shot.line] == nil {
        shotAt[shot.line] = (step.index, i)
      }
    }
    var out = ""
    var number = runbook.frontMatterEndLine + 1
    while number <= lines.count {
      let line = String(lines[number - 1])
      if let step = stepAt[number] {
        let indent = Self.indent(of: line)
        out += "\(indent)```\n\(indent)RBSTEP\(word)X\(step.index)\n\(indent)```\n"
        number = step.endLine + 1
        continue
      }
      if let shot = shotAt[number] {
        out += Self.indent(of: line) + "RBSHOT\(word)X\(shot.index)Y\(shot.shot)\n"
      } else {
        out += line + "\n"
      }
      number += 1
    }
    return out
  }

  /// The box at the top that links to the first failure.
  private func firstFailureHTML() -> String {
    guard let failure = firstFailure else { return "" }
    let r = failure.record
    return
      "<p class=\"first-failure\">First failure: <a href=\"#step-\(Self.xml(failure.step.id))\">\(Self.xml(label(of: failure.step)))</a> (line \(failure.step.line)) on <b>\(Self.xml(r.host))</b>: <span class=\"badge \(r.status.rawValue)\">\(r.status.rawValue)</span> \(Self.xml(r.reason ?? ""))</p>\n"
  }

  private func auditHTML() -> String {
    var rows: [(String, String)] = [
      (
        "Runbook",
        "<code>\(Self.xml(run.runbook))</code><br><small>SHA-256 <code>\(lastAttempt.runbookSHA256)</code></small>"
      ),
      (
        "Inventory",
        lastAttempt.inventory.map {
          "<code>\(Self.xml($0))</code><br><small>SHA-256 <code>\(Self.xml(lastAttempt.inventorySHA256 ?? ""))</code></small>"
        } ?? "none: every role on the operator's machine"
      ),
      (
        "Operator",
        "<code>\(Self.xml(run.operatorName))</code>"
          + (signer.map { ", signed as <code>\(Self.xml($0))</code>" } ?? "")
      ),
      ("Started", Self.xml(run.startedAt)),
      ("Ended", end.map { Self.xml($0.endedAt) } ?? "— the run did not finish"),
      ("Tool", "runbook \(Self.xml(lastAttempt.toolVersion))"),
      (
        "Run",
        "<code>\(Self.xml(run.runID))</code>" + (run.dryRun ? ", dry run" : "")
      ),
      ("Journal digest", "<code class=\"digest\">\(digest)</code>"),
      ("Signature", signatureText { "<code>\(Self.xml($0))</code>" }),
    ]
    if let details = lastAttempt.hostDetails, !details.isEmpty {
      let items = details.map { host in
        let becomes = (host.becomes ?? []).map { "<code>\(Self.xml($0))</code>" }
          .joined(separator: ", ")
        return
          "<tr><td><code>\(Self.xml(host.name))</code></td><td><code>\(Self.xml(host.endpoint))</code></td><td>\(Self.xml(host.connection))</td><td>\(host.user.map { "<code>\(Self.xml($0))</code>" } ?? Self.xml(host.login))</td><td>\(becomes.isEmpty ? "—" : becomes + " (" + Self.xml(host.becomeMethod ?? "") + ")")</td></tr>"
      }.joined()
      rows.append(
        (
          "Hosts",
          "<table class=\"attempts\"><tr><th>host</th><th>address</th><th>connection</th><th>login</th><th>runs steps as</th></tr>\(items)</table>"
        ))
    }
    if attempts.count > 1 {
      let items = attempts.enumerated().map { i, a -> String in
        let n = a.attempt ?? i + 1
        let ended = attemptEnds[n]
        let status = ended?.status.rawValue ?? "did not finish"
        var text =
          "<tr><td>\(n)</td><td>\(Self.xml(a.startedAt))</td><td>\(Self.xml(ended?.endedAt ?? "—"))</td><td><code>\(Self.xml(a.operatorName))</code></td><td><span class=\"badge \(Self.xml(status))\">\(Self.xml(status))</span></td>"
        text +=
          "<td><a href=\"\(Self.xml(a.snapshotFile))\"><code>\(a.runbookSHA256.prefix(12))</code></a>\(runbookChanged(inAttempt: n) ? " (changed)" : "")\(a.interactive == true ? " · interactive" : "")</td></tr>"
        return text
      }.joined()
      rows.append(
        (
          "Attempts",
          "<table class=\"attempts\"><tr><th>#</th><th>started</th><th>ended</th><th>operator</th><th>result</th><th>runbook</th></tr>\(items)</table>"
        ))
    }
    let variables = lastAttempt.variables
    if !variables.isEmpty {
      let definitions = lastAttempt.variableDefinitions ?? [:]
      let vars = variables.sorted { $0.key < $1.key }.map { name, value in
        let definition =
          definitions[name].map {
            "<td class=\"def\" title=\"definition\"><code>\(Self.xml($0))</code></td>"
          } ?? "<td></td>"
        return
          "<tr><td><code>\(Self.xml(name))</code></td><td><code>\(Self.xml(value))</code></td>\(definition)</tr>"
      }.joined()
      rows.append(
        (
          "Variables",
          "<details><summary>\(variables.count) as the steps used them (secrets masked)</summary><table class=\"vars\"><tr><th>name</th><th>value</th><th>defined as</th></tr>\(vars)</table></details>"
        ))
    }
    return "<table class=\"audit\">\n"
      + rows.map { "<tr><th>\($0.0)</th><td>\($0.1)</td></tr>\n" }.joined() + "</table>\n"
  }

  private func navHTML() -> String {
    guard !runbook.headings.isEmpty else { return "" }
    let items = runbook.headings.enumerated().map { i, heading in
      "<li class=\"l\(heading.level)\"><a href=\"#sec-\(i + 1)\">\(Self.xml(heading.text))</a></li>"
    }
    return "<nav><h2>Sections</h2><ul>\n" + items.joined(separator: "\n") + "\n</ul></nav>\n"
  }

  private func gridHTML() -> String {
    let hosts = self.hosts
    var out = "<section class=\"summary\"><h2>Steps × hosts</h2>\n"
    out +=
      "<p class=\"filters\" hidden><button type=\"button\" data-filter=\"all\">All steps</button> <button type=\"button\" data-filter=\"problems\">Only problems</button></p>\n"
    out += "<div class=\"scroll\"><table class=\"grid\">\n<tr><th>step</th>"
    out += hosts.map { "<th>\(Self.xml($0))</th>" }.joined() + "</tr>\n"
    for step in runbook.steps {
      let records = results[step.index] ?? []
      let problem = records.contains { $0.status.isProblem }
      out +=
        "<tr class=\"\(problem ? "problem" : "")\"><td><a href=\"#step-\(Self.xml(step.id))\" title=\"\(Self.xml(step.id)), line \(step.line)\">\(Self.xml(label(of: step)))</a></td>"
      for host in hosts {
        if let r = records.first(where: { $0.host == host }) {
          let changed = Self.effect(of: r, step: step) == .changed
          let action =
            (r.operatorAction.map { " " + $0.rawValue } ?? "") + (changed ? " changed" : "")
          let textChanged = changedSteps.contains(step.id)
          let runs = runsBefore(r, of: step)
          let mark =
            (r.operatorAction.map { "<sup>\(Self.actionMark($0))</sup>" } ?? "")
            + (textChanged ? "<sup>Δ</sup>" : "") + (runs.isEmpty ? "" : "<sup>↻</sup>")
            + (changed ? "<sup>●</sup>" : "")
          let title =
            "\(host): \(r.status.rawValue)"
            + (r.operatorAction.map { ", \($0.rawValue) by the operator" } ?? "")
            + (changed ? ", changed" : "") + (runs.isEmpty ? "" : "; " + runs)
          out +=
            "<td class=\"cell \(r.status.rawValue)\(action)\" title=\"\(Self.xml(title))\">\(Self.cellMark(r.status))\(mark)</td>"
        } else {
          let absence = absence(of: step, on: host) ?? absence(of: step)
          let (cls, mark) = Self.absenceMark(absence)
          out += "<td class=\"cell \(cls)\" title=\"\(Self.xml(host)): \(absence)\">\(mark)</td>"
        }
      }
      out += "</tr>\n"
    }
    out += "</table></div>\n"
    out +=
      "<p class=\"legend\"><span class=\"cell ok\">✓</span> ok <span class=\"cell failed\">✗</span> failed <span class=\"cell skipped\">–</span> skipped <span class=\"cell unreached\">·</span> not reached <span class=\"cell na\">&#160;</span> not on this host · <sup>✎</sup> edited, <sup>⊘</sup> skipped, <sup>☑</sup> confirmed by the operator, <sup>↻</sup> ran more than once (retries, earlier attempts), <sup>Δ</sup> its text changed between attempts · <sup>●</sup> changed something · in outputs, <span class=\"stderr-key\">lines on red</span> came from standard error</p>\n"
    return out + "</section>\n"
  }

  /// The grid's class and mark for a host without a record of a step.
  static func absenceMark(_ absence: Absence) -> (String, String) {
    switch absence {
    case .notOnHost: return ("na", "")
    case .notSelected: return ("unselected", "○")
    case .notReached: return ("unreached", "·")
    }
  }

  /// The grid's mark of an operator's deviation.
  static func actionMark(_ action: OperatorAction) -> String {
    switch action {
    case .edited: return "✎"
    case .skipped: return "⊘"
    case .confirmed: return "☑"
    case .declined: return "☐"
    }
  }

  private func stepHTML(_ step: Step) -> String {
    let records = results[step.index] ?? []
    let worst = records.map(\.status).min { Self.severity($0) > Self.severity($1) }
    let state = worst?.rawValue ?? "none"
    let roles =
      step.attributes.roles.isEmpty ? "the operator" : step.attributes.roles.joined(separator: ", ")
    let deviated = records.contains { $0.operatorAction != nil }
    var out =
      "<section class=\"step \(state)\(deviated ? " deviation" : "")\" id=\"step-\(Self.xml(step.id))\" data-status=\"\(state)\">\n"
    out +=
      "<div class=\"head\"><span class=\"badge \(state)\">\(worst?.rawValue ?? absence(of: step).rawValue)</span> "
    out +=
      "<code class=\"id\">\(Self.xml(step.id))</code> <span class=\"kind\">\(step.kind.rawValue)</span> on <b>\(Self.xml(roles))</b>"
    if !records.isEmpty { out += " → " + records.map { Self.xml($0.host) }.joined(separator: ", ") }
    out += " <span class=\"line\">line \(step.line)</span></div>\n"
    if !step.headingPath.isEmpty {
      out +=
        "<div class=\"path\">\(step.headingPath.map(Self.xml).joined(separator: " › "))</div>\n"
    }
    out += deviationsHTML(records)
    // The runbook's script as it rendered; an operator's edit shows as a deviation.
    let shown = records.first { $0.operatorAction != .skipped }
    let script = shown.map { $0.runbookScript ?? $0.script } ?? step.body
    let scriptLabel = step.kind.writesFile ? "Content" : "Script"
    out +=
      "<details class=\"script\" open><summary>\(scriptLabel)\(shown == nil ? "" : " as rendered for the hosts")</summary><pre>\(Self.xml(script))</pre></details>\n"
    let lastAttempt = self.lastAttempt.attempt ?? attempts.count
    for r in records {
      out += recordHTML(
        r, writesFile: step.kind.writesFile, fromEarlierAttempt: (r.attempt ?? 1) < lastAttempt)
    }
    let earlier = earlierRecords(of: step)
    if !earlier.isEmpty {
      out +=
        "<details class=\"history\"><summary>History: \(earlier.count) earlier run\(earlier.count == 1 ? "" : "s") of this step</summary>\n"
      for r in earlier {
        out += "<p class=\"attempt\">\(Self.xml(Self.historyLine(r)))</p>\n"
        out += recordHTML(r, writesFile: step.kind.writesFile, fromEarlierAttempt: false)
      }
      out += "</details>\n"
    }
    return out + "</section>"
  }

  /// The operator's deviations on a step, where nobody can miss them.
  private func deviationsHTML(_ records: [StepRecord]) -> String {
    var out = ""
    for r in records {
      switch r.operatorAction {
      case .edited?:
        out +=
          "<div class=\"deviation\"><p>Deviation on <b>\(Self.xml(r.host))</b>: the operator edited the script before it ran (− the runbook, + what ran).</p><pre class=\"diff\">\(Self.diffHTML(r.deviation ?? ""))</pre></div>\n"
      case .skipped?:
        out +=
          "<div class=\"deviation\"><p>Deviation on <b>\(Self.xml(r.host))</b>: the operator skipped this step; it did not run.</p></div>\n"
      case .confirmed?, .declined?:
        let said = r.operatorAction == .confirmed ? "confirmed it done" : "said it was not done"
        out +=
          "<div class=\"deviation manual\"><p>Manual step: the operator \(said)\(r.note.map { ": “\(Self.xml($0))”" } ?? ".")</p></div>\n"
      case nil:
        break
      }
    }
    return out
  }

  /// One run of a step on a host: status line, deviations, diffs, output, log.
  private func recordHTML(_ r: StepRecord, writesFile: Bool, fromEarlierAttempt: Bool) -> String {
    var summary =
      "<span class=\"badge \(r.status.rawValue)\">\(r.status.rawValue)</span> <b>\(Self.xml(r.host))</b>"
    if let code = r.exitCode { summary += " · exit \(code)" }
    summary += " · \(Self.duration(r.durationMs))"
    if r.attempts > 1 { summary += " · \(r.attempts) tries" }
    if fromEarlierAttempt { summary += " · result of attempt \(r.attempt ?? 1)" }
    if let retry = r.retry { summary += " · retry \(retry)" }
    if r.changed == true { summary += " · changed" }
    if r.changed == false { summary += " · unchanged" }
    if let reason = r.reason { summary += " · \(Self.xml(reason))" }
    var out =
      "<details class=\"host \(r.status.rawValue)\"\(r.status.isProblem ? " open" : "")><summary>\(summary)</summary>\n"
    if let session = r.session {
      let whose = session.whose.map { "Session of \(Self.xml($0))" } ?? "Session"
      let changes = session.summary.map { "<code>\(Self.xml($0))</code>" }.joined(separator: " ")
      out += "<p class=\"session\">\(whose): \(changes)</p>\n"
    }
    if let mismatch = r.mismatch {
      out += "<pre class=\"diff\">\(Self.diffHTML(mismatch))</pre>\n"
    }
    if let diff = r.diff { out += "<pre class=\"diff\">\(Self.diffHTML(diff))</pre>\n" }
    if r.outputBytes > 0, !(writesFile && r.diff != nil) {
      out += "<pre class=\"out\">\(Self.outputHTML(r))</pre>\n"
    } else if r.outputBytes == 0 {
      out += "<p class=\"quiet\">No output.</p>\n"
    }
    if let log = r.log {
      let size =
        r.outputTruncated
        ? "last \(r.outputTail.utf8.count) of \(r.outputBytes) bytes shown; " : ""
      out +=
        "<p class=\"log\">\(size)<a href=\"\(Self.xml(log))\">full log</a> · SHA-256 <code>\(r.outputSHA256)</code></p>\n"
    }
    return out + "</details>\n"
  }

  /// Steps that earlier attempts ran but the last attempt's runbook no longer has.
  private func formerStepsHTML() -> String {
    guard !formerSteps.isEmpty else { return "" }
    var out =
      "<section class=\"former\"><h2>Steps of earlier versions of the runbook</h2>\n<p>These ran in an earlier attempt; the runbook of the last attempt no longer has them (renamed or removed).</p>\n"
    for r in formerSteps {
      out +=
        "<h3><code>\(Self.xml(r.step))</code> <small>line \(r.line) of that version</small></h3>\n<p class=\"attempt\">\(Self.xml(Self.historyLine(r)))</p>\n<pre>\(Self.xml(r.script))</pre>\n"
      out += recordHTML(
        r, writesFile: r.kind.writesFile, fromEarlierAttempt: false)
    }
    return out + "</section>\n"
  }

  static func diffHTML(_ diff: String) -> String {
    diff.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
      let cls = line.hasPrefix("+") ? "add" : line.hasPrefix("-") ? "del" : "ctx"
      return "<span class=\"\(cls)\">\(xml(String(line)))</span>"
    }.joined(separator: "\n")
  }

  static func severity(_ status: StepStatus) -> Int {
    switch status {
    case .unknown: return 6
    case .interrupted: return 5
    case .failed: return 4
    case .timeout: return 3
    case .pending: return 2
    case .ok: return 1
    case .skipped: return 0
    }
  }

  static func cellMark(_ status: StepStatus) -> String {
    switch status {
    case .ok: return "✓"
    case .failed: return "✗"
    case .skipped: return "–"
    case .pending: return "…"
    case .timeout: return "⏱"
    case .interrupted: return "■"
    case .unknown: return "?"
    }
  }

  /// Replaces each match of `pattern` using its first capture group: an index into
  /// something (`group: false`, parsed as Int) or the text itself (`group: true`).
  static func replace(
    in text: String, pattern: String, group: Bool = false, with make: (String) -> String
  ) -> String {
    guard let regex = try? NSRegularExpression(pattern: pattern) else { return text }
    let ns = text as NSString
    var out = ""
    var last = 0
    for match in regex.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
      out += ns.substring(with: NSRange(location: last, length: match.range.location - last))
      let captured =
        match.range(at: 1).location == NSNotFound ? "" : ns.substring(with: match.range(at: 1))
      out += make(captured)
      last = match.range.location + match.range.length
    }
    return out + ns.substring(from: last)
  }

  /// A record's output tail, the lines standard error wrote marked apart.
  static func outputHTML(_ r: StepRecord) -> String {
    let errors = stderrLineNumbers(r)
    guard !errors.isEmpty else { return xml(r.outputTail) }
    let lines = TextLines.split(r.outputTail)
    var out = ""
    for (i, line) in lines.enumerated() {
      out +=
        errors.contains(i + 1)
        ? "<span class=\"stderr\" title=\"standard error\">\(xml(line))</span>" : xml(line)
      if i < lines.count - 1 || r.outputTail.hasSuffix("\n") { out += "\n" }
    }
    return out
  }

  static let css = """
    :root{--ok:#1a7f37;--failed:#cf222e;--skipped:#6e7781;--pending:#9a6700;--timeout:#bc4c00;--interrupted:#8250df;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--code:#f6f8fa}
    *{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:1rem;font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
    h1{margin:.2rem 0}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
    pre{background:var(--code);padding:.6rem;overflow-x:auto;border-radius:6px;white-space:pre-wrap;word-break:break-word}
    header.run{border-left:6px solid var(--skipped);padding-left:1rem;margin-bottom:1rem}header.passed{border-color:var(--ok)}header.pending{border-color:var(--pending)}header.failed{border-color:var(--failed)}header.interrupted,header.stopped{border-color:var(--interrupted)}
    table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
    .audit th{background:var(--code);white-space:nowrap}.digest{word-break:break-all}
    .badge{display:inline-block;padding:0 .5rem;border-radius:1rem;color:#fff;background:var(--skipped);font-size:12px;font-weight:600}
    .badge.ok,.badge.passed{background:var(--ok)}.badge.passed.deviated{background:var(--pending)}.badge.failed{background:var(--failed)}.badge.pending{background:var(--pending)}.badge.timeout{background:var(--timeout)}.badge.interrupted,.badge.stopped{background:var(--interrupted)}
    nav ul{list-style:none;padding-left:0;columns:2}nav .l2{padding-left:1rem}nav .l3,nav .l4,nav .l5,nav .l6{padding-left:2rem}
    .scroll{overflow-x:auto}.grid td.cell{text-align:center;font-weight:700;min-width:2rem}
    .cell.ok{color:var(--ok)}.cell.failed{color:#fff;background:var(--failed)}.cell.timeout{color:#fff;background:var(--timeout)}.cell.interrupted{color:#fff;background:var(--interrupted)}.cell.pending{color:var(--pending)}.cell.skipped{color:var(--skipped)}
    .step{border:1px solid var(--line);border-left:6px solid var(--skipped);border-radius:6px;padding:.5rem .8rem;margin:.8rem 0}
    .step.ok{border-left-color:var(--ok)}.step.failed{border-left-color:var(--failed)}.step.timeout{border-left-color:var(--timeout)}.step.interrupted{border-left-color:var(--interrupted)}.step.pending{border-left-color:var(--pending)}
    .step .head .kind,.step .line,.path,.quiet,.log{color:var(--muted)}.step .line{float:right}.path{font-size:13px}
    details.host{margin:.3rem 0}summary{cursor:pointer}
    pre.out .stderr,.stderr-key{color:#a40e26;background:#ffebe9}
    .diff .add{color:var(--ok)}.diff .del{color:var(--failed)}.shot,.img{display:inline-block;color:var(--muted);font-style:italic}
    .first-failure{border:2px solid var(--failed);border-radius:6px;padding:.4rem .7rem;background:#fff5f5}
    .cell.unreached{color:var(--muted);background:repeating-linear-gradient(45deg,#fff,#fff 4px,#f3f4f6 4px,#f3f4f6 8px)}.cell.na{background:var(--code)}.cell.unselected{color:var(--muted)}.cell.unknown{color:#fff;background:#57606a}
    .cell sup{color:var(--interrupted);font-weight:700}.legend{font-size:13px;color:var(--muted)}.legend .cell{display:inline-block;min-width:1.4rem;text-align:center;border:1px solid var(--line);font-weight:700}
    div.deviation{border:2px solid var(--interrupted);border-radius:6px;padding:.2rem .6rem;margin:.4rem 0;background:#fbf7ff}div.deviation p{margin:.3rem 0;color:var(--interrupted);font-weight:600}.step.deviation{border-left-color:var(--interrupted)}
    .session{margin:.3rem 0;font-size:13px;color:var(--muted)}.history{margin-top:.4rem}.attempt{margin:.4rem 0 0;font-size:13px;color:var(--muted)}.attempts td,.attempts th{font-size:13px}.vars .def{color:var(--muted)}
    svg.timeline text{font-size:11px;fill:var(--muted)}svg.timeline .barlabel{font-size:10px;fill:#fff;pointer-events:none}svg.timeline .tick{stroke:var(--line);stroke-dasharray:2 3}svg.timeline .bar{fill:var(--skipped)}svg.timeline .bar.ok{fill:var(--ok)}svg.timeline .bar.failed{fill:var(--failed)}svg.timeline .bar.timeout{fill:var(--timeout)}svg.timeline .bar.interrupted{fill:var(--interrupted)}svg.timeline .bar.pending{fill:var(--pending)}
    footer{margin-top:2rem;color:var(--muted);font-size:12px;word-break:break-all}
    body.problems-only .grid tr:not(.problem):not(:first-child),body.problems-only .step:not(.failed):not(.timeout):not(.interrupted):not(.unknown){display:none}
    @media (max-width:640px){body{padding:.5rem}nav ul{columns:1}.step .line{float:none}}
    """

  static let script = """
    (function(){var p=document.querySelector('.filters');if(!p)return;p.hidden=false;
    p.addEventListener('click',function(e){var f=e.target.getAttribute('data-filter');if(!f)return;
    document.body.classList.toggle('problems-only',f==='problems');});})();
    """
}
