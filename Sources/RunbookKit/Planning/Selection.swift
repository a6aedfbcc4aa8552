/// `--limit`, `--role`, `--tags`, `--from`, `--to`: which steps run, and on which hosts.
public struct Selection: Sendable {
  /// Hosts or groups to run on (others are left out of every step).
  public var limit: [String] = []
  /// Only steps with one of these roles.
  public var roles: [String] = []
  /// Only steps with one of these tags.
  public var tags: [String] = []
  /// The first step to run, by id.
  public var from: String?
  /// The last step to run, by id.
  public var to: String?

  /// Creates an empty selection (everything).
  public init() {}

  /// For each step, the positions of the hosts it runs on; `nil` for a step left out.
  public func apply(to plan: Plan) -> ([[Int]?], [Diagnostic]) {
    var problems: [Diagnostic] = []
    let ids = plan.steps.map(\.step.id)
    func position(of id: String?, flag: String) -> Int? {
      guard let id else { return nil }
      if let index = ids.firstIndex(of: id) { return index }
      let near = NearestWord.nearest(id, in: ids).map { "; did you mean '\($0)'?" } ?? ""
      problems.append(
        Diagnostic(
          .error, at: nil, "\(flag) \(id): no step has that id\(near) (runbook list shows them)"))
      return nil
    }
    let first = position(of: from, flag: "--from") ?? 0
    let last = position(of: to, flag: "--to") ?? (ids.count - 1)
    var allowed: Set<String>?
    if !limit.isEmpty {
      var names: Set<String> = []
      for item in limit {
        if let inventory = plan.inventory,
          inventory.groups[item] != nil || inventory.hosts[item] != nil
        {
          names.formUnion(inventory.hosts(in: item))
        } else if plan.hosts.contains(where: { $0.name == item }) {
          names.insert(item)
        } else {
          problems.append(
            Diagnostic(.error, at: nil, "--limit \(item): no such host or group in the inventory"))
        }
      }
      allowed = names
    }
    let selected: [[Int]?] = plan.steps.enumerated().map { index, planned in
      guard index >= first, index <= last else { return nil }
      let a = planned.step.attributes
      if a.excludedFromRunAll, from != planned.step.id || to != planned.step.id { return nil }
      if !roles.isEmpty, !a.roles.contains(where: roles.contains) { return nil }
      if !tags.isEmpty, !a.tags.contains(where: tags.contains) { return nil }
      return planned.hosts.indices.filter { allowed?.contains(planned.hosts[$0]) ?? true }
    }
    return (selected, problems)
  }
}
