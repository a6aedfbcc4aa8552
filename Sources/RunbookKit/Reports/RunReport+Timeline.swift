import Foundation

/// The timeline of `report.html`: per attempt, one lane per host and one bar per run of a
/// step, coloured by status, so a reader sees where the time went and which host lagged.
/// Inline SVG, nothing loaded from outside.
extension RunReport {
  /// More lanes than this are left out (named in a note): the picture is for reading.
  static let timelineHostLimit = 60
  /// More bars than this per attempt are left out likewise.
  static let timelineBarLimit = 4000

  func timelineHTML() -> String {
    var byAttempt: [Int: [StepRecord]] = [:]
    // In runbook order (a dictionary's order would change the file from one rendering to
    // the next).
    for step in runbook.steps {
      for record in history[step.index] ?? [] {
        byAttempt[record.attempt ?? 1, default: []].append(record)
      }
    }
    for record in formerSteps { byAttempt[record.attempt ?? 1, default: []].append(record) }
    guard !byAttempt.isEmpty else { return "" }
    var out = "<section class=\"timeline\"><h2>Timeline</h2>\n"
    for attempt in byAttempt.keys.sorted() {
      let records = byAttempt[attempt]!.filter { $0.host != "operator" || $0.durationMs > 0 }
      if byAttempt.count > 1 { out += "<h3>Attempt \(attempt)</h3>\n" }
      out += Self.timelineSVG(
        records, hostOrder: lastAttempt.hosts,
        stepLabel: { id in
          runbook.steps.first { $0.id == id }.map(label(of:)) ?? id
        })
    }
    return out + "</section>\n"
  }

  /// One attempt's lanes and bars.
  static func timelineSVG(
    _ all: [StepRecord], hostOrder: [String], stepLabel: (String) -> String
  ) -> String {
    let parse = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    var hosts: [String] = []
    var seen: Set<String> = []
    var bars: [(record: StepRecord, start: Date, end: Date)] = []
    for record in all {
      guard let start = try? parse.parse(record.startedAt) else { continue }
      let end = (try? parse.parse(record.endedAt)) ?? start
      if seen.insert(record.host).inserted { hosts.append(record.host) }
      bars.append((record, start, max(end, start)))
    }
    guard let first = bars.map(\.start).min(), let last = bars.map(\.end).max() else { return "" }
    // Lanes in inventory order, hosts the inventory no longer has after them.
    let rank = Dictionary(hostOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    hosts = hosts.enumerated().sorted {
      (rank[$0.element] ?? Int.max, $0.offset) < (rank[$1.element] ?? Int.max, $1.offset)
    }.map(\.element)
    let shownHosts = Array(hosts.prefix(timelineHostLimit))
    let lane = Dictionary(uniqueKeysWithValues: shownHosts.enumerated().map { ($1, $0) })
    let span = max(last.timeIntervalSince(first), 0.001)
    let (left, width, height, gap) = (140.0, 820.0, 16.0, 4.0)
    let total = Double(shownHosts.count) * (height + gap) + 24
    var svg =
      "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 \(Int(left + width + 10)) \(Int(total))\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>Steps over time, one lane per host</title>\n"
    for (i, host) in shownHosts.enumerated() {
      let y = Double(i) * (height + gap)
      svg +=
        "<text x=\"0\" y=\"\(format(y + height - 4))\" class=\"lane\">\(xml(host.count > 20 ? String(host.prefix(19)) + "…" : host))</text>\n"
    }
    var drawn = 0
    for (record, start, end) in bars {
      guard let row = lane[record.host], drawn < timelineBarLimit else { continue }
      drawn += 1
      let x = left + start.timeIntervalSince(first) / span * width
      let w = max(end.timeIntervalSince(start) / span * width, 1.5)
      let y = Double(row) * (height + gap)
      let tip =
        "\(stepLabel(record.step)) on \(record.host): \(record.status.rawValue), \(duration(record.durationMs))"
      svg +=
        "<a href=\"#step-\(xml(record.step))\"><rect class=\"bar \(record.status.rawValue)\" x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(w))\" height=\"\(Int(height))\"><title>\(xml(tip))</title></rect></a>\n"
    }
    let axis = Double(shownHosts.count) * (height + gap) + 14
    svg +=
      "<text x=\"\(Int(left))\" y=\"\(format(axis))\" class=\"axis\">0 s</text><text x=\"\(Int(left + width))\" y=\"\(format(axis))\" class=\"axis\" text-anchor=\"end\">\(duration(Int(span * 1000)))</text>\n</svg>\n"
    var notes: [String] = []
    if hosts.count > shownHosts.count {
      notes.append("\(hosts.count - shownHosts.count) more hosts not drawn")
    }
    if drawn < bars.count { notes.append("\(bars.count - drawn) more runs not drawn") }
    if !notes.isEmpty { svg += "<p class=\"quiet\">\(notes.joined(separator: "; ")).</p>\n" }
    return svg
  }

  private static func format(_ value: Double) -> String { String(format: "%.1f", value) }
}
