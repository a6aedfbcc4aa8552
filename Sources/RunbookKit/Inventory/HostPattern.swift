import Foundation

/// Ansible host patterns: `name:port`, `[v6::addr]:port`, and ranges such as
/// `web[01:20]`, `db[1:9:2]` or `node-[a:f]`.
public enum HostPattern {
  /// A pattern that cannot be expanded, with Ansible's wording of the reason.
  public struct Problem: Error, Sendable, Equatable {
    /// What is wrong with the pattern.
    public var message: String
  }

  private static let numericRange = #"\[(?:[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
  private static let alphanumericRange = #"\[(?:[a-z]:[a-z]|[0-9]+:[0-9]+)(?::[0-9]+)?\]"#
  private static let label =
    #"(?:[\w]|\#(alphanumericRange))(?:[\w_-]|\#(alphanumericRange))*(?<![_-])"#
  private static let ipv4Component = #"(?:[01]?[0-9]{1,2}|2[0-4][0-9]|25[0-5]|\#(numericRange))"#

  private static let bracketedHostPort = try! NSRegularExpression(
    pattern: #"^\[(.+)\]:([0-9]+)$"#)
  private static let hostPort = try! NSRegularExpression(
    pattern: #"^((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$"#)
  private static let ipv4 = try! NSRegularExpression(
    pattern: #"^(?:\#(ipv4Component)\.){3}\#(ipv4Component)$"#, options: [.caseInsensitive])
  private static let ipv6 = try! NSRegularExpression(
    pattern:
      #"^(?:[0-9a-f]{0,4}|\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]|[0-9.]+)(?::(?:[0-9a-f]{0,4}|\[[0-9a-f]+:[0-9a-f]+(?::[0-9]+)?\]|[0-9.]+)){2,8}$"#,
    options: [.caseInsensitive])
  private static let hostname = try! NSRegularExpression(
    pattern: #"^\#(label)(?:\.\#(label))*$"#, options: [.caseInsensitive])

  private static func matches(_ regex: NSRegularExpression, _ text: String) -> [String]? {
    let range = NSRange(text.startIndex..., in: text)
    guard let m = regex.firstMatch(in: text, range: range) else { return nil }
    return (0..<m.numberOfRanges).map { i in
      Range(m.range(at: i), in: text).map { String(text[$0]) } ?? ""
    }
  }

  /// Splits `pattern` into host names and an optional port, as Ansible's INI reader does.
  public static func expand(_ pattern: String) throws(Problem) -> (hosts: [String], port: Int?) {
    var address = pattern
    var port: Int?
    for regex in [bracketedHostPort, hostPort] {
      if let groups = matches(regex, address) {
        address = groups[1]
        guard let number = Int(groups[2]), (1...65535).contains(number) else {
          throw Problem(
            message: "invalid host pattern '\(pattern)': port \(groups[2]) is not in 1-65535")
        }
        port = number
      }
    }
    let valid = [ipv4, ipv6, hostname].contains { matches($0, address) != nil }
    if !valid {
      // Ansible falls back to the whole text as one name when it is not an address.
      address = pattern
      port = nil
    }
    if pattern.hasSuffix(":"), port == nil {
      throw Problem(
        message:
          "invalid host pattern '\(pattern)': a trailing ':' is reserved for a port number")
    }
    let hosts = address.contains("[") ? try expandRanges(address) : [address]
    if hosts.contains(where: { $0.trimmingWhitespace() == "---" }) {
      throw Problem(
        message: "invalid host pattern '\(pattern)': '---' is normally a sign this is a YAML file")
    }
    return (hosts, port)
  }

  /// The most hosts one pattern may expand to: far more than any inventory has, and few
  /// enough that a typo such as `h[0:99999999]` is an error at its line, not a hang.
  public static let maximumHosts = 100_000

  /// Expands every `[begin:end(:step)]` range, leftmost first; refuses a pattern that would
  /// make more than `maximumHosts` names before making any.
  public static func expandRanges(_ line: String) throws(Problem) -> [String] {
    // The text between ranges, and the ranges, parsed once.
    var pieces: [Substring] = []
    var ranges: [HostRange] = []
    var rest = Substring(line)
    while let open = rest.firstIndex(of: "[") {
      guard let close = rest[open...].firstIndex(of: "]") else {
        throw Problem(message: "host range in '\(line)' has no closing ']'")
      }
      pieces.append(rest[..<open])
      ranges.append(try HostRange(rest[rest.index(after: open)..<close]))
      rest = rest[rest.index(after: close)...]
    }
    pieces.append(rest)
    var total = 1
    for range in ranges {
      let (product, overflow) = total.multipliedReportingOverflow(by: range.count)
      guard !overflow, product <= maximumHosts else {
        throw Problem(
          message:
            "host range in '\(line)' makes more than \(maximumHosts) hosts, the most allowed in one pattern"
        )
      }
      total = product
    }
    // Leftmost range outermost, as Ansible orders them.
    var names = [String(pieces[0])]
    for (i, range) in ranges.enumerated() {
      let items = (0..<range.count).map(range.item)
      names = names.flatMap { name in items.map { name + $0 + pieces[i + 1] } }
    }
    return names
  }

  /// One `[begin:end(:step)]` range: letters or (zero-padded) numbers.
  private struct HostRange {
    static let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    var isLetters: Bool
    var begin: Int
    var end: Int
    var step: Int
    var width: Int

    /// How many names the range makes (`Int.max` when that does not fit: the caller refuses
    /// any count over its limit).
    var count: Int {
      guard end >= begin else { return 0 }
      let (count, overflow) = ((end - begin) / step).addingReportingOverflow(1)
      return overflow ? Int.max : count
    }

    func item(_ k: Int) -> String {
      let n = begin + k * step
      if isLetters { return String(Self.letters[n]) }
      let s = String(n)
      return width > s.count ? String(repeating: "0", count: width - s.count) + s : s
    }

    init(_ body: Substring) throws(Problem) {
      let bounds = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
      guard bounds.count == 2 || bounds.count == 3 else {
        throw Problem(message: "host range must be begin:end or begin:end:step, not [\(body)]")
      }
      let first = bounds[0].isEmpty ? "0" : bounds[0]
      let last = bounds[1]
      guard !last.isEmpty else {
        throw Problem(message: "host range [\(body)] must specify an end value")
      }
      guard let step = bounds.count == 3 ? Int(bounds[2]) : 1, step > 0 else {
        throw Problem(message: "host range step in [\(body)] must be a positive whole number")
      }
      self.step = step
      width = first.hasPrefix("0") && first.count > 1 ? first.count : 0
      if width > 0, width != last.count {
        throw Problem(
          message: "host range [\(body)] must use equal-length begin and end, like [01:20]")
      }
      if first.count == 1, last.count == 1, let b = Self.letters.firstIndex(of: Character(first)),
        let e = Self.letters.firstIndex(of: Character(last))
      {
        guard b <= e else { throw Problem(message: "host range [\(body)] must have begin <= end") }
        (isLetters, begin, end) = (true, b, e)
      } else if let b = Int(first), let e = Int(last), b >= 0 {
        // A reversed number range makes no hosts, as in Ansible (which refuses only reversed
        // letters); a role left empty by it is then reported where a step uses it.
        (isLetters, begin, end) = (false, b, e)
      } else {
        throw Problem(
          message: "host range [\(body)] mixes letters and numbers; use [a:f] or [1:9]")
      }
    }
  }
}
