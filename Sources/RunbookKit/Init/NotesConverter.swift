import Foundation

/// `runbook init`: an operator's raw notes (prose, code blocks with literal addresses and
/// passwords, the node of each block said in words) to an annotated runbook and, where
/// the notes list the nodes' addresses, an inventory. The notes are never changed; every
/// code block becomes a step or is said not to be one, with why.
public struct NotesConverter: Sendable {
  /// Words that name a role, beyond the built-in ones (`--role-word WORD=ROLE`).
  public var roleWords: [(word: String, role: String)] = []
  /// An inventory the team has already: its hosts' names and addresses say their groups,
  /// and it replaces the node list the notes may give.
  public var inventory: Inventory?

  /// Creates a converter.
  public init() {}

  /// The built-in words for the usual kinds of node, Chinese and English, most specific
  /// first.
  static let builtInRoleWords: [(word: String, role: String)] = [
    ("控制节点", "controller"), ("控制端", "controller"), ("计算节点", "compute"),
    ("负载均衡器", "lb"), ("负载均衡", "lb"), ("数据库节点", "db"), ("与数据库同节点", "db"),
    ("数据库服务器", "db"), ("controller node", "controller"), ("compute node", "compute"),
    ("load balancer", "lb"), ("database node", "db"), ("database server", "db"),
    ("web server", "web"), ("each server", "all"), ("every server", "all"),
    ("all servers", "all"), ("both servers", "all"), ("all nodes", "all"), ("每个节点", "all"),
    ("所有节点", "all"), ("各节点", "all"),
  ]

  /// What the conversion made.
  public struct Result: Sendable {
    /// The annotated runbook.
    public var runbook: String
    /// An INI inventory, when the notes list the nodes' addresses.
    public var inventory: String?
    /// What was done, for the terminal and `--json`.
    public var report: InitReport
  }

  /// Converts `notes` (the file's text; `file` names it in the report).
  public func convert(_ notes: String, file: String) -> Result {
    let text = SourceText(notes)
    var lines = text.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let document = MarkdownParser.parse(text.markdown)
    let known = inventory.map(NodeList.from)
    // An inventory's host names are words for their groups ("install it on db01").
    let words =
      roleWords + (known?.nodes.map { (word: $0.name, role: $0.role) } ?? [])
      + Self.builtInRoleWords
    let environment = known ?? NodeList.find(in: lines, roleWords: words)
    var literals = LiteralRewriter(nodes: environment)
    if let at = lines.firstIndex(where: { $0.contains("virtual_ipaddress") }) {
      literals.vip =
        lines[at..<min(at + 4, lines.count)].lazy
        .compactMap { LiteralRewriter.addresses(in: $0).first?.value }.first
    }
    var walk = BlockWalk(
      lines: lines, environment: environment, words: words,
      titleLevel: Self.titleLevel(of: document), literals: literals,
      report: InitReport(file: file))
    for block in document.blocks { walk.visit(block) }
    // Edits are applied from the end, so earlier line numbers stay valid.
    for edit in walk.edits.reversed() {
      lines.replaceSubrange(
        (edit.range.lowerBound - 1)...(edit.range.upperBound - 1), with: edit.lines)
    }
    literals = walk.literals
    // Passwords the notes also say in prose or comments ("密码为centos").
    for i in text.frontMatterEndLine..<lines.count {
      lines[i] = literals.hidingMentions(in: lines[i])
    }
    var report = walk.report
    report.variables = literals.variables.map(\.name)
    report.secrets = literals.secrets.map(\.name)
    report.addressesReplaced = literals.addressesReplaced
    report.passwordsReplaced = literals.passwordsReplaced
    let title =
      document.blocks.lazy.compactMap { block -> String? in
        if case .heading(_, let text, _) = block { return text }
        return nil
      }.first ?? (file as NSString).lastPathComponent
    let runbook = Self.addingFrontMatter(to: lines, of: text, title: title, literals: literals)
    report.review = Self.review(runbook)
    // The reasons quote the notes: a password found there is named, not shown, and
    // nothing the notes hold reaches the terminal as a control sequence.
    let passwords = literals.secrets.filter { !$0.value.isEmpty }
    report.rewriteReasons { why in
      TerminalText.visible(
        passwords.reduce(why) { $0.replacingOccurrences(of: $1.value, with: "<secret \($1.name)>") }
      )
    }
    return Result(
      runbook: runbook,
      inventory: environment.isEmpty || inventory != nil ? nil : environment.inventory(),
      report: report)
  }

  /// What `check`'s operability review says of the runbook written: the steps a person
  /// must still look at (an install without its -y, a secret as an argument, …).
  private static func review(_ runbook: String) -> [InitReport.Documentation] {
    let (parsed, _) = Runbook.parse(runbook, file: "runbook")
    let (plan, _) = Planner.plan(parsed, inventory: nil)
    return OperabilityReview.review(plan).map {
      InitReport.Documentation(line: $0.location?.line ?? 0, why: $0.message)
    }
  }

  /// A first heading above deeper ones is the document's title: it names the whole install
  /// ("… with Nginx, MariaDB and PHP"), not the node of a block.
  private static func titleLevel(of document: MarkdownDocument) -> Int? {
    let headingLevels = document.blocks.compactMap { block -> Int? in
      if case .heading(let level, _, _) = block { return level }
      return nil
    }
    return headingLevels.first.flatMap { first in
      headingLevels.dropFirst().allSatisfy { $0 > first } && headingLevels.count > 1 ? first : nil
    }
  }

  /// The notes' own front matter stays (its keys are notes to runbook), with the variables
  /// and secrets added before its end; without one, a new one.
  private static func addingFrontMatter(
    to lines: [String], of text: SourceText, title: String, literals: LiteralRewriter
  ) -> String {
    var lines = lines
    var added = Self.frontMatter(
      title: title, variables: literals.variables, secrets: literals.secrets.map(\.name))
    if text.frontMatter != nil, text.frontMatterEndLine > 0 {
      var keys = added.split(separator: "\n").dropFirst().dropLast().map(String.init)
      if text.frontMatter?.contains("title:") == true { keys.removeAll { $0.hasPrefix("title:") } }
      lines.insert(contentsOf: keys, at: text.frontMatterEndLine - 1)
      added = ""
    }
    return added + lines.joined(separator: "\n")
  }

  /// The front matter: the variables the notes' literals became, and the secrets (declared,
  /// never given: their values are asked for, or come from `RUNBOOK_SECRET_NAME`).
  static func frontMatter(
    title: String, variables: [(name: String, value: String)], secrets: [String]
  )
    -> String
  {
    var text = "---\ntitle: \(yamlString(title))\n"
    if !variables.isEmpty {
      text += "vars:\n" + variables.map { "  \($0.name): \(yamlString($0.value))\n" }.joined()
    }
    if !secrets.isEmpty { text += "secrets: [\(secrets.joined(separator: ", "))]\n" }
    return text + "---\n\n"
  }

  static func yamlString(_ text: String) -> String {
    "\""
      + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
        of: "\"", with: "\\\"")
      + "\""
  }

  /// Whether `text` can stand as an attribute value without quotes: names, paths and
  /// comma-separated lists of them.
  static func isAttributeWord(_ text: String) -> Bool {
    !text.isEmpty
      && text.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "_.,/:@+-".contains($0)) }
  }

  /// The prose a block sits under, nearest first: the line just before it, then each
  /// enclosing list item (less indented), up to the top level.
  static func context(of line: Int, in lines: [String]) -> [String] {
    var found: [String] = []
    var limit = Int.max
    var index = line - 2
    while index >= 0, limit > 0 {
      let text = lines[index]
      let content = text.drop { $0 == " " || $0 == "\t" }
      let indent = text.count - content.count
      if !content.isEmpty, !content.hasPrefix("```"), !content.hasPrefix("~~~"), indent < limit {
        if content.hasPrefix("#") { break }
        found.append(String(content))
        limit = indent
      }
      index -= 1
    }
    return found
  }

  /// The role a block's context names, and by which rule.
  /// The role of a block, and by which rule: a prompt in the block; the prose and list
  /// items it sits under, nearest first; a node the section's prose named earlier; the
  /// headings, nearest first; last, a database word in the nearest prose or heading.
  static func role(
    prose: [String], section: String?, hosts: [(name: String, role: String)] = [],
    headings: [String], block: String,
    words: [(word: String, role: String)]
  ) -> (role: String, rule: String)? {
    // One host named as the place ("on app1"): the block runs there only (on its group,
    // when it is the group's only host).
    if let text = prose.first?.lowercased().replacingOccurrences(of: "*", with: "") {
      for host in hosts
      where text.range(
        of: #"\bon "# + NSRegularExpression.escapedPattern(for: host.name.lowercased()) + #"\b"#,
        options: .regularExpression) != nil
      {
        return (host.role, "host name")
      }
    }
    // A shell prompt in the block names its host: [root@controller ~]#, root@db1:~#.
    for line in block.split(separator: "\n").prefix(3) {
      if let host = promptHost(String(line)),
        let match = words.first(where: {
          host.lowercased().hasPrefix($0.role) || host.lowercased() == $0.word.lowercased()
        })
      {
        return (match.role, "prompt")
      }
    }
    // "On all nodes", "在所有节点上": every host of the inventory (Ansible's `all`).
    if let text = prose.first, namesEveryNode(text) { return ("all", "all nodes") }
    for (depth, text) in prose.enumerated() {
      // A node named where the block runs ("on db01", "在控制节点上") is the block's; one
      // only mentioned ("a user that may connect from web01") gives way to the section's.
      if let roles = roles(named: text, words: words),
        section == nil || depth > 0 || names(roles, asPlaceIn: text, words: words)
      {
        return (roles.joined(separator: ","), depth == 0 ? "prose" : "list item")
      }
    }
    if let section { return (section, "section") }
    for text in headings {
      if let roles = roles(named: text, words: words) {
        return (roles.joined(separator: ","), "heading")
      }
    }
    // Nothing names a node: a database word alone says the database node.
    for text in prose + headings.prefix(1) {
      if let roles = roles(named: text, words: weakRoleWords) {
        return (roles.joined(separator: ","), "database word")
      }
    }
    return nil
  }

  /// Whether `text` says a block runs on every node ("on all servers", "each of the
  /// nodes", "所有节点", "每台主机").
  static func namesEveryNode(_ text: String) -> Bool {
    let lower = text.lowercased()
    let english =
      #"\b(all|every|each)( one)?( of)?( the| our| your)? (nodes?|servers?|hosts?|machines?)\b"#
    return lower.range(of: english, options: .regularExpression) != nil
      || ["所有节点", "每个节点", "全部节点", "所有主机", "每台主机", "所有服务器", "每台服务器"].contains(
        where: lower.contains)
  }

  /// Whether `text` names the first of `roles` as where something happens: after "on",
  /// "at", "在", or in parentheses.
  static func names(
    _ roles: [String], asPlaceIn text: String, words: [(word: String, role: String)]
  )
    -> Bool
  {
    let lower = text.lowercased().replacingOccurrences(of: "*", with: "")
    for (word, role) in words where role == roles.first {
      let w = word.lowercased()
      if ["on ", "at ", "在", "（", "("].contains(where: { lower.contains($0 + w) }) { return true }
    }
    return false
  }

  /// Words that say a role only when nothing more specific does.
  static let weakRoleWords: [(word: String, role: String)] = [
    ("数据库", "db"), ("mariadb", "db"), ("mysql", "db"), ("database", "db"),
  ]

  /// The roles one line of prose names. A node in parentheses (`（控制节点）`) is the
  /// block's; otherwise the first node named, with those joined to it by "和", "and", "、"
  /// or a comma (`配置控制节点和计算节点`) — not the object of a sentence
  /// (`控制端验证计算节点…` is the controller's).
  static func roles(named text: String, words: [(word: String, role: String)]) -> [String]? {
    let lower = text.lowercased()
    var parenthesized: [String] = []
    for brackets in [(open: "（", close: "）"), (open: "(", close: ")")] {
      var rest = lower[...]
      while let open = rest.range(of: brackets.open),
        let close = rest[open.upperBound...].range(of: brackets.close)
      {
        let inside = rest[open.upperBound..<close.lowerBound]
        for (word, role) in words
        where inside.contains(word.lowercased()) && !parenthesized.contains(role) {
          parenthesized.append(role)
        }
        rest = rest[close.upperBound...]
      }
    }
    if !parenthesized.isEmpty { return parenthesized }
    var found: [(at: String.Index, end: String.Index, role: String)] = []
    for (word, role) in words {
      if let range = lower.range(of: word.lowercased()), !found.contains(where: { $0.role == role })
      {
        found.append((range.lowerBound, range.upperBound, role))
      }
    }
    found.sort { $0.at < $1.at }
    guard var previous = found.first else { return nil }
    var roles = [previous.role]
    for next in found.dropFirst() {
      let between = lower[previous.end..<max(previous.end, next.at)].trimmingWhitespace()
      guard ["和", "and", "、", ",", "，", "&", "及"].contains(between) else { break }
      roles.append(next.role)
      previous = next
    }
    return roles
  }

  static func promptHost(_ line: String) -> String? {
    let text = line.trimmingWhitespace()
    if text.hasPrefix("["), let at = text.firstIndex(of: "@"), let space = text.firstIndex(of: " "),
      at < space
    {
      return String(text[text.index(after: at)..<space])
    }
    if let at = text.firstIndex(of: "@"), let colon = text[at...].firstIndex(of: ":"),
      text.hasPrefix("root@") || text.contains("$ ") || text.contains("# ")
    {
      return String(text[text.index(after: at)..<colon])
    }
    return nil
  }

  /// The first and last lines a block occupies (fences included).
  static func blockRange(_ code: MarkdownDocument.CodeBlock, lines: [String]) -> ClosedRange<Int> {
    code.startLine...max(code.startLine, code.endLine)
  }

  /// The indentation of a block's lines (inside list items), from its first line.
  static func indent(of code: MarkdownDocument.CodeBlock, lines: [String]) -> String {
    let first = lines[code.startLine - 1]
    let indent = String(first.prefix { $0 == " " || $0 == "\t" })
    // An indented code block's own four spaces are not the container's.
    if code.info.isEmpty, !first.trimmingWhitespace().hasPrefix("```"),
      !first.trimmingWhitespace().hasPrefix("~~~")
    {
      return String(indent.dropLast(min(4, indent.count)))
    }
    return indent
  }

  /// A fenced block with attributes, each line indented like the original.
  static func fenced(_ body: String, language: String, attributes: [String], indent: String)
    -> [String]
  {
    var content = body.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    if content.last == "" { content.removeLast() }
    // Longer than any run of backticks the body holds, so none of its lines closes it.
    var longest = 0
    for line in content {
      var run = 0
      for c in line {
        run = c == "`" ? run + 1 : 0
        longest = max(longest, run)
      }
    }
    let fence = String(repeating: "`", count: max(3, longest + 1))
    var out = [indent + fence + "\(language) {\(attributes.joined(separator: " "))}"]
    out += content.map { $0.isEmpty ? "" : indent + $0 }
    out.append(indent + fence)
    return out
  }
}
