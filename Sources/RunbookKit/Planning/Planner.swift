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
    let secretNames = Set(fm.secrets + options.secretNames + connectionSecrets)
    var captureSteps: [String: [Int]] = [:]
    for step in runbook.steps {
      if let name = step.attributes.capture { captureSteps[name, default: []].append(step.index) }
    }
    let scope = VariableScope(
      frontMatter: fm.vars, varsFile: options.varsFile, cli: options.variables,
      inventory: inventory, secretNames: secretNames, captureSteps: captureSteps)

    let declared = Set(fm.roles.map(\.name))
    let groupNames = inventory?.groupOrder ?? []
    var hostProblemsReported: Set<String> = []
    var targeted: Set<String> = []
    var planned: [PlannedStep] = []
    planned.reserveCapacity(runbook.steps.count)

    for step in runbook.steps {
      // Roles to hosts.
      var hosts: [String] = []
      var seen: Set<String> = []
      for role in step.attributes.roles {
        if !declared.isEmpty, !declared.contains(role), role != "all" {
          diagnostics.append(
            .error(
              file, step.line,
              "role '\(role)' is not declared in the front matter's roles (declared: \(fm.roles.map(\.name).joined(separator: ", ")))"
                + hint(role, declared.sorted())))
        }
        guard let members = scope.hosts(ofRole: role) else {
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
        for host in members where seen.insert(host).inserted { hosts.append(host) }
      }
      for host in hosts where targeted.insert(host).inserted {
        if case .failure(let problem) = scope.planHost(host), hostProblemsReported.insert(host).inserted {
          let line = inventory?.hosts[host]?.line ?? 1
          diagnostics.append(.error(inventory?.source ?? file, line, problem.message))
        }
      }

      // Templates of the body and the attributes that take text.
      var fields: [(key: String, template: Template, line: Int)] = []
      let a = step.attributes
      let textFields: [(String, String?)] = [
        ("body", step.body), ("file", a.file), ("creates", a.creates), ("unless", a.unless),
        ("expect", a.expect), ("user", a.user), ("owner", a.owner), ("client", a.client),
      ]
      for case (let key, let text?) in textFields {
        if a.raw && key == "body" {
          fields.append((key, Template(verbatim: text), step.bodyLine))
          continue
        }
        let (template, problems) = Template.parse(text)
        let base = key == "body" ? step.bodyLine : step.line
        for problem in problems {
          diagnostics.append(.error(file, base + problem.lineOffset, problem.message))
        }
        fields.append((key, template, base))
      }

      // Check every reference on the hosts it can differ on.
      let references = fields.flatMap { field in
        field.template.references.map { (ref: $0, line: field.key == "body" ? field.line + $0.lineOffset : field.line) }
      }
      let renderHosts = hosts.isEmpty ? [VariableScope.localHostName] : hosts
      var varying = false
      var reported: Set<String> = []
      for (ref, line) in references {
        let refVaries = inventory != nil && scope.isHostVarying(ref)
        varying = varying || refVaries
        var failed: [String] = []
        var message: String?
        for host in refVaries ? renderHosts : [renderHosts[0]] {
          if case .failure(let text) = scope.resolve(ref, host: host, stepIndex: step.index) {
            failed.append(host)
            message = message ?? text
          }
        }
        guard var message, reported.insert("\(line):\(ref.name)").inserted else { continue }
        if refVaries, failed.count < renderHosts.count {
          message += " (on " + failed.prefix(3).joined(separator: ", ")
            + (failed.count > 3 ? " and \(failed.count - 3) more" : "") + ")"
        }
        diagnostics.append(.error(file, line, message))
      }

      // Render once when no reference varies by host; otherwise per host, grouped.
      func render(for host: String) -> RenderedStep {
        var pending: [String] = []
        func text(_ key: String) -> String? {
          guard let field = fields.first(where: { $0.key == key }) else { return nil }
          return field.template.render { ref in
            switch scope.resolve(ref, host: host, stepIndex: step.index) {
            case .text(let t): return t
            case .missingSecret: return SecretMasker.mask
            case .pending(let name):
              if !pending.contains(name) { pending.append(name) }
              return nil
            case .failure: return nil
            }
          }
        }
        var r = RenderedStep(body: text("body") ?? "")
        r.file = text("file")
        r.creates = text("creates")
        r.unless = text("unless")
        r.expect = text("expect")
        r.user = text("user")
        r.owner = text("owner")
        r.client = text("client")
        r.pending = pending
        return r
      }
      var renderings: [(hosts: [String], rendered: RenderedStep)] = []
      if !varying {
        renderings = [(hosts, render(for: renderHosts[0]))]
      } else {
        var index: [RenderedStep: Int] = [:]
        for host in hosts {
          let r = render(for: host)
          if let i = index[r] {
            renderings[i].hosts.append(host)
          } else {
            index[r] = renderings.count
            renderings.append(([host], r))
          }
        }
      }
      planned.append(PlannedStep(step: step, hosts: hosts, renderings: renderings))
    }

    // Secrets: every value any layer gives a secret name is masked.
    var secretValues: [String] = []
    var missing: [String] = []
    let allHosts = inventory?.hostOrder ?? []
    for name in secretNames.sorted() {
      var values = [fm.vars[name], options.varsFile[name], options.variables[name]].compactMap { $0 }
      for host in allHosts { if let v = scope.inventoryVariables(of: host)[name] { values.append(v) } }
      secretValues += values.map(\.rendered)
      if values.isEmpty, fm.secrets.contains(name) || options.secretNames.contains(name) {
        missing.append(name)
      }
    }

    let order = inventory?.hostOrder ?? [VariableScope.localHostName]
    let planHosts = order.filter(targeted.contains).compactMap { try? scope.planHost($0).get() }
    var globals = fm.vars
    globals.merge(options.varsFile) { $1 }
    globals.merge(options.variables) { $1 }
    let plan = Plan(
      runbook: runbook, inventorySource: inventory?.source, hosts: planHosts, steps: planned,
      secretNames: secretNames.filter { !connectionSecrets.contains($0) }.sorted(),
      missingSecrets: missing, masker: SecretMasker(values: secretValues), globalVariables: globals)
    return (plan, diagnostics)
  }

  private static func hint(_ word: String, _ candidates: [String]) -> String {
    StepAttributes.nearest(word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
  }
}
