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
    let counts = self.counts.map { "\($0.count) \($0.status)" }.joined(separator: ", ")
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
      <header class="run \(Self.xml(status))">
      <h1>\(Self.xml(run.title))</h1>
      <p class="result"><span class="badge \(Self.xml(status))">\(Self.xml(status))</span> \(Self.xml(counts))</p>

      """)
    out.write(auditHTML())
    out.write("</header>\n")
    out.write(navHTML())
    out.write(gridHTML())
    out.write("<main class=\"runbook\">\n")

    // The prose is rendered by cmark with placeholders, and the step cards are written
    // in their place as the prose is written out.
    // Placeholders carry a word made for this rendering, so no prose can contain them.
    let word = Digest.randomHex(8)
    let prose = Array(tidy(MarkdownParser.renderHTML(proseWithPlaceholders(word))).utf8)
    let open = Array("<pre><code>RBSTEP\(word)X".utf8)
    let shot = Array("RBSHOT\(word)X".utf8)
    prose.withUnsafeBufferPointer { buffer in
      var start = 0
      while start < buffer.count {
        let nextStep = ByteSearch.firstIndex(of: open, in: buffer, from: start)
        let nextShot = ByteSearch.firstIndex(of: shot, in: buffer, from: start)
        guard let at = [nextStep, nextShot].compactMap({ $0 }).min() else { break }
        out.write(String(decoding: buffer[start..<at], as: UTF8.self))
        let isStep = at == nextStep
        var digits = at + (isStep ? open.count : shot.count)
        var index = 0
        while digits < buffer.count, (48...57).contains(buffer[digits]) {
          index = index * 10 + Int(buffer[digits] - 48)
          digits += 1
        }
        guard digits > at + (isStep ? open.count : shot.count), index < runbook.steps.count else {
          out.write(String(decoding: buffer[at..<digits], as: UTF8.self))
          start = digits
          continue
        }
        let step = runbook.steps[index]
        if isStep {
          out.write(stepHTML(step))
          // Skip the rest of the placeholder block: "\n</code></pre>".
          let close = Array("</code></pre>".utf8)
          start =
            (ByteSearch.firstIndex(of: close, in: buffer, from: digits) ?? digits) + close.count
        } else {
          out.write(
            "<a class=\"shot\" href=\"#step-\(Self.xml(step.id))\">The guide showed a screenshot here; the real output is in step \(Self.xml(step.id)) above.</a>"
          )
          start = digits
        }
      }
      if start < buffer.count { out.write(String(decoding: buffer[start...], as: UTF8.self)) }
    }
    out.write("</main>\n")
    out.write(
      """
      <footer>Journal digest <code>\(digest)</code> · rendered by runbook \(Self.xml(run.toolVersion)) from <code>journal.jsonl</code> · <code>runbook verify</code> checks this file.</footer>
      <script>\(Self.script)</script>
      </body>
      </html>

      """)
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
    var shotAt: [Int: (index: Int, first: Bool)] = [:]
    for step in runbook.steps {
      stepAt[step.line] = step
      for (i, shot) in step.screenshots.enumerated() { shotAt[shot.line] = (step.index, i == 0) }
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
        out += shot.first ? Self.indent(of: line) + "RBSHOT\(word)X\(shot.index)\n" : "\n"
      } else {
        out += line + "\n"
      }
      number += 1
    }
    return out
  }

  private func auditHTML() -> String {
    var rows: [(String, String)] = [
      (
        "Runbook",
        "<code>\(Self.xml(run.runbook))</code><br><small>SHA-256 <code>\(run.runbookSHA256)</code></small>"
      ),
      (
        "Inventory",
        run.inventory.map {
          "<code>\(Self.xml($0))</code><br><small>SHA-256 <code>\(Self.xml(run.inventorySHA256 ?? ""))</code></small>"
        } ?? "none: every role on the operator's machine"
      ),
      ("Operator", "<code>\(Self.xml(run.operator_))</code>"),
      ("Started", Self.xml(run.startedAt)),
      ("Ended", end.map { Self.xml($0.endedAt) } ?? "— the run did not finish"),
      ("Tool", "runbook \(Self.xml(run.toolVersion))"),
      (
        "Run",
        "<code>\(Self.xml(run.runID))</code>"
          + (run.resumes.map { ", resumes <code>\(Self.xml($0))</code>" } ?? "")
          + (run.dryRun ? ", dry run" : "")
      ),
      ("Journal digest", "<code class=\"digest\">\(digest)</code>"),
    ]
    if !run.variables.isEmpty {
      let vars = run.variables.sorted { $0.key < $1.key }.map {
        "<tr><td><code>\(Self.xml($0.key))</code></td><td><code>\(Self.xml($0.value))</code></td></tr>"
      }.joined()
      rows.append(
        (
          "Variables",
          "<details><summary>\(run.variables.count) (secrets masked)</summary><table class=\"vars\">\(vars)</table></details>"
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
      let problem = records.contains { [.failed, .timeout, .interrupted].contains($0.status) }
      out +=
        "<tr class=\"\(problem ? "problem" : "")\"><td><a href=\"#step-\(Self.xml(step.id))\">\(Self.xml(step.id))</a></td>"
      for host in hosts {
        if let r = records.first(where: { $0.host == host }) {
          out +=
            "<td class=\"cell \(r.status.rawValue)\" title=\"\(Self.xml(host)): \(r.status.rawValue)\">\(Self.cellMark(r.status))</td>"
        } else {
          out += "<td class=\"cell none\"></td>"
        }
      }
      out += "</tr>\n"
    }
    return out + "</table></div></section>\n"
  }

  private func stepHTML(_ step: Step) -> String {
    let records = results[step.index] ?? []
    let worst = records.map(\.status).min { Self.severity($0) > Self.severity($1) }
    let state = worst?.rawValue ?? "none"
    let roles =
      step.attributes.roles.isEmpty ? "the operator" : step.attributes.roles.joined(separator: ", ")
    var out =
      "<section class=\"step \(state)\" id=\"step-\(Self.xml(step.id))\" data-status=\"\(state)\">\n"
    out +=
      "<div class=\"head\"><span class=\"badge \(state)\">\(worst?.rawValue ?? Self.xml(absence(of: step)))</span> "
    out +=
      "<code class=\"id\">\(Self.xml(step.id))</code> <span class=\"kind\">\(step.kind.rawValue)</span> on <b>\(Self.xml(roles))</b>"
    if !records.isEmpty { out += " → " + records.map { Self.xml($0.host) }.joined(separator: ", ") }
    out += " <span class=\"line\">line \(step.line)</span></div>\n"
    if !step.headingPath.isEmpty {
      out +=
        "<div class=\"path\">\(step.headingPath.map(Self.xml).joined(separator: " › "))</div>\n"
    }
    let script = records.first?.script ?? step.body
    let scriptLabel = step.kind.writesFile ? "Content" : "Script"
    out +=
      "<details class=\"script\" open><summary>\(scriptLabel)</summary><pre>\(Self.xml(script))</pre></details>\n"
    for r in records {
      let bad = [.failed, .timeout, .interrupted].contains(r.status)
      var summary =
        "<span class=\"badge \(r.status.rawValue)\">\(r.status.rawValue)</span> <b>\(Self.xml(r.host))</b>"
      if let code = r.exitCode { summary += " · exit \(code)" }
      summary += " · \(Self.duration(r.durationMs))"
      if r.attempts > 1 { summary += " · \(r.attempts) attempts" }
      if r.changed == true { summary += " · changed" }
      if r.changed == false { summary += " · unchanged" }
      if let reason = r.reason { summary += " · \(Self.xml(reason))" }
      out +=
        "<details class=\"host \(r.status.rawValue)\"\(bad ? " open" : "")><summary>\(summary)</summary>\n"
      if let deviation = r.deviation {
        out +=
          "<p class=\"deviation\">Deviation: the operator edited the script before it ran.</p><pre class=\"diff\">\(Self.diffHTML(deviation))</pre>\n"
      }
      if let note = r.note { out += "<p class=\"note\">Operator's note: \(Self.xml(note))</p>\n" }
      if let mismatch = r.mismatch {
        out += "<pre class=\"diff\">\(Self.diffHTML(mismatch))</pre>\n"
      }
      if let diff = r.diff { out += "<pre class=\"diff\">\(Self.diffHTML(diff))</pre>\n" }
      if r.outputBytes > 0, !(step.kind.writesFile && r.diff != nil) {
        out += "<pre class=\"out\">\(Self.xml(r.outputTail))</pre>\n"
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
      out += "</details>\n"
    }
    return out + "</section>"
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

  static let css = """
    :root{--ok:#1a7f37;--failed:#cf222e;--skipped:#6e7781;--pending:#9a6700;--timeout:#bc4c00;--interrupted:#8250df;--bg:#fff;--fg:#1f2328;--muted:#656d76;--line:#d0d7de;--code:#f6f8fa}
    *{box-sizing:border-box}body{margin:0 auto;max-width:1100px;padding:1rem;font:15px/1.5 -apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
    h1{margin:.2rem 0}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:13px}
    pre{background:var(--code);padding:.6rem;overflow-x:auto;border-radius:6px;white-space:pre-wrap;word-break:break-word}
    header.run{border-left:6px solid var(--skipped);padding-left:1rem;margin-bottom:1rem}header.passed{border-color:var(--ok)}header.failed{border-color:var(--failed)}header.interrupted{border-color:var(--interrupted)}
    table{border-collapse:collapse}th,td{border:1px solid var(--line);padding:.25rem .5rem;text-align:left;vertical-align:top}
    .audit th{background:var(--code);white-space:nowrap}.digest{word-break:break-all}
    .badge{display:inline-block;padding:0 .5rem;border-radius:1rem;color:#fff;background:var(--skipped);font-size:12px;font-weight:600}
    .badge.ok,.badge.passed{background:var(--ok)}.badge.failed{background:var(--failed)}.badge.pending{background:var(--pending)}.badge.timeout{background:var(--timeout)}.badge.interrupted{background:var(--interrupted)}
    nav ul{list-style:none;padding-left:0;columns:2}nav .l2{padding-left:1rem}nav .l3,nav .l4,nav .l5,nav .l6{padding-left:2rem}
    .scroll{overflow-x:auto}.grid td.cell{text-align:center;font-weight:700;min-width:2rem}
    .cell.ok{color:var(--ok)}.cell.failed{color:#fff;background:var(--failed)}.cell.timeout{color:#fff;background:var(--timeout)}.cell.interrupted{color:#fff;background:var(--interrupted)}.cell.pending{color:var(--pending)}.cell.skipped{color:var(--skipped)}
    .step{border:1px solid var(--line);border-left:6px solid var(--skipped);border-radius:6px;padding:.5rem .8rem;margin:.8rem 0}
    .step.ok{border-left-color:var(--ok)}.step.failed{border-left-color:var(--failed)}.step.timeout{border-left-color:var(--timeout)}.step.interrupted{border-left-color:var(--interrupted)}.step.pending{border-left-color:var(--pending)}
    .step .head .kind,.step .line,.path,.quiet,.log{color:var(--muted)}.step .line{float:right}.path{font-size:13px}
    details.host{margin:.3rem 0}summary{cursor:pointer}
    .deviation{color:var(--interrupted);font-weight:600}.diff .add{color:var(--ok)}.diff .del{color:var(--failed)}.shot,.img{display:inline-block;color:var(--muted);font-style:italic}
    footer{margin-top:2rem;color:var(--muted);font-size:12px;word-break:break-all}
    body.problems-only .grid tr:not(.problem):not(:first-child),body.problems-only .step:not(.failed):not(.timeout):not(.interrupted){display:none}
    @media (max-width:640px){body{padding:.5rem}nav ul{columns:1}.step .line{float:none}}
    """

  static let script = """
    (function(){var p=document.querySelector('.filters');if(!p)return;p.hidden=false;
    p.addEventListener('click',function(e){var f=e.target.getAttribute('data-filter');if(!f)return;
    document.body.classList.toggle('problems-only',f==='problems');});})();
    """
}
