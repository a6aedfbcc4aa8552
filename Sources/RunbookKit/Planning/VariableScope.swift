import Foundation

/// Resolves `{{ }}` references for a host with the runbook's precedence, lowest first:
/// front matter `vars`, inventory (`all`, groups by depth, host), `--vars-file`, `--var`,
/// then values captured by earlier steps (known only at run time).
final class VariableScope {
  /// What a reference comes to on one host.
  enum Outcome: Hashable {
    case text(String)
    /// A value captured by an earlier step: known at run time.
    case pending(String)
    /// A declared secret with no value yet: asked for before a run.
    case askedAtRunTime(String)
    /// A value a Runme block asks for, not given yet: asked for before a run, shown as its
    /// reference until then.
    case askedValue(String)
    case failure(String)
  }

  let frontMatter: [String: Value]
  let varsFile: [String: Value]
  let cli: [String: Value]
  let inventory: Inventory?
  let secretNames: Set<String>
  /// Values the operator supplies when the run starts (Runme's prompted exports).
  let askedNames: Set<String>
  /// The `ansible_connection` words that have a transport.
  let connections: [String: Connection]
  /// The steps that capture each name, by step index.
  let captureSteps: [String: [Int]]
  /// Names some group other than `all`, or some host, sets: their value can differ by host.
  private let hostVarying: Set<String>
  private var inventoryVars: [String: [String: Value]] = [:]
  private var planHosts: [String: Result<PlanHost, HostProblem>] = [:]
  private var roleHosts: [String: [String]?] = [:]
  private var varyingMemo: [String: Bool] = [:]
  private var memo: [String: String] = [:]
  private var memoStep = -1
  private var templates: [String: Template] = [:]

  /// Every host runbook may target, in inventory order; steps refer to hosts by position.
  let allHosts: [String]
  private var roleIndices: [String: [Int]?] = [:]

  /// Per reference name, each host's outcome and a small id shared by equal outcomes, so
  /// the planner groups hosts by integers instead of hashing rendered text. Valid until the
  /// next capturing step takes effect (`epoch`).
  private var columns: [String: (cells: [(outcome: Outcome, id: Int)?], ids: [Outcome: Int])] = [:]
  private var epoch = -1

  /// The positions in `allHosts` of a role's hosts; `nil` when there is no such role.
  func hostIndices(ofRole role: String) -> [Int]? {
    if let cached = roleIndices[role] { return cached }
    let positions = Dictionary(
      allHosts.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    let indices = hosts(ofRole: role)?.compactMap { positions[$0] }
    roleIndices[role] = indices
    return indices
  }

  /// Each host's outcome for a host-varying reference, with ids equal for equal outcomes.
  func column(
    _ reference: Template.Reference, hosts: [Int], stepIndex: Int, epoch: Int
  ) -> [(outcome: Outcome, id: Int)] {
    if epoch != self.epoch {
      columns.removeAll(keepingCapacity: true)
      self.epoch = epoch
    }
    let key = reference.name
    var column =
      columns.removeValue(forKey: key)
      ?? (Array(repeating: nil, count: allHosts.count), [:])
    var result: [(outcome: Outcome, id: Int)] = []
    result.reserveCapacity(hosts.count)
    for host in hosts {
      if let cell = column.cells[host] {
        result.append(cell)
        continue
      }
      let outcome = resolve(reference, host: allHosts[host], stepIndex: stepIndex)
      let id: Int
      if let known = column.ids[outcome] {
        id = known
      } else {
        id = column.ids.count
        column.ids[outcome] = id
      }
      column.cells[host] = (outcome, id)
      result.append((outcome, id))
    }
    columns[key] = column
    return result
  }

  struct HostProblem: Error, Equatable {
    var message: String
  }

  init(
    frontMatter: [String: Value], varsFile: [String: Value], cli: [String: Value],
    inventory: Inventory?, secretNames: Set<String>, askedNames: Set<String> = [],
    captureSteps: [String: [Int]], connections: [String: Connection] = [:]
  ) {
    self.connections = connections
    self.askedNames = askedNames
    self.frontMatter = frontMatter
    self.varsFile = varsFile
    self.cli = cli
    self.inventory = inventory
    self.secretNames = secretNames
    self.captureSteps = captureSteps
    var varying: Set<String> = []
    if let inventory {
      for (name, group) in inventory.groups where name != "all" {
        varying.formUnion(group.vars.keys)
      }
      for host in inventory.hosts.values { varying.formUnion(host.vars.keys) }
    }
    hostVarying = varying
    allHosts = inventory?.hostOrder ?? [Self.localHostName]
  }

  /// The name of the single host every role maps to without an inventory.
  static let localHostName = "localhost"

  /// The hosts of a role (an inventory group or host name); `nil` when there is no such role.
  func hosts(ofRole role: String) -> [String]? {
    if let cached = roleHosts[role] { return cached }
    let hosts: [String]?
    if let inventory {
      hosts =
        inventory.groups[role] != nil || inventory.hosts[role] != nil
        ? inventory.hosts(in: role) : nil
    } else {
      hosts = [Self.localHostName]
    }
    roleHosts[role] = hosts
    return hosts
  }

  /// The host's inventory variables after Ansible's precedence.
  func inventoryVariables(of host: String) -> [String: Value] {
    if let cached = inventoryVars[host] { return cached }
    let vars = inventory?.variables(of: host) ?? [:]
    inventoryVars[host] = vars
    return vars
  }

  /// The static value of `name` on `host`, from the highest layer that sets it.
  func staticValue(_ name: String, host: String) -> Value? {
    cli[name] ?? varsFile[name] ?? inventoryVariables(of: host)[name] ?? frontMatter[name]
  }

  /// The connection settings of a host from its `ansible_*` variables.
  func planHost(_ name: String) -> Result<PlanHost, HostProblem> {
    if let cached = planHosts[name] { return cached }
    let result = makePlanHost(name)
    planHosts[name] = result
    return result
  }

  private func makePlanHost(_ name: String) -> Result<PlanHost, HostProblem> {
    guard inventory != nil else {
      return .success(PlanHost(name: name, address: "127.0.0.1", connection: .local))
    }
    func get(_ key: String) -> Value? { staticValue(key, host: name) }
    var host = PlanHost(name: name, address: name, connection: .ssh)
    if let address = get("ansible_host")?.rendered, !address.isEmpty { host.address = address }
    switch get("ansible_port") {
    case nil: break
    case .int(let port)? where (1...65535).contains(port): host.port = port
    case .string(let text)? where Int(text).map({ (1...65535).contains($0) }) == true:
      host.port = Int(text)
    case let other?:
      return .failure(
        HostProblem(
          message: "ansible_port of host '\(name)' must be a port number, not '\(other.rendered)'"))
    }
    if let user = get("ansible_user")?.rendered, !user.isEmpty { host.user = user }
    if let key = get("ansible_ssh_private_key_file")?.rendered, !key.isEmpty {
      host.privateKeyFile = key
    }
    switch get("ansible_become") {
    case .bool(let b)?: host.become = b
    case .string(let s)?: host.become = ["true", "yes", "1", "on"].contains(s.lowercased())
    case .int(let i)?: host.become = i != 0
    default: break
    }
    if let password = (get("ansible_become_password") ?? get("ansible_become_pass"))?.rendered {
      // sudo reads one line; the value itself is never part of a message.
      if password.contains(where: \.isNewline) || password.contains("\0") {
        return .failure(
          HostProblem(
            message:
              "ansible_become_password of host '\(name)' holds a line break; sudo reads the password as one line"
          ))
      }
      if !password.isEmpty { host.becomePassword = password }
    }
    if let word = get("ansible_connection")?.rendered {
      guard let connection = connections[word] else {
        let known = Set(connections.values.map(\.rawValue)).sorted().joined(separator: ", ")
        return .failure(
          HostProblem(
            message:
              "ansible_connection=\(TerminalText.visible(word)) of host '\(name)' is not supported; runbook connects with \(known)"
          ))
      }
      host.connection = connection
    }
    if let problem = Self.connectionProblem(host) { return .failure(problem) }
    return .success(host)
  }

  /// Why a host cannot be planned: a name no shell, file name or report may take, or a
  /// connection value its transport refuses (`TransportRegistry.problem(of:)`).
  static func connectionProblem(_ host: PlanHost) -> HostProblem? {
    func bad(_ what: String, _ value: String, _ why: String) -> HostProblem {
      HostProblem(
        message:
          "\(what) of host '\(TerminalText.visible(host.name))' is '\(TerminalText.visible(value))': \(why)"
      )
    }
    // The one rule for every transport: a name reaches shells, file names, reports and the
    // exported playbook's expressions; a connection value reaches a program's arguments.
    if let why = ArgumentValue.problem(host.name) ?? ArgumentValue.nameProblem(host.name) {
      return bad("the name", host.name, why)
    }
    // Each transport checks the values it hands on.
    if let value = TransportRegistry.problem(of: host) {
      return bad(value.what, value.value, value.why)
    }
    return nil
  }

  /// Whether `reference` can render differently from one host to another.
  func isHostVarying(_ reference: Template.Reference) -> Bool {
    let head = reference.path[0]
    if head == "host" || head == "inventory_hostname" { return true }
    if head == "roles" { return false }
    return isNameVarying(head, visiting: [])
  }

  private func isNameVarying(_ name: String, visiting: Set<String>) -> Bool {
    if let memo = varyingMemo[name] { return memo }
    if visiting.contains(name) { return false }
    let value: Value?
    if let v = cli[name] ?? varsFile[name] {
      value = v
    } else if hostVarying.contains(name) {
      varyingMemo[name] = true
      return true
    } else {
      value = inventory?.groups["all"]?.vars[name] ?? frontMatter[name]
    }
    var varying = false
    if case .string(let text)? = value, text.hasTemplateMarker {
      varying = template(text).references.contains { ref in
        let head = ref.path[0]
        if head == "host" || head == "inventory_hostname" { return true }
        if head == "roles" { return false }
        return isNameVarying(head, visiting: visiting.union([name]))
      }
    }
    varyingMemo[name] = varying
    return varying
  }

  private func template(_ text: String) -> Template {
    if let cached = templates[text] { return cached }
    let (parsed, _) = Template.parse(text)
    templates[text] = parsed
    return parsed
  }

  /// What `reference` renders to on `host`, in step number `stepIndex`.
  func resolve(_ reference: Template.Reference, host: String, stepIndex: Int) -> Outcome {
    resolve(reference.path, host: host, stepIndex: stepIndex, stack: [])
  }

  private func resolve(_ path: [String], host: String, stepIndex: Int, stack: [String]) -> Outcome {
    let head = path[0]
    let written = path.joined(separator: ".")
    if let outcome = builtIn(path, written: written, host: host) { return outcome }
    if let captures = captureSteps[head] {
      if captures.contains(where: { $0 < stepIndex }) { return .pending(head) }
    }
    guard var value = staticValue(head, host: host) else { return missing(head) }
    for key in path.dropFirst() {
      switch value {
      case .map(let dict) where dict[key] != nil: value = dict[key]!
      case .list(let items) where Int(key).map({ items.indices.contains($0) }) == true:
        value = items[Int(key)!]
      default:
        return .failure("'\(written)': '\(head)' has no key '\(key)'")
      }
    }
    let text = value.rendered
    guard text.hasTemplateMarker else { return .text(text) }
    return renderValue(
      text, of: head, written: written, host: host, stepIndex: stepIndex, stack: stack)
  }

  /// The names runbook defines itself: `host.*`, `inventory_hostname` and `roles.*.*`;
  /// `nil` for any other name.
  private func builtIn(_ path: [String], written: String, host: String) -> Outcome? {
    switch path[0] {
    case "host":
      guard path.count == 2 else {
        return .failure(
          "'\(written)' is not a host field; use host.name, host.address, host.port or host.user")
      }
      guard case .success(let record) = planHost(host) else {
        return .failure("host '\(host)' has invalid connection settings")
      }
      switch path[1] {
      case "name": return .text(record.name)
      case "address": return .text(record.address)
      case "port": return .text(String(record.port ?? 22))
      case "user": return .text(record.user ?? "")
      default:
        return .failure(
          "'\(written)' is not a host field; use host.name, host.address, host.port or host.user")
      }
    case "inventory_hostname" where path.count == 1:
      return .text(host)
    case "roles":
      guard path.count == 3 else {
        return .failure(
          "'\(written)' is not a role field; use roles.ROLE.address, .name, .addresses or .names")
      }
      guard let members = hosts(ofRole: path[1]), !members.isEmpty else {
        return .failure("'\(written)' names role '\(path[1])', which has no hosts in the inventory")
      }
      let records = members.compactMap { try? planHost($0).get() }
      switch path[2] {
      case "address": return .text(records.first?.address ?? members[0])
      case "name": return .text(members[0])
      case "addresses": return .text(records.map(\.address).joined(separator: " "))
      case "names", "hosts": return .text(members.joined(separator: " "))
      default:
        return .failure(
          "'\(written)' is not a role field; use roles.ROLE.address, .name, .addresses or .names")
      }
    default:
      return nil
    }
  }

  /// A name no layer gives a value: asked for, captured too late, or undefined.
  private func missing(_ head: String) -> Outcome {
    if secretNames.contains(head) { return .askedAtRunTime(head) }
    if askedNames.contains(head) { return .askedValue(head) }
    if let later = captureSteps[head]?.first {
      return .failure(
        "'\(head)' is captured by step \(later + 1), which runs after this one; move the capturing step earlier"
      )
    }
    return .failure(
      "undefined variable '\(head)'; define it in the front matter's vars, in the inventory, with --vars-file or with --var \(head)=VALUE"
    )
  }

  /// A value that holds `{{ }}` references, with them filled in for `host`.
  private func renderValue(
    _ text: String, of head: String, written: String, host: String, stepIndex: Int,
    stack: [String]
  ) -> Outcome {
    // Values that refer to others twice per level would double at each level: each value
    // is rendered once per host and step (a text result never depends on the stack).
    if memoStep != stepIndex {
      memo = [:]
      memoStep = stepIndex
    }
    let memoKey = host + "\u{0}" + written
    if let known = memo[memoKey] { return .text(known) }
    if stack.contains(head) {
      return .failure(
        "variable '\(head)' refers to itself through \(stack.joined(separator: " → "))")
    }
    let nested = template(text)
    var failure: String?
    let rendered = nested.render(resolving: { ref in
      switch resolve(ref.path, host: host, stepIndex: stepIndex, stack: stack + [head]) {
      case .text(let t): return t
      case .askedAtRunTime: return SecretMasker.mask
      case .askedValue(let name): return "{{ \(name) }}"
      case .pending(let name):
        // A captured value is substituted where a step names it; inside another
        // variable's value it would be too late to know at plan time.
        failure =
          failure
          ?? "the value of '\(head)' uses '\(name)', which an earlier step captures; write {{ \(name) }} in the step itself"
        return nil
      case .failure(let message):
        failure = failure ?? "in the value of '\(head)': \(message)"
        return nil
      }
    })
    if let failure { return .failure(failure) }
    if rendered.utf8.count > Self.maximumValueLength {
      return .failure(
        "the value of '\(head)' grows past \(Self.maximumValueLength / 1_048_576) MB as its references are filled in"
      )
    }
    memo[memoKey] = rendered
    return .text(rendered)
  }

  /// The longest value a variable may render to.
  static let maximumValueLength = 4 << 20
}

extension String {
  /// Whether the text contains `{{`, found on UTF-8 bytes (much faster than `contains`).
  var hasTemplateMarker: Bool {
    var previous: UInt8 = 0
    for byte in utf8 {
      if byte == UInt8(ascii: "{"), previous == byte { return true }
      previous = byte
    }
    return false
  }
}
