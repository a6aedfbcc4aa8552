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
    let frontMatter = runbook.frontMatter
    let captureSteps = Self.captureSteps(of: runbook)
    let prompts = Prompts(runbook: runbook, inventory: inventory, options: options)
    let secretNames = Set(
      frontMatter.secrets + options.secretNames + connectionSecrets + prompts.secretNames)
    let asked = prompts.asked.filter { !secretNames.contains($0.name) }
    let scope = VariableScope(
      frontMatter: prompts.defaults.merging(frontMatter.vars) { $1 }, varsFile: options.varsFile,
      cli: options.variables, inventory: inventory, secretNames: secretNames,
      askedNames: Set(asked.map(\.name)), captureSteps: captureSteps,
      connections: options.connections)

    var stepPlanner = StepPlanner(
      runbook: runbook, inventory: inventory, options: options, scope: scope,
      secretNames: secretNames, captureSteps: captureSteps)
    var planned: [PlannedStep] = []
    planned.reserveCapacity(runbook.steps.count)
    for step in runbook.steps { planned.append(stepPlanner.plan(step)) }
    var diagnostics = stepPlanner.diagnostics
    let planHosts = Self.planHosts(
      targeted: stepPlanner.targeted, scope: scope, runbook: runbook, inventory: inventory,
      options: options, diagnostics: &diagnostics)
    let secrets = Self.secrets(
      named: secretNames, prompts: prompts, captureSteps: captureSteps, frontMatter: frontMatter,
      inventory: inventory, scope: scope, options: options)

    let globals = frontMatter.vars.merging(options.varsFile) { $1 }
      .merging(options.variables) { $1 }
    var plan = Plan(
      runbook: runbook, inventorySource: inventory?.source, inventory: inventory, hosts: planHosts,
      steps: planned,
      secretNames: secretNames.filter { !connectionSecrets.contains($0) }.sorted(),
      missingSecrets: secrets.missing, masker: SecretMasker(values: secrets.values),
      globalVariables: globals)
    plan.askedVariables = asked
    plan.variableValues = Self.values(of: globals.keys, in: scope)
    diagnostics += SessionNote.transactionWarnings(of: plan, notes: SessionNote.notes(of: plan))
    return (plan, diagnostics)
  }

  /// The steps that capture each name, by step index.
  private static func captureSteps(of runbook: Runbook) -> [String: [Int]] {
    var captureSteps: [String: [Int]] = [:]
    for step in runbook.steps {
      if let name = step.attributes.capture { captureSteps[name, default: []].append(step.index) }
    }
    return captureSteps
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

  static func hint(_ word: String, _ candidates: [String]) -> String {
    NearestWord.nearest(word, in: candidates).map { "; did you mean '\($0)'?" } ?? ""
  }
}
