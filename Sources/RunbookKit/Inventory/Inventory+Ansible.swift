extension Inventory {
  /// Variables Ansible strips from `ansible-inventory` output.
  static let internalVariables: Set<String> = ["inventory_file", "inventory_dir"]

  /// The JSON of `ansible-inventory --list`: groups with direct hosts and children,
  /// `_meta.hostvars` with each host's merged variables, keys sorted, indent 4.
  public func ansibleListJSON() -> String {
    var top: [String: Value] = [:]
    var seen: Set<String> = []
    func format(_ name: String) {
      let group = groups[name]!
      var entry: [String: Value] = [:]
      if name != "all", !group.hosts.isEmpty {
        entry["hosts"] = .list(group.hosts.map(Value.string))
      }
      if !group.children.isEmpty { entry["children"] = .list(group.children.map(Value.string)) }
      if !entry.isEmpty { top[name] = .map(entry) }
      for child in group.children where seen.insert(child).inserted { format(child) }
    }
    format("all")
    var hostvars: [String: Value] = [:]
    for host in hostOrder {
      let vars = variables(of: host).filter { !Self.internalVariables.contains($0.key) }
      if !vars.isEmpty { hostvars[host] = .map(vars) }
    }
    top["_meta"] = .map(["hostvars": .map(hostvars), "profile": .string("inventory_legacy")])
    return Value.map(top).json(indent: 4)
  }

  /// The tree of `ansible-inventory --graph`.
  public func ansibleGraph(from root: String = "all") -> String {
    var lines: [String] = []
    func walk(_ name: String, _ depth: Int) {
      lines.append(label("@\(name):", depth))
      guard let group = groups[name] else { return }
      for child in group.children { walk(child, depth + 1) }
      if name != "all" {
        for host in group.hosts { lines.append(label(host, depth + 1)) }
      }
    }
    func label(_ text: String, _ depth: Int) -> String {
      depth == 0 ? text : String(repeating: "  |", count: depth) + "--" + text
    }
    walk(root, 0)
    return lines.joined(separator: "\n")
  }
}
