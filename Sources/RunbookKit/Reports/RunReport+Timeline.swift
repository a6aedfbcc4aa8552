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
    var labels: [String: String] = [:]
    for step in runbook.steps { labels[step.id] = label(of: step) }
    var out =
      "<section class=\"timeline\"><h2>Timeline</h2>\n<p class=\"legend\">One lane per host, one bar per run of a step (named on the bar where it fits; point at a bar for its step, status and duration, click it for the step). Colours are statuses: <span class=\"cell ok\">ok</span> <span class=\"cell failed\">failed</span> <span class=\"cell skipped\">skipped</span>. Time runs from the attempt's first start (UTC).</p>\n"
    for attempt in byAttempt.keys.sorted() {
      let records = byAttempt[attempt]!.filter { $0.host != "operator" || $0.durationMs > 0 }
      if byAttempt.count > 1 { out += "<h3>Attempt \(attempt)</h3>\n" }
      out += Self.timelineSVG(
        records, hostOrder: lastAttempt.hosts, stepLabel: { labels[$0] ?? $0 })
    }
    return out + "</section>\n"
  }

  /// One attempt's lanes and bars.
  static func timelineSVG(
    _ all: [StepRecord], hostOrder: [String], stepLabel: (String) -> String
  ) -> String {
    var hosts: [String] = []
    var seen: Set<String> = []
    for record in all where seen.insert(record.host).inserted { hosts.append(record.host) }
    // Lanes in inventory order, hosts the inventory no longer has after them.
    let rank = Dictionary(hostOrder.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    hosts = hosts.enumerated().sorted {
      (rank[$0.element] ?? Int.max, $0.offset) < (rank[$1.element] ?? Int.max, $1.offset)
    }.map(\.element)
    let shownHosts = Array(hosts.prefix(timelineHostLimit))
    let lane = Dictionary(uniqueKeysWithValues: shownHosts.enumerated().map { ($1, $0) })
    // Only the bars that are drawn are read (a large run has tens of thousands of records).
    var bars: [(record: StepRecord, start: Double, end: Double)] = []
    var total = 0
    for record in all where lane[record.host] != nil {
      guard let start = epochSeconds(record.startedAt) else { continue }
      total += 1
      if bars.count < timelineBarLimit {
        bars.append((record, start, max(epochSeconds(record.endedAt) ?? start, start)))
      }
    }
    guard let first = bars.map(\.start).min(), let last = bars.map(\.end).max() else { return "" }
    let span = max(last - first, 0.001)
    let (left, width, height, gap) = (140.0, 820.0, 16.0, 4.0)
    let totalHeight = Double(shownHosts.count) * (height + gap) + 24
    var svg =
      "<svg class=\"timeline\" role=\"img\" viewBox=\"0 0 \(Int(left + width + 10)) \(Int(totalHeight))\" width=\"100%\" xmlns=\"http://www.w3.org/2000/svg\"><title>Steps over time, one lane per host</title>\n"
    for (i, host) in shownHosts.enumerated() {
      let y = Double(i) * (height + gap)
      svg +=
        "<text x=\"0\" y=\"\(format(y + height - 4))\" class=\"lane\">\(xml(host.count > 20 ? String(host.prefix(19)) + "…" : host))</text>\n"
    }
    let axis = Double(shownHosts.count) * (height + gap) + 14
    // Five ticks, behind the bars; the first names the clock time the span starts at.
    for tick in 0...4 {
      let x = left + Double(tick) / 4 * width
      let anchor = tick == 0 ? "start" : tick == 4 ? "end" : "middle"
      let text =
        tick == 0
        ? "0 s (\(clock(first)))" : duration(Int(span * 1000 * Double(tick) / 4))
      svg +=
        "<line x1=\"\(format(x))\" x2=\"\(format(x))\" y1=\"0\" y2=\"\(format(axis - 10))\" class=\"tick\"/><text x=\"\(format(x))\" y=\"\(format(axis))\" class=\"axis\" text-anchor=\"\(anchor)\">\(xml(text))</text>\n"
    }
    for (record, start, end) in bars {
      guard let row = lane[record.host] else { continue }
      let x = left + (start - first) / span * width
      let w = max((end - start) / span * width, 1.5)
      let y = Double(row) * (height + gap)
      let tip =
        "\(stepLabel(record.step)) on \(record.host): \(record.status.rawValue), \(duration(record.durationMs))"
      svg +=
        "<a href=\"#step-\(xml(record.step))\"><rect class=\"bar \(record.status.rawValue)\" x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(w))\" height=\"\(Int(height))\"><title>\(xml(tip))</title></rect>"
      // The step's label on its bar, as much of it as fits (about 6 px a character).
      let fits = Int((w - 6) / 6)
      if fits >= 4 {
        let name = stepLabel(record.step)
        let shown = name.count > fits ? String(name.prefix(fits - 1)) + "…" : name
        svg +=
          "<text x=\"\(format(x + 3))\" y=\"\(format(y + height - 4))\" class=\"barlabel\">\(xml(shown))</text>"
      }
      svg += "</a>\n"
    }
    svg += "</svg>\n"
    var notes: [String] = []
    if hosts.count > shownHosts.count {
      notes.append("\(hosts.count - shownHosts.count) more hosts not drawn")
    }
    if bars.count < total { notes.append("\(total - bars.count) more runs not drawn") }
    if !notes.isEmpty { svg += "<p class=\"quiet\">\(notes.joined(separator: "; ")).</p>\n" }
    return svg
  }

  private static func format(_ value: Double) -> String { String(format: "%.1f", value) }

  /// `HH:MM:SS UTC` of seconds since 1970.
  static func clock(_ seconds: Double) -> String {
    let day = Int(seconds.rounded(.down)) % 86_400
    return String(format: "%02d:%02d:%02d UTC", day / 3600, day / 60 % 60, day % 60)
  }

  /// Seconds since 1970 of a journal timestamp (`2026-01-01T00:00:00.000Z`, as the executor
  /// writes them), read by position: Foundation's parser costs tens of microseconds a time.
  static func epochSeconds(_ text: String) -> Double? {
    let b = Array(text.utf8)
    guard b.count >= 20, b[4] == UInt8(ascii: "-"), b[10] == UInt8(ascii: "T"),
      b.last == UInt8(ascii: "Z")
    else { return nil }
    func number(_ from: Int, _ count: Int) -> Int? {
      var value = 0
      for i in from..<(from + count) {
        guard (48...57).contains(b[i]) else { return nil }
        value = value * 10 + Int(b[i] - 48)
      }
      return value
    }
    guard let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
      let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2)
    else { return nil }
    var fraction = 0.0
    if b[19] == UInt8(ascii: "."), b.count > 21 {
      var scale = 0.1
      for i in 20..<(b.count - 1) {
        guard (48...57).contains(b[i]) else { return nil }
        fraction += Double(b[i] - 48) * scale
        scale /= 10
      }
    }
    // Days from the civil date (Howard Hinnant's algorithm), so no calendar is consulted.
    let y = month <= 2 ? year - 1 : year
    let era = (y >= 0 ? y : y - 399) / 400
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    let days = era * 146_097 + dayOfEra - 719_468
    return Double(days * 86_400 + hour * 3600 + minute * 60 + second) + fraction
  }
}
