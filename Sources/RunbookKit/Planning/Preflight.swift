import Foundation
import Yams

/// Everything before a step runs, from file names to a `Plan`: read the runbook, the
/// inventory and the variables, and plan; all problems are collected together.
public struct Preflight: Sendable {
  /// The runbook file.
  public var runbookPath: String
  /// The inventory file; `nil` maps every role to this machine.
  public var inventoryPath: String?
  /// `--var NAME=VALUE` arguments as given.
  public var variables: [String] = []
  /// `--vars-file` paths, later files winning.
  public var varsFiles: [String] = []
  /// `--secret NAME` arguments.
  public var secretNames: [String] = []
  /// `--allow-empty-roles`.
  public var allowEmptyRoles = false
  /// Refuse what is otherwise tolerated in a guide written elsewhere: front matter keys
  /// runbook does not read.
  public var strict = false
  /// Where blocks without a role of their own (Runme's) run.
  public var defaultRole: String?
  /// `--become-password-file`: a file whose first line is sudo's password, for hosts whose
  /// inventory gives no `ansible_become_password`.
  public var becomePasswordFile: String?

  /// Creates a preflight for a runbook.
  public init(runbookPath: String, inventoryPath: String? = nil) {
    self.runbookPath = runbookPath
    self.inventoryPath = inventoryPath
  }

  /// The outcome: the plan when the runbook could be read at all, and every diagnostic.
  public struct Outcome: Sendable {
    /// The plan; `nil` when the runbook or inventory could not be read.
    public var plan: Plan?
    /// The parsed runbook, when it could be read.
    public var runbook: Runbook?
    /// Errors and warnings, in file and line order.
    public var diagnostics: [Diagnostic]
    /// Whether nothing stops a run.
    public var isClean: Bool { plan != nil && !diagnostics.hasErrors }
  }

  /// Reads, validates and plans.
  public func run() -> Outcome {
    var diagnostics: [Diagnostic] = []
    let runbook: Runbook
    do {
      let (parsed, problems) = try Runbook.load(path: runbookPath)
      runbook = parsed
      diagnostics += problems
      if strict {
        diagnostics.removeAll { $0.severity != .error && $0.message.hasPrefix("front matter key") }
        for (key, line) in parsed.frontMatter.otherKeys {
          diagnostics.append(
            .error(
              runbookPath, line,
              "front matter key '\(key)' is not one runbook reads (--strict); runbook reads \(FrontMatter.keys.joined(separator: ", "))"
            ))
        }
      }
    } catch {
      return Outcome(plan: nil, runbook: nil, diagnostics: error.diagnostics)
    }

    var inventory: Inventory?
    if let inventoryPath {
      do {
        inventory = try InventoryParser.load(path: inventoryPath)
      } catch {
        diagnostics += error.diagnostics
      }
    }

    var options = PlanOptions()
    options.secretNames = secretNames
    for name in secretNames where !Template.isIdentifier(Substring(name)) {
      diagnostics.append(
        Diagnostic(
          .error, at: nil,
          "--secret '\(TerminalText.visible(name))' is not a variable name (letters, digits and _)")
      )
    }
    options.allowEmptyRoles = allowEmptyRoles
    options.defaultRole = defaultRole
    if let path = becomePasswordFile {
      switch Self.readPasswordFile(path) {
      case .success(let password): options.becomePassword = password
      case .failure(let error): diagnostics += error.diagnostics
      }
    }
    for assignment in variables {
      guard let eq = assignment.firstIndex(of: "="),
        Template.isIdentifier(assignment[..<eq])
      else {
        diagnostics.append(
          Diagnostic(
            .error, at: nil, "--var '\(assignment)' must be NAME=VALUE, like --var vip=10.0.0.5"))
        continue
      }
      options.variables[String(assignment[..<eq])] = .string(
        String(assignment[assignment.index(after: eq)...]))
    }
    for path in varsFiles {
      switch Self.readVarsFile(path) {
      case .success(let vars): options.varsFile.merge(vars) { $1 }
      case .failure(let error): diagnostics += error.diagnostics
      }
    }
    if inventoryPath != nil, inventory == nil {
      return Outcome(plan: nil, runbook: runbook, diagnostics: diagnostics.sortedByLocation())
    }
    let (plan, problems) = Planner.plan(runbook, inventory: inventory, options: options)
    diagnostics += problems
    diagnostics += Self.missingDirectories(plan)
    return Outcome(plan: plan, runbook: runbook, diagnostics: diagnostics.sortedByLocation())
  }

  /// `cwd=` of a step on this machine naming a directory that is not there: the step would
  /// fail at its `cd`, unless an earlier step makes it (a warning, not an error). A Runme
  /// cell's cwd is passed over when it is not a directory, as Runme does.
  static func missingDirectories(
    _ plan: Plan,
    isDirectory: (String) -> Bool = { path in
      var directory: ObjCBool = false
      return FileManager.default.fileExists(atPath: path, isDirectory: &directory)
        && directory.boolValue
    }
  ) -> [Diagnostic] {
    var warnings: [Diagnostic] = []
    for planned in plan.steps
    where planned.step.attributes.cwd != nil && !planned.step.attributes.runme {
      let local =
        planned.hosts.isEmpty
        || planned.hosts.allSatisfy { name in
          plan.hosts.first { $0.name == name }?.connection == .local
        }
      guard local, let cwd = planned.rendered(at: 0).fields[.cwd], cwd.hasPrefix("/"),
        !isDirectory(cwd)
      else { continue }
      warnings.append(
        .warning(
          plan.runbook.file, planned.step.line,
          // As written: a rendered value could hold a secret.
          "cwd=\(planned.step.attributes.cwd ?? cwd) is not a directory on this machine: the step fails at its cd unless an earlier step makes it"
        ))
    }
    return warnings
  }

  /// The first line of a password file (as Ansible reads `--become-password-file`), or why
  /// it cannot be used.
  static func readPasswordFile(_ path: String) -> Result<String, DiagnosticsError> {
    func problem(_ message: String) -> DiagnosticsError {
      DiagnosticsError([Diagnostic(.error, at: nil, message)])
    }
    guard let data = FileManager.default.contents(atPath: path) else {
      return .failure(problem("cannot read the become password file '\(path)'"))
    }
    let text = String(decoding: data, as: UTF8.self)
    let line =
      text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false)
      .first.map { String($0.hasSuffix("\r") ? $0.dropLast() : $0) } ?? ""
    guard !line.isEmpty else {
      return .failure(
        problem("the become password file '\(path)' is empty; its first line is the password"))
    }
    return .success(line)
  }

  /// A YAML or JSON mapping of variable names to values.
  static func readVarsFile(_ path: String) -> Result<[String: Value], DiagnosticsError> {
    guard let data = FileManager.default.contents(atPath: path),
      let text = String(data: data, encoding: .utf8)
    else {
      return .failure(
        DiagnosticsError([Diagnostic(.error, at: nil, "cannot read vars file '\(path)'")]))
    }
    do {
      guard let node = try composeYAML(SourceText(text).text) else { return .success([:]) }
      guard case .map(let vars) = Value(yaml: node) else {
        return .failure(
          DiagnosticsError([.error(path, 1, "vars file must be a mapping of NAME: value")]))
      }
      return .success(vars)
    } catch {
      let (line, message) = yamlProblem(error, firstLine: 1, text: text)
      return .failure(DiagnosticsError([.error(path, line, message)]))
    }
  }
}
