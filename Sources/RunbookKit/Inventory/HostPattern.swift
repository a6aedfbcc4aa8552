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
  /// make more than `maximumHosts` names, before making more than that.
  public static func expandRanges(_ line: String) throws(Problem) -> [String] {
    var hosts: [String] = []
    try expand(line, into: &hosts, whole: line)
    return hosts
  }

  private static func tooMany(_ line: String) -> Problem {
    Problem(
      message:
        "host range in '\(line)' makes more than \(maximumHosts) hosts, the most allowed in one pattern"
    )
  }

  private static func expand(_ line: String, into hosts: inout [String], whole: String)
    throws(Problem)
  {
    guard let open = line.firstIndex(of: "[") else {
      guard hosts.count < maximumHosts else { throw tooMany(whole) }
      hosts.append(line)
      return
    }
    guard let close = line[open...].firstIndex(of: "]") else {
      throw Problem(message: "host range in '\(line)' has no closing ']'")
    }
    let head = line[..<open]
    let body = line[line.index(after: open)..<close]
    let tail = line[line.index(after: close)...]
    let bounds = body.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    guard bounds.count == 2 || bounds.count == 3 else {
      throw Problem(message: "host range must be begin:end or begin:end:step, not [\(body)]")
    }
    let begin = bounds[0].isEmpty ? "0" : bounds[0]
    let end = bounds[1]
    guard !end.isEmpty else {
      throw Problem(message: "host range [\(body)] must specify an end value")
    }
    guard let step = bounds.count == 3 ? Int(bounds[2]) : 1, step > 0 else {
      throw Problem(message: "host range step in [\(body)] must be a positive whole number")
    }
    let width = begin.hasPrefix("0") && begin.count > 1 ? begin.count : 0
    if width > 0, width != end.count {
      throw Problem(
        message: "host range [\(body)] must use equal-length begin and end, like [01:20]")
    }
    var items: [String] = []
    let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    if begin.count == 1, end.count == 1, let b = letters.firstIndex(of: Character(begin)),
      let e = letters.firstIndex(of: Character(end))
    {
      guard b <= e else { throw Problem(message: "host range [\(body)] must have begin <= end") }
      items = stride(from: b, through: e, by: step).map { String(letters[$0]) }
    } else if let b = Int(begin), let e = Int(end), b >= 0 {
      // Counted before any name is made: one range alone can ask for billions.
      if e >= b, (e - b) / step >= maximumHosts - hosts.count { throw tooMany(whole) }
      items = stride(from: b, through: e, by: step).map { n in
        let s = String(n)
        return width > s.count ? String(repeating: "0", count: width - s.count) + s : s
      }
    } else {
      throw Problem(message: "host range [\(body)] mixes letters and numbers; use [a:f] or [1:9]")
    }
    for item in items { try expand(String(head + item + tail), into: &hosts, whole: whole) }
  }
}
