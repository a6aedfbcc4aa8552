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

  /// Finds the list items (outside code blocks) that name a role and give addresses.
  static func find(in lines: [String], roleWords: [(word: String, role: String)]) -> NodeList {
    var list = NodeList()
    var inFence = false
    for line in lines {
      let text = line.trimmingWhitespace()
      if text.hasPrefix("```") || text.hasPrefix("~~~") { inFence.toggle() }
      guard !inFence, text.hasPrefix("+ ") || text.hasPrefix("- ") || text.hasPrefix("* ")
      else { continue }
      let addresses = LiteralRewriter.addresses(in: text).map(\.value)
      guard !addresses.isEmpty,
        let role = roleWords.first(where: { text.lowercased().contains($0.word.lowercased()) })?
          .role
      else { continue }
      for address in addresses where list.node(at: address) == nil {
        let index = list.nodes.filter { $0.role == role }.count + 1
        list.nodes.append(Node(role: role, name: "\(role)\(index)", address: address))
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
