/// What the command line adds to a plan: variables, secret names, and leniency.
public struct PlanOptions: Sendable {
  /// `--var k=v` values (above everything but captured values).
  public var variables: [String: Value] = [:]
  /// `--vars-file` values.
  public var varsFile: [String: Value] = [:]
  /// `--secret NAME`: more names to treat as secrets.
  public var secretNames: [String] = []
  /// `--allow-empty-roles`: a role without hosts is skipped instead of an error.
  public var allowEmptyRoles = false
  /// `--default-role`: where a block without a role of its own (Runme's) runs.
  public var defaultRole: String?
  /// `--become-password-file`: sudo's password on hosts whose inventory gives none.
  public var becomePassword: String?
  /// The `ansible_connection` words runbook has a transport for.
  public var connections: [String: Connection] = TransportRegistry.ansibleWords

  /// Creates default options.
  public init() {}
}

/// Builds a `Plan`: resolves roles to hosts, checks every variable reference and renders
/// every template whose inputs are known, reporting all problems at their lines.
public enum Planner {
  /// Inventory variables whose values are always secret.
  static let connectionSecrets = [
    "ansible_password", "ansible_ssh_pass", "ansible_become_password", "ansible_become_pass",
  ]

  /// Plans `runbook` against `inventory` (`nil`: every role on this machine).
  public static func plan(
    _ runbook: Runbook, inventory: Inventory?, options: PlanOptions = PlanOptions()
  ) -> (Plan, [Diagnostic]) {
    let file = runbook.file
    var diagnostics: [Diagnostic] = []
    let fm = runbook.frontMatter
    var captureSteps: [String: [Int]] = [:]
    for step in runbook.steps {
      if let name = step.attributes.capture { captureSteps[name, default: []].append(step.index) }
    }
    // Runme's prompted exports: a quoted value is a default below the front matter; an
    // unquoted one is asked for unless some layer sets the name. A name that looks like a
    // credential is a secret (masked, asked without echo).
    var defaults: [String: Value] = [:]
    var asked: [PromptedVariable] = []
    var promptedSecrets: [String] = []
    let inventoryHosts = inventory?.hostOrder ?? []
    for prompt in runbook.steps.flatMap(\.prompts) {
      if Self.looksSecret(prompt.name), !promptedSecrets.contains(prompt.name) {
        promptedSecrets.append(prompt.name)
      }
      if let value = prompt.defaultValue {
        defaults[prompt.name] = defaults[prompt.name] ?? .string(value)
        continue
      }
      let set =
        fm.vars[prompt.name] ?? options.varsFile[prompt.name] ?? options.variables[prompt.name]
        ?? inventoryHosts.lazy.compactMap { inventory?.variables(of: $0)[prompt.name] }.first
      if set == nil, !asked.contains(where: { $0.name == prompt.name }) { asked.append(prompt) }
    }
    let secretNames = Set(fm.secrets + options.secretNames + connectionSecrets + promptedSecrets)
    asked.removeAll { secretNames.contains($0.name) }
    let scope = VariableScope(
      frontMatter: defaults.merging(fm.vars) { $1 }, varsFile: options.varsFile,
      cli: options.variables, inventory: inventory, secretNames: secretNames,
      askedNames: Set(asked.map(\.name)), captureSteps: captureSteps,
      connections: options.connections)

    let declared = Set(fm.roles.map(\.name))
    let groupNames = inventory?.groupOrder ?? []
    var targeted = Array(repeating: false, count: scope.allHosts.count)
    var rolesSeen: Set<String> = []
    var planned: [PlannedStep] = []
    planned.reserveCapacity(runbook.steps.count)
    var epoch = 0
    let captureIndices = Set(captureSteps.values.joined())

    for step in runbook.steps {
      if step.index > 0, captureIndices.contains(step.index - 1) { epoch += 1 }

      // Roles to hosts, by position in the inventory. A Runme block has no role of its own:
      // it runs on --default-role, or on this machine without an inventory.
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
        if !declared.isEmpty, !declared.contains(role), role != "all" {
          diagnostics.append(
            .error(
              file, step.line,
              "role '\(role)' is not declared in the front matter's roles (declared: \(fm.roles.map(\.name).joined(separator: ", ")))"
                + hint(role, declared.sorted())))
        }
        guard let members = scope.hostIndices(ofRole: role) else {
          diagnostics.append(
            .error(
              file, step.line,
              "role '\(role)' is not a group or host of inventory \(inventory?.source ?? "")"
                + hint(role, groupNames)
                + "; groups: \(groupNames.filter { $0 != "ungrouped" }.joined(separator: ", "))"))
          continue
        }
        if members.isEmpty {
          if options.allowEmptyRoles {
            diagnostics.append(
              .warning(file, step.line, "role '\(role)' has no hosts; the step is skipped for it"))
          } else {
            diagnostics.append(
              .error(
                file, step.line,
                "role '\(role)' has no hosts in inventory \(inventory?.source ?? ""); add hosts to [\(role)] or pass --allow-empty-roles"
              ))
          }
        }
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
      let hosts = indices.map { scope.allHosts[$0] }

      // Templates of the body and the attributes that take text.
      var fields: [(key: StepField?, template: Template, line: Int)] = []
      let a = step.attributes
      // The environment: the front matter's, then the step's own, one NAME=value a line.
      var env: String?
      let runsCommands = ![.manual, .writeFile, .iniMerge, .appendBlock].contains(step.kind)
      if runsCommands {
        let own = a.envWords ?? []
        let lines = fm.env.map { "\($0.name)=\($0.value)" } + own
        env = lines.isEmpty ? nil : lines.joined(separator: "\n")
      }
      let textFields: [(StepField?, String?)] = [
        (nil, step.body), (.file, a.file), (.creates, a.creates), (.unless, a.unless),
        (.expect, a.expect), (.user, a.user), (.owner, a.owner), (.client, a.client),
        (.cwd, a.cwd ?? (runsCommands ? fm.runmeCwd : nil)), (.env, env),
      ]
      for case (let key, let text?) in textFields {
        if a.raw && key == nil {
          fields.append((key, Template(verbatim: text), step.bodyLine))
          continue
        }
        let (template, problems) = Template.parse(text)
        let base = key == nil ? step.bodyLine : step.line
        for problem in problems {
          diagnostics.append(.error(file, base + problem.lineOffset, problem.message))
        }
        // A password or a per-host value between quotes the author typed breaks the command
        // (or injects into it) as soon as it holds that quote.
        let isCode =
          key == .unless || (key == nil && [.shell, .bash, .sql, .console].contains(step.kind))
        if isCode {
          // Host names, addresses and roles are checked names, never quotes.
          let builtIn = ["host", "inventory_hostname", "roles"]
          for ref in template.handQuotedReferences
          where secretNames.contains(ref.path[0])
            || (inventory != nil && !builtIn.contains(ref.path[0]) && scope.isHostVarying(ref))
          {
            let what = secretNames.contains(ref.path[0]) ? "secret" : "per-host value"
            let fix =
              step.kind == .sql
              ? "{{ \(ref.name) | mysql }} (MariaDB, MySQL) or {{ \(ref.name) | sql }} (standard SQL)"
              : "{{ \(ref.name) | quote }}"
            diagnostics.append(
              .warning(
                file, base + (key == nil ? ref.lineOffset : 0),
                "{{ \(ref.name) }} is a \(what) inside quotes written in the step: a value holding a quote breaks the command or injects into it; write \(fix) without the quotes"
              ))
          }
        }
        fields.append((key, template, base))
      }

      // Resolve each distinct reference: once when it cannot vary by host, else per host.
      // Every occurrence gets a slot: a fixed outcome, or a column of per-host outcomes.
      // A step with no hosts (an empty role) is rendered for the first host, or for no host
      // at all when the inventory has none: its references are still checked.
      let renderHosts = indices.isEmpty ? (scope.allHosts.isEmpty ? [] : [0]) : indices
      var uniform: [String: VariableScope.Outcome] = [:]
      var columns: [[(outcome: VariableScope.Outcome, id: Int)]] = []
      var columnOfName: [String: Int] = [:]
      var slots: [[StepTexts.Slot]] = []
      var reported: Set<String> = []
      for field in fields {
        var fieldSlots: [StepTexts.Slot] = []
        for ref in field.template.references {
          let line = field.key == nil ? field.line + ref.lineOffset : field.line
          let name = ref.name
          var message: String?
          if inventory != nil, !renderHosts.isEmpty, scope.isHostVarying(ref) {
            let column: Int
            if let known = columnOfName[name] {
              column = known
            } else {
              column = columns.count
              columnOfName[name] = column
              columns.append(
                scope.column(ref, hosts: renderHosts, stepIndex: step.index, epoch: epoch))
            }
            fieldSlots.append(.column(column))
            var failed: [String] = []
            for (position, cell) in columns[column].enumerated() {
              if case .failure(let text) = cell.outcome {
                failed.append(scope.allHosts[renderHosts[position]])
                message = message ?? text
              }
            }
            if message != nil, failed.count < renderHosts.count {
              message! +=
                " (on " + failed.prefix(3).joined(separator: ", ")
                + (failed.count > 3 ? " and \(failed.count - 3) more" : "") + ")"
            }
          } else {
            let outcome =
              uniform[name]
              ?? scope.resolve(
                ref,
                host: renderHosts.first.map { scope.allHosts[$0] } ?? VariableScope.localHostName,
                stepIndex: step.index)
            uniform[name] = outcome
            fieldSlots.append(.fixed(outcome))
            if case .failure(let text) = outcome { message = text }
          }
          if let message, reported.insert("\(line):\(message)").inserted {
            diagnostics.append(.error(file, line, message))
          }
        }
        slots.append(fieldSlots)
      }

      // Hosts with the same value ids render the same. The ids of all columns fold into
      // one integer (mixed radix: an id is below the number of hosts) unless that could
      // overflow, when the list of ids is the key.
      var groupOfHost = [Int32](repeating: 0, count: indices.count)
      var groupCount = 1
      if !columns.isEmpty {
        let radix = max(scope.allHosts.count, 1)
        let fits = !columns.dropFirst().reduce((1, false)) { acc, _ in
          let (product, overflow) = acc.0.multipliedReportingOverflow(by: radix)
          return (product, acc.1 || overflow)
        }.1
        var byKey: [Int: Int32] = [:]
        var byIDs: [[Int]: Int32] = [:]
        groupCount = 0
        for position in indices.indices {
          let next = Int32(groupCount)
          let group: Int32
          if fits {
            var key = 0
            for column in columns { key = key * radix + column[position].id }
            group = byKey[key, default: next]
            byKey[key] = group
          } else {
            let ids = columns.map { $0[position].id }
            group = byIDs[ids, default: next]
            byIDs[ids] = group
          }
          if group == next { groupCount += 1 }
          groupOfHost[position] = group
        }
      }
      let texts = StepTexts(
        fields: fields.map { ($0.key, $0.template) },
        slots: slots,
        columns: columns.map { $0.map(\.outcome) },
        groupOfHost: groupOfHost, groupCount: groupCount)
      planned.append(PlannedStep(step: step, hosts: hosts, texts: texts))
    }

    // Connection settings of every targeted host, problems at the host's inventory line.
    var planHosts: [PlanHost] = []
    for (position, isTargeted) in targeted.enumerated() where isTargeted {
      let name = scope.allHosts[position]
      switch scope.planHost(name) {
      case .success(var host):
        if host.becomePassword == nil { host.becomePassword = options.becomePassword }
        planHosts.append(host)
      case .failure(let problem):
        diagnostics.append(
          .error(inventory?.source ?? file, inventory?.hosts[name]?.line ?? 1, problem.message))
      }
    }

    // Secrets: every value any layer gives a secret name is masked.
    var secretValues: [String] = options.becomePassword.map { [$0] } ?? []
    var missing: [String] = []
    let allHosts = inventory?.hostOrder ?? []
    for name in secretNames.sorted() {
      var values = [defaults[name], fm.vars[name], options.varsFile[name], options.variables[name]]
        .compactMap { $0 }
      for host in allHosts {
        if let v = scope.inventoryVariables(of: host)[name] { values.append(v) }
      }
      secretValues += values.map(\.rendered)
      // A secret an earlier step captures gets its value at run time, not from a prompt.
      if values.isEmpty, captureSteps[name] == nil,
        fm.secrets.contains(name) || options.secretNames.contains(name)
          || promptedSecrets.contains(name)
      {
        missing.append(name)
      }
    }

    var globals = fm.vars
    globals.merge(options.varsFile) { $1 }
    globals.merge(options.variables) { $1 }
    var plan = Plan(
      runbook: runbook, inventorySource: inventory?.source, inventory: inventory, hosts: planHosts,
      steps: planned,
      secretNames: secretNames.filter { !connectionSecrets.contains($0) }.sorted(),
      missingSecrets: missing, masker: SecretMasker(values: secretValues), globalVariables: globals)
    plan.askedVariables = asked
    plan.variableValues = Self.values(of: globals.keys, in: scope)
    return (plan, diagnostics)
  }

  /// Shared variables as the steps see them, for the audit record.
  private static func values(of names: some Sequence<String>, in scope: VariableScope)
    -> [String: String]
  {
    var values: [String: String] = [:]
    let host = scope.allHosts.first ?? "localhost"
    for name in names {
      let reference = Template.Reference(path: [name], lineOffset: 0)
      if scope.isHostVarying(reference) {
        values[name] = "(differs by host)"
        continue
      }
      switch scope.resolve(reference, host: host, stepIndex: 0) {
      case .text(let text): values[name] = text
      case .pending: values[name] = "(captured at run time)"
      case .askedAtRunTime: values[name] = "(secret, asked for at run time)"
      case .askedValue: values[name] = "(asked for at run time)"
      case .failure(let why): values[name] = "(unresolved: \(why))"
      }
    }
    return values
  }

  /// Whether a prompted name looks like a credential (`DB_PASSWORD`, `API_TOKEN`, …).
  static func looksSecret(_ name: String) -> Bool {
    let upper = name.uppercased()
    return ["PASSWORD", "PASSWD", "PASS", "SECRET", "TOKEN", "APIKEY", "API_KEY", "PRIVATE_KEY"]
      .contains { upper.hasSuffix($0) || upper.contains($0 + "_") }
  }

  private static func hint(_ word: String, _ candidates: [String]) -> String {
    NearestWord.nearest(word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
  }
}
