/// Hosts and groups with their variables, with Ansible's inventory semantics.
///
/// Built through `add…` calls that mirror Ansible's `InventoryData`, so that the INI and
/// YAML readers share one set of rules: the implicit `all` and `ungrouped` groups, group
/// depth for variable precedence, and cycle detection between groups.
public struct Inventory: Sendable {
  /// A host and the variables set on it directly.
  public struct Host: Sendable, Equatable {
    /// The inventory name (what `--limit` and reports use).
    public var name: String
    /// Variables set on the host itself.
    public var vars: [String: Value]
    /// Groups the host was added to directly, in order.
    public var groups: [String]
    /// The line that first defined the host, for diagnostics about its variables.
    public var line: Int?
  }

  /// A group: its direct hosts, child groups and variables.
  public struct Group: Sendable, Equatable {
    /// The group's name.
    public var name: String
    /// Hosts added to this group directly, in order.
    public var hosts: [String] = []
    /// Child groups, in order.
    public var children: [String] = []
    /// Parent groups, in order.
    public var parents: [String] = []
    /// Variables set on the group.
    public var vars: [String: Value] = [:]
    /// Distance from `all`, the longest path; deeper groups win variable conflicts.
    public var depth = 0
  }

  /// An inventory rule that was broken (a cycle, an unknown group).
  public struct Problem: Error, Sendable, Equatable {
    /// What is wrong.
    public var message: String
  }

  /// Where the inventory came from, for reports; `nil` for the embedded default.
  public var source: String?
  /// Hosts by name.
  public private(set) var hosts: [String: Host] = [:]
  /// Host names in the order first seen.
  public private(set) var hostOrder: [String] = []
  /// Groups by name.
  public private(set) var groups: [String: Group] = [:]
  /// Group names in the order first seen.
  public private(set) var groupOrder: [String] = []

  /// An inventory with only the implicit `all` and `ungrouped` groups.
  public init(source: String? = nil) {
    self.source = source
    addGroup("all")
    addGroup("ungrouped")
    try! addChild("ungrouped", to: "all")
  }

  /// Adds a group if it is not there yet.
  public mutating func addGroup(_ name: String) {
    guard groups[name] == nil else { return }
    groups[name] = Group(name: name)
    groupOrder.append(name)
  }

  /// Adds a host (if new) and puts it in `group`; `port` sets `ansible_port`.
  public mutating func addHost(_ name: String, group: String?, port: Int? = nil, line: Int? = nil) {
    if hosts[name] == nil {
      hosts[name] = Host(name: name, vars: [:], groups: [], line: line)
      hostOrder.append(name)
    }
    if let port { hosts[name]!.vars["ansible_port"] = .int(port) }
    // A host is in few groups: asking the host keeps adding 100,000 hosts linear.
    if let group, groups[group] != nil, !hosts[name]!.groups.contains(group) {
      groups[group]!.hosts.append(name)
      hosts[name]!.groups.append(group)
    }
  }

  /// Sets a variable on a host or a group.
  public mutating func setVariable(_ key: String, _ value: Value, on entity: String) {
    if groups[entity] != nil {
      groups[entity]!.vars[key] = value
    } else if hosts[entity] != nil {
      hosts[entity]!.vars[key] = value
    }
  }

  /// Makes `child` a child group of `parent`, refusing cycles as Ansible does.
  public mutating func addChild(_ child: String, to parent: String) throws(Problem) {
    guard groups[parent] != nil, groups[child] != nil else {
      throw Problem(message: "\(child) is not a known group")
    }
    if child == parent { throw Problem(message: "group '\(child)' cannot be a child of itself") }
    if groups[parent]!.children.contains(child) { return }
    if ancestors(of: parent).contains(child) {
      throw Problem(
        message:
          "adding group '\(child)' as a child of '\(parent)' creates a loop; a group cannot contain its own ancestor"
      )
    }
    groups[parent]!.children.append(child)
    if !groups[child]!.parents.contains(parent) { groups[child]!.parents.append(parent) }
    raiseDepth(of: child, to: groups[parent]!.depth + 1)
  }

  private mutating func raiseDepth(of group: String, to depth: Int) {
    guard groups[group]!.depth < depth else { return }
    groups[group]!.depth = depth
    for child in groups[group]!.children { raiseDepth(of: child, to: depth + 1) }
  }

  /// All groups above `group`.
  public func ancestors(of group: String) -> Set<String> {
    var seen: Set<String> = []
    var queue = groups[group]?.parents ?? []
    while let next = queue.popLast() {
      if seen.insert(next).inserted { queue += groups[next]?.parents ?? [] }
    }
    return seen
  }

  /// Applies Ansible's closing rules: parentless groups go under `all`, and hosts that are
  /// in no group but `all`/`ungrouped` are in `ungrouped` (and only they).
  public mutating func reconcile() {
    for name in groupOrder where name != "all" && groups[name]!.parents.isEmpty {
      try! addChild(name, to: "all")
    }
    for name in hostOrder {
      let direct = hosts[name]!.groups
      if direct.contains("ungrouped") {
        if direct.contains(where: { $0 != "ungrouped" && $0 != "all" }) {
          groups["ungrouped"]!.hosts.removeAll { $0 == name }
          hosts[name]!.groups.removeAll { $0 == "ungrouped" }
        }
      } else if direct.allSatisfy({ $0 == "all" }) {
        addHost(name, group: "ungrouped")
      }
    }
  }

  /// Every group a host belongs to, directly or through children, `all` included.
  public func groupsOf(host: String) -> Set<String> {
    var result: Set<String> = ["all"]
    for group in hosts[host]?.groups ?? [] {
      result.insert(group)
      result.formUnion(ancestors(of: group))
    }
    return result
  }

  /// The host's variables after Ansible's precedence: groups by depth then name, host last.
  public func variables(of host: String) -> [String: Value] {
    let ordered = groupsOf(host: host).compactMap { groups[$0] }
      .sorted { ($0.depth, $0.name) < ($1.depth, $1.name) }
    var merged: [String: Value] = [:]
    for group in ordered { merged.merge(group.vars) { $1 } }
    merged.merge(hosts[host]?.vars ?? [:]) { $1 }
    return merged
  }

  /// The hosts of a group and of all groups below it, in Ansible's order.
  public func hosts(in group: String) -> [String] {
    guard groups[group] != nil else {
      return hosts[group] != nil ? [group] : []
    }
    if group == "all" { return hostOrder }
    var ordered = [group]
    var seen: Set<String> = [group]
    var frontier = [group]
    while !frontier.isEmpty {
      var next: [String] = []
      for g in frontier {
        for child in groups[g]!.children where seen.insert(child).inserted {
          ordered.append(child)
          next.append(child)
        }
      }
      frontier = next
    }
    var seenHosts: Set<String> = []
    return ordered.flatMap { groups[$0]!.hosts }.filter { seenHosts.insert($0).inserted }
  }
}
