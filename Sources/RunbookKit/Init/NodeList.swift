import Foundation

/// The nodes the notes list with their addresses (`+ 控制节点：172.20.102.145`,
/// `- web servers: 10.0.0.11, 10.0.0.12`), as roles and numbered host names.
struct NodeList: Sendable {
  struct Node: Sendable {
    var role: String
    var name: String
    var address: String
  }

  var nodes: [Node] = []

  var isEmpty: Bool { nodes.isEmpty }

  /// The node with `address`, and how many nodes its role has.
  func node(at address: String) -> (node: Node, roleSize: Int)? {
    guard let node = nodes.first(where: { $0.address == address }) else { return nil }
    return (node, nodes.filter { $0.role == node.role }.count)
  }

  /// Finds the nodes the notes list: a list item (outside code blocks) that names a role
  /// and gives addresses (`+ 控制节点：10.0.0.11`), or a sentence that pairs an address
  /// with a node (`10.0.0.11 for web01`, `db01 (10.0.0.12)`, `web01: 10.0.0.11`).
  static func find(in lines: [String], roleWords: [(word: String, role: String)]) -> NodeList {
    var list = NodeList()
    var inFence = false
    var paragraph: [String] = []
    func take(_ text: String, isItem: Bool) {
      let lower = text.lowercased()
      for (range, address) in LiteralRewriter.addresses(in: text)
      where list.node(at: address) == nil && !isExample(range, in: text) {
        let role =
          isItem
          ? roleWords.first { lower.contains($0.word.lowercased()) }?.role
          : paired(address: range, in: text, roleWords: roleWords)
        guard let role else { continue }
        let index = list.nodes.filter { $0.role == role }.count + 1
        list.nodes.append(Node(role: role, name: "\(role)\(index)", address: address))
      }
    }
    for line in lines + [""] {
      let text = line.trimmingWhitespace()
      if text.hasPrefix("```") || text.hasPrefix("~~~") { inFence.toggle() }
      let isItem = text.hasPrefix("+ ") || text.hasPrefix("- ") || text.hasPrefix("* ")
      if inFence || line.hasPrefix("    ") || text.isEmpty || isItem || text.hasPrefix("#") {
        take(paragraph.joined(separator: " "), isItem: false)
        paragraph = []
        if isItem, !inFence { take(text, isItem: true) }
        continue
      }
      paragraph.append(text)
    }
    return list
  }

  /// Whether the sentence around `range` gives its address as an example ("for example
  /// 10.8.0.1", "e.g.", "例如"): not a node of this deployment.
  static func isExample(_ range: Range<String.Index>, in text: String) -> Bool {
    let ends: Set<Character> = [".", "。", "!", "?", ";", "；"]
    var start = range.lowerBound
    while start > text.startIndex {
      let before = text.index(before: start)
      // A full stop ends a sentence when a space follows it (an address holds full stops).
      if ends.contains(text[before]), text[start] == " " || text[before] == "。" { break }
      start = before
    }
    var end = range.upperBound
    while end < text.endIndex {
      let next = text.index(after: end)
      if ends.contains(text[end]), next == text.endIndex || text[next] == " " { break }
      end = next
    }
    let sentence = text[start..<end].lowercased()
    return exampleWords.contains(where: sentence.contains)
  }

  /// Words by which a guide gives an address as an example, not as its node.
  static let exampleWords = [
    "example", "e.g.", "for instance", "such as", "replace", "your own", "例如", "比如", "示例",
  ]

  /// The role a sentence pairs with the address at `range`: a node word just after it
  /// ("… for web01") or just before it ("web01: …", "db01 (…").
  static func paired(
    address range: Range<String.Index>, in text: String, roleWords: [(word: String, role: String)]
  ) -> String? {
    let after = text[range.upperBound...].prefix(24).lowercased()
    let before = String(text[..<range.lowerBound].suffix(24)).lowercased()
    for (word, role) in roleWords {
      let w = NSRegularExpression.escapedPattern(for: word.lowercased())
      if after.range(of: #"^[`*)\]]*\s+(for|of|on|is|=)\s+[`*]*"# + w, options: .regularExpression)
        != nil
        || before.range(of: w + #"[`*]*\s*[:：(（=]\s*[`*]*$"#, options: .regularExpression) != nil
      {
        return role
      }
    }
    return nil
  }

  /// The nodes an existing inventory gives: each host of each group that holds hosts
  /// directly, by its `ansible_host` (or its name).
  static func from(_ inventory: Inventory) -> NodeList {
    var list = NodeList()
    for group in inventory.groupOrder where group != "all" && group != "ungrouped" {
      for host in inventory.groups[group]?.hosts ?? []
      where !list.nodes.contains(where: { $0.name == host }) {
        let address = inventory.variables(of: host)["ansible_host"]?.rendered ?? host
        list.nodes.append(Node(role: group, name: host, address: address))
      }
    }
    return list
  }

  /// An INI inventory: one group per role, in order of appearance.
  func inventory() -> String {
    var roles: [String] = []
    for node in nodes where !roles.contains(node.role) { roles.append(node.role) }
    return roles.map { role in
      "[\(role)]\n"
        + nodes.filter { $0.role == role }.map { "\($0.name) ansible_host=\($0.address)\n" }
        .joined()
    }.joined(separator: "\n")
  }
}
