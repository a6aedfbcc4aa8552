import Foundation

/// Turns the literals of a block into references: each address of a listed node into a
/// host or role field, any other address into a front-matter variable, and each password
/// (`IDENTIFIED BY '…'`, `://user:…@`, `password = …`, `*_PASSWORD=…`, `--password …`,
/// `rabbitmqctl add_user USER …`) into a declared secret, encoded for where it goes.
struct LiteralRewriter: Sendable {
  let nodes: NodeList
  /// Variables made from addresses, in order: name and value.
  private(set) var variables: [(name: String, value: String)] = []
  /// Secrets made from passwords, in order: name and the literal it replaced.
  private(set) var secrets: [(name: String, value: String)] = []
  private(set) var addressesReplaced = 0
  private(set) var passwordsReplaced = 0

  init(nodes: NodeList) { self.nodes = nodes }

  /// The IPv4 addresses in `text`, with their ranges.
  static func addresses(in text: String) -> [(range: Range<String.Index>, value: String)] {
    let pattern = #"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"#
    var found: [(Range<String.Index>, String)] = []
    var start = text.startIndex
    while let range = text.range(
      of: pattern, options: .regularExpression, range: start..<text.endIndex)
    {
      found.append((range, String(text[range])))
      start = range.upperBound
    }
    return found
  }

  /// Addresses that mean the same on every host and stay as they are.
  static func isUniversal(_ address: String) -> Bool {
    address.hasPrefix("127.") || address == "0.0.0.0" || address.hasPrefix("255.")
  }

  mutating func rewrite(_ body: String, role: String?, kind: InitKind, line: Int) -> String {
    var lines = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    // The user a block's password lines belong to (`username = glance`, OS_USERNAME=admin).
    var user: String?
    for i in lines.indices {
      if let named = Self.value(of: ["username", "OS_USERNAME", "user"], in: lines[i]) {
        user = named
      }
      lines[i] = passwords(in: lines[i], user: user, kind: kind)
      lines[i] = addresses(in: lines[i], role: role)
    }
    return lines.joined(separator: "\n")
  }

  private mutating func addresses(in line: String, role: String?) -> String {
    var text = line
    for (range, address) in Self.addresses(in: line).reversed() where !Self.isUniversal(address) {
      let reference: String
      if let (node, size) = nodes.node(at: address) {
        if size == 1 {
          reference = role == node.role ? "{{ host.address }}" : "{{ roles.\(node.role).address }}"
        } else {
          reference = "{{ \(variable(named: node.name + "_address", value: address)) }}"
        }
      } else {
        reference = "{{ \(variable(named: "address", value: address, numbered: true)) }}"
      }
      text.replaceSubrange(range, with: reference)
      addressesReplaced += 1
    }
    return text
  }

  private mutating func variable(named base: String, value: String, numbered: Bool = false)
    -> String
  {
    if let existing = variables.first(where: { $0.value == value }) { return existing.name }
    var name =
      numbered ? "\(base)_\(variables.filter { $0.name.hasPrefix(base + "_") }.count + 1)" : base
    if value == vip { name = "vip" }
    variables.append((name, value))
    return name
  }

  /// The address the notes name as a virtual IP (after `virtual_ipaddress`): its variable
  /// is `vip`.
  var vip: String?

  private mutating func secret(for value: String, named base: String, reuseAny: Bool = false)
    -> String
  {
    if let existing = secrets.first(where: {
      $0.value == value && (reuseAny || $0.name.hasPrefix(base))
    }) {
      return existing.name
    }
    var name = base
    var n = 2
    while secrets.contains(where: { $0.name == name }) {
      name = "\(base)_\(n)"
      n += 1
    }
    secrets.append((name, value))
    return name
  }

  /// `line` with each literal password replaced by a reference to a secret, by the rules
  /// below in turn: each rule sees the line as the rules before it left it.
  private mutating func passwords(in line: String, user: String?, kind: InitKind) -> String {
    var text = line
    replaceIdentifiedBy(in: &text)
    replaceWithPassword(in: &text)
    replaceURLPassword(in: &text)
    replaceAssignment(in: &text, user: user, kind: kind)
    replacePasswordOption(in: &text, user: user)
    replaceStatsAuth(in: &text)
    replaceClientPassword(in: &text)
    replaceQuotedSetting(in: &text, user: user)
    replaceAddUser(in: &text)
    replaceDirective(in: &text)
    replaceRedisAuth(in: &text)
    return text
  }

  /// PostgreSQL's `USER name WITH PASSWORD 'x'` (and `ENCRYPTED PASSWORD 'x'`).
  private mutating func replaceWithPassword(in text: inout String) {
    if let range = text.range(of: #"\bPASSWORD '[^'{]*'"#, options: .regularExpression),
      text.range(of: #"\b(USER|ROLE)\b"#, options: [.regularExpression, .caseInsensitive]) != nil
    {
      let value = String(text[range].dropFirst("PASSWORD '".count).dropLast())
      let owner =
        Self.firstMatch(#"(?i:USER|ROLE)\s+"?([A-Za-z0-9_]+)"#, in: text) ?? "db"
      let name = secret(for: value, named: "\(owner)_db_password")
      text.replaceSubrange(range, with: "PASSWORD {{ \(name) | sql }}")
      passwordsReplaced += 1
    }
  }

  /// Redis's `requirepass x` and `masterauth x`: one password, the server's.
  private mutating func replaceDirective(in text: inout String) {
    if let range = text.range(
      of: #"^\s*(requirepass|masterauth)\s+[^\s{]+"#, options: .regularExpression)
    {
      let words = text[range].split(whereSeparator: \.isWhitespace)
      let name = secret(for: String(words[1]), named: "redis_password")
      text.replaceSubrange(range, with: "\(words[0]) {{ \(name) }}")
      passwordsReplaced += 1
    }
  }

  /// `redis-cli -a x`: the server's password on the command line.
  private mutating func replaceRedisAuth(in text: inout String) {
    if let range = text.range(
      of: #"redis-cli\b.*\s-a\s+('[^']+'|"[^"]+"|[^\s'"{-]\S*)"#, options: .regularExpression),
      let option = text[range].range(of: #"\s-a\s+\S+$"#, options: .regularExpression)
    {
      let value = Self.unquoted(
        String(text[range][option].split(whereSeparator: \.isWhitespace).last!))
      let name = secret(for: value, named: "redis_password")
      text.replaceSubrange(option, with: " -a {{ \(name) | quote }}")
      passwordsReplaced += 1
    }
  }

  /// IDENTIFIED BY 'x' (with 'user'@ before it).
  private mutating func replaceIdentifiedBy(in text: inout String) {
    if let range = text.range(of: #"IDENTIFIED BY '[^']*'"#, options: .regularExpression) {
      let value = String(text[range].dropFirst("IDENTIFIED BY '".count).dropLast())
      let owner = Self.firstMatch(#"'([A-Za-z0-9_]+)'@"#, in: text) ?? "db"
      let name = secret(for: value, named: "\(owner)_db_password")
      text.replaceSubrange(range, with: "IDENTIFIED BY {{ \(name) | mysql }}")
      passwordsReplaced += 1
    }
  }

  /// scheme://user:password@host
  private mutating func replaceURLPassword(in text: inout String) {
    if let range = text.range(of: #"://[A-Za-z0-9_]+:[^@/\s]+@"#, options: .regularExpression) {
      let inner = text[range].dropFirst(3).dropLast()
      let parts = inner.split(separator: ":", maxSplits: 1)
      let owner = String(parts[0])
      let base = text.contains("rabbit://") ? "\(owner)_rabbit_password" : "\(owner)_db_password"
      let name = secret(for: String(parts[1]), named: base)
      text.replaceSubrange(range, with: "://\(owner):{{ \(name) | url }}@")
      passwordsReplaced += 1
    }
  }

  /// password = x (a config file), NAME_PASSWORD=x / NAME_PASS=x (a shell line)
  private mutating func replaceAssignment(in text: inout String, user: String?, kind: InitKind) {
    if let range = text.range(
      of:
        #"^\s*(export\s+)?[A-Za-z_]*(password|PASSWORD|_PASS|_pass|secret|SECRET|_token|_TOKEN|passwd)\s*=\s*\S+"#,
      options: .regularExpression)
    {
      let assignment = text[range]
      let equals = assignment.firstIndex(of: "=")!
      let key = assignment[..<equals].trimmingWhitespace()
        .replacingOccurrences(of: "export ", with: "").trimmingWhitespace()
      let value = assignment[assignment.index(after: equals)...].trimmingWhitespace()
      if !value.hasPrefix("{{"), !value.hasPrefix("$") {
        let base = (user.map { "\($0)_password" } ?? key.lowercased())
        let name = secret(for: value, named: base)
        let encoded = kind == .shell ? "{{ \(name) | quote }}" : "{{ \(name) }}"
        let prefix = text[..<range.lowerBound] + assignment[...equals]
        let spaced = assignment[assignment.index(after: equals)...].prefix { $0 == " " }
        text = String(prefix) + spaced + encoded + text[range.upperBound...]
        passwordsReplaced += 1
      }
    }
  }

  /// --password x, --password=x, --bootstrap-password x, --os-password x (not
  /// --password-prompt)
  private mutating func replacePasswordOption(in text: inout String, user: String?) {
    if let range = text.range(
      // The value ends at white space or at a `--` glued to it (`--pw=x--port=1`).
      of: #"--[a-z-]*password[ =][^\s-](?:[^\s-]|-(?!-))*"#, options: .regularExpression)
    {
      let option = text[range].prefix { $0 != " " && $0 != "=" }
      let value = String(text[range].dropFirst(option.count + 1))
      // keystone-manage's --bootstrap-password is the admin user's.
      let owner = option == "--bootstrap-password" ? "admin" : user
      let name = secret(
        for: value, named: (owner ?? "service") + "_password", reuseAny: owner == nil)
      text.replaceSubrange(range, with: "\(option) {{ \(name) | quote }}")
      passwordsReplaced += 1
    }
  }

  /// HAProxy's `stats auth USER:PASSWORD`
  private mutating func replaceStatsAuth(in text: inout String) {
    if let range = text.range(of: #"\bauth\s+[A-Za-z0-9_.-]+:[^\s{]+"#, options: .regularExpression)
    {
      let pair = text[range].split(whereSeparator: \.isWhitespace).last!
      let parts = pair.split(separator: ":", maxSplits: 1)
      let name = secret(for: String(parts[1]), named: "\(parts[0])_password")
      text.replaceSubrange(range, with: "auth \(parts[0]):{{ \(name) }}")
      passwordsReplaced += 1
    }
  }

  /// A database client's -p'PASSWORD' / -pPASSWORD (with -u USER on the line)
  private mutating func replaceClientPassword(in text: inout String) {
    if let range = text.range(
      of: #"(mysql|mariadb)\b.*\s-p('[^']+'|"[^"]+"|[^\s'"{-][^\s]*)"#, options: .regularExpression),
      let option = text[range].range(of: #"\s-p\S+$"#, options: .regularExpression)
    {
      let value = Self.unquoted(String(text[range][option].dropFirst(3)))
      let owner = Self.firstMatch(#"\s-u\s*([A-Za-z0-9_]+)"#, in: text) ?? "db"
      let name = secret(for: value, named: "\(owner)_db_password")
      text.replaceSubrange(option, with: " -p{{ \(name) | quote }}")
      passwordsReplaced += 1
    }
  }

  /// 'DB_PASSWORD', 'x' / "password": "x" (PHP, JSON-like settings)
  private mutating func replaceQuotedSetting(in text: inout String, user: String?) {
    if let range = text.range(
      of: #"['"][A-Za-z_]*(PASSWORD|password|_PASS)['"]\s*[,:=>]+\s*'[^'{]+'"#,
      options: .regularExpression),
      let literal = text[range].range(of: #"'[^'{]+'$"#, options: .regularExpression)
    {
      let value = String(text[range][literal].dropFirst().dropLast())
      let name = secret(for: value, named: (user ?? "app") + "_password", reuseAny: user == nil)
      text.replaceSubrange(literal, with: "'{{ \(name) }}'")
      passwordsReplaced += 1
    }
  }

  /// rabbitmqctl add_user USER PASSWORD
  private mutating func replaceAddUser(in text: inout String) {
    if let range = text.range(of: #"add_user\s+\S+\s+\S+"#, options: .regularExpression) {
      let words = text[range].split(separator: " ", omittingEmptySubsequences: true)
      if words.count == 3, !words[2].hasPrefix("{{") {
        let name = secret(for: String(words[2]), named: "\(words[1])_rabbit_password")
        text.replaceSubrange(range, with: "add_user \(words[1]) {{ \(name) | quote }}")
        passwordsReplaced += 1
      }
    }
  }

  /// `line` with each known password that follows a word for password ("密码为centos",
  /// "设置密码（admin）", "# the password is x") replaced by the name of its secret: notes
  /// say their passwords in prose and comments too, and none may reach the runbook.
  mutating func hidingMentions(in line: String) -> String {
    guard line.range(of: #"密码|口令|(?i)passw"#, options: .regularExpression) != nil else {
      return line
    }
    var text = line
    for (name, value) in secrets where !value.isEmpty {
      let pattern =
        #"((?:密码|口令|(?i:password|passwd))(?:\s*is\s*|[^A-Za-z0-9{<]{0,4}))"#
        + NSRegularExpression.escapedPattern(for: value) + #"(?![A-Za-z0-9_])"#
      guard let regex = try? NSRegularExpression(pattern: pattern) else { continue }
      let range = NSRange(text.startIndex..., in: text)
      let count = regex.numberOfMatches(in: text, range: range)
      guard count > 0 else { continue }
      text = regex.stringByReplacingMatches(
        in: text, range: range, withTemplate: "$1<secret " + name + ">")
      passwordsReplaced += count
    }
    return text
  }

  /// The value of the first of `keys` assigned on `line` (`key = value`, `KEY=value`).
  static func value(of keys: [String], in line: String) -> String? {
    for key in keys {
      if let found = firstMatch(
        #"^\s*(?:export\s+)?"# + key + #"\s*=\s*([A-Za-z0-9_.-]+)\s*$"#, in: line)
      {
        return found
      }
    }
    return nil
  }

  /// A shell word without the one pair of quotes around it.
  static func unquoted(_ word: String) -> String {
    guard word.count > 1, let q = word.first, q == "'" || q == "\"", word.last == q else {
      return word
    }
    return String(word.dropFirst().dropLast())
  }

  /// The first capture group of `pattern` in `text`.
  static func firstMatch(_ pattern: String, in text: String) -> String? {
    guard let regex = try? NSRegularExpression(pattern: pattern),
      let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
      match.numberOfRanges > 1, let range = Range(match.range(at: 1), in: text)
    else { return nil }
    return String(text[range])
  }
}
