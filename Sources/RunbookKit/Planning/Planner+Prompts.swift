extension Planner {
  /// Runme's prompted exports: a quoted value is a default below the front matter; an
  /// unquoted one is asked for unless some layer sets the name. A name that looks like a
  /// credential is a secret (masked, asked without echo).
  struct Prompts {
    /// Quoted values, by name (the first one wins).
    var defaults: [String: Value] = [:]
    /// Prompts no layer answers, each name once.
    var asked: [PromptedVariable] = []
    /// Prompted names that look like credentials, in order of first appearance.
    var secretNames: [String] = []

    init(runbook: Runbook, inventory: Inventory?, options: PlanOptions) {
      let frontMatter = runbook.frontMatter
      let inventoryHosts = inventory?.hostOrder ?? []
      for prompt in runbook.steps.flatMap(\.prompts) {
        if Planner.looksSecret(prompt.name), !secretNames.contains(prompt.name) {
          secretNames.append(prompt.name)
        }
        if let value = prompt.defaultValue {
          defaults[prompt.name] = defaults[prompt.name] ?? .string(value)
          continue
        }
        let set =
          frontMatter.vars[prompt.name] ?? options.varsFile[prompt.name]
          ?? options.variables[prompt.name]
          ?? inventoryHosts.lazy.compactMap { inventory?.variables(of: $0)[prompt.name] }.first
        if set == nil, !asked.contains(where: { $0.name == prompt.name }) { asked.append(prompt) }
      }
    }
  }
}
