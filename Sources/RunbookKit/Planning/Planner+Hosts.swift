extension Planner {
  /// Connection settings of every targeted host, problems at the host's inventory line.
  static func planHosts(
    targeted: [Bool], scope: VariableScope, runbook: Runbook, inventory: Inventory?,
    options: PlanOptions, diagnostics: inout [Diagnostic]
  ) -> [PlanHost] {
    var planHosts: [PlanHost] = []
    for (position, isTargeted) in targeted.enumerated() where isTargeted {
      let name = scope.allHosts[position]
      switch scope.planHost(name) {
      case .success(var host):
        if host.becomePassword == nil { host.becomePassword = options.becomePassword }
        planHosts.append(host)
      case .failure(let problem):
        diagnostics.append(
          .error(
            inventory?.source ?? runbook.file, inventory?.hosts[name]?.line ?? 1, problem.message))
      }
    }
    return planHosts
  }

  /// Every value any layer gives a secret name, to mask, and the declared or prompted
  /// secrets nothing gives a value, to ask for.
  static func secrets(
    named secretNames: Set<String>, prompts: Prompts, captureSteps: [String: [Int]],
    frontMatter: FrontMatter, inventory: Inventory?, scope: VariableScope, options: PlanOptions
  ) -> (values: [String], missing: [String]) {
    var secretValues: [String] = options.becomePassword.map { [$0] } ?? []
    var missing: [String] = []
    let allHosts = inventory?.hostOrder ?? []
    for name in secretNames.sorted() {
      var values = [
        prompts.defaults[name], frontMatter.vars[name], options.varsFile[name],
        options.variables[name],
      ]
      .compactMap { $0 }
      for host in allHosts {
        if let value = scope.inventoryVariables(of: host)[name] { values.append(value) }
      }
      secretValues += values.map(\.rendered)
      // A secret an earlier step captures gets its value at run time, not from a prompt.
      if values.isEmpty, captureSteps[name] == nil,
        frontMatter.secrets.contains(name) || options.secretNames.contains(name)
          || prompts.secretNames.contains(name)
      {
        missing.append(name)
      }
    }
    return (secretValues, missing)
  }
}
