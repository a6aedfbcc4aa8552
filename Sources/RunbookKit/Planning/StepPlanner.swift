/// Plans the steps of one runbook in order: each step's hosts, its templates, and what
/// every reference comes to on each host. Steps share state the planner keeps here: the
/// roles already seen, the hosts any step targets, the capture epoch, and the problems.
struct StepPlanner {
  let file: String
  let frontMatter: FrontMatter
  let options: PlanOptions
  let inventory: Inventory?
  let scope: VariableScope
  let secretNames: Set<String>
  let declaredRoles: Set<String>
  let groupNames: [String]
  /// Steps that capture a value: the step after each starts a new epoch, when cached
  /// per-host columns go stale.
  let captureIndices: Set<Int>
  /// Problems found so far, in step order.
  var diagnostics: [Diagnostic] = []
  /// By host position: whether some step runs on the host (its connection is checked).
  private(set) var targeted: [Bool]
  private var rolesSeen: Set<String> = []
  private(set) var epoch = 0

  init(
    runbook: Runbook, inventory: Inventory?, options: PlanOptions, scope: VariableScope,
    secretNames: Set<String>, captureSteps: [String: [Int]]
  ) {
    self.file = runbook.file
    self.frontMatter = runbook.frontMatter
    self.options = options
    self.inventory = inventory
    self.scope = scope
    self.secretNames = secretNames
    self.declaredRoles = Set(runbook.frontMatter.roles.map(\.name))
    self.groupNames = inventory?.groupOrder ?? []
    self.captureIndices = Set(captureSteps.values.joined())
    self.targeted = Array(repeating: false, count: scope.allHosts.count)
  }

  /// Plans the next step; steps must come in runbook order.
  mutating func plan(_ step: Step) -> PlannedStep {
    if step.index > 0, captureIndices.contains(step.index - 1) { epoch += 1 }
    let indices = hostIndices(of: step)
    let fields = templateFields(of: step)
    // A step with no hosts (an empty role) is rendered for the first host, or for no host
    // at all when the inventory has none: its references are still checked.
    let renderHosts = indices.isEmpty ? (scope.allHosts.isEmpty ? [] : [0]) : indices
    let references = resolveReferences(in: fields, of: step, renderHosts: renderHosts)
    let groups = HostGroups(
      columns: references.columns, hostCount: indices.count, radix: scope.allHosts.count)
    let texts = StepTexts(
      fields: fields.map { ($0.key, $0.template) },
      slots: references.slots,
      columns: references.columns.map { $0.map(\.outcome) },
      groupOfHost: groups.groupOfHost, groupCount: groups.groupCount)
    return PlannedStep(step: step, hosts: indices.map { scope.allHosts[$0] }, texts: texts)
  }

  /// The positions of the step's hosts in the inventory, roles in the step's order and each
  /// host once. A Runme block has no role of its own: it runs on --default-role, or on this
  /// machine without an inventory.
  private mutating func hostIndices(of step: Step) -> [Int] {
    var roles = step.attributes.roles
    if roles.isEmpty, step.attributes.runme, step.kind != .manual {
      if let role = options.defaultRole ?? (inventory == nil ? "local" : nil) {
        roles = [role]
      } else {
        diagnostics.append(
          .error(
            file, step.line,
            "this block has Runme attributes but no role; pass --default-role ROLE, or add role=NAME"
          ))
      }
    }
    var indices: [Int] = []
    for role in roles {
      guard let members = members(of: role, line: step.line) else { continue }
      if rolesSeen.insert(role).inserted {
        for host in members { targeted[host] = true }
      }
      if indices.isEmpty {
        indices = members
      } else {
        let present = Set(indices)
        indices += members.filter { !present.contains($0) }
      }
    }
    return indices
  }

  /// The host positions of `role`, reporting an undeclared, unknown or empty role; `nil`
  /// when the inventory has no such group or host.
  private mutating func members(of role: String, line: Int) -> [Int]? {
    // `runbook init` writes role=TODO where it cannot tell; without an inventory every role
    // is this machine, and a step meant for another must not run here.
    if role == "TODO" {
      diagnostics.append(
        .error(
          file, line,
          "role 'TODO' was left by runbook init: it could not tell which hosts run this step; write the role (an inventory group) that does"
        ))
      return nil
    }
    if !declaredRoles.isEmpty, !declaredRoles.contains(role), role != "all" {
      let declaredList = frontMatter.roles.map(\.name).joined(separator: ", ")
      diagnostics.append(
        .error(
          file, line,
          "role '\(role)' is not declared in the front matter's roles (declared: \(declaredList))"
            + Planner.hint(role, declaredRoles.sorted())))
    }
    guard let members = scope.hostIndices(ofRole: role) else {
      diagnostics.append(
        .error(
          file, line,
          "role '\(role)' is not a group or host of inventory \(inventory?.source ?? "")"
            + Planner.hint(role, groupNames)
            + "; groups: \(groupNames.filter { $0 != "ungrouped" }.joined(separator: ", "))"))
      return nil
    }
    if members.isEmpty {
      if options.allowEmptyRoles {
        diagnostics.append(
          .warning(file, line, "role '\(role)' has no hosts; the step is skipped for it"))
      } else {
        diagnostics.append(
          .error(
            file, line,
            "role '\(role)' has no hosts in inventory \(inventory?.source ?? ""); add hosts to [\(role)] or pass --allow-empty-roles"
          ))
      }
    }
    return members
  }
}
