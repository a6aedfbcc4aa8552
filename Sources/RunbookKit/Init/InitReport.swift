import Foundation

/// What `runbook init` did, for the terminal and `--json`.
public struct InitReport: Sendable {
  /// A block that did not become a step, and why.
  public struct Documentation: Sendable {
    /// The block's first line.
    public var line: Int
    /// Why it is not a step.
    public var why: String
  }

  /// The notes file.
  public var file: String
  /// Code blocks found.
  public var blocks = 0
  /// Steps made.
  public var steps = 0
  /// Blocks left as documentation.
  public var documentation: [Documentation] = []
  /// Blocks that were steps already (their attributes written by a person), left as they
  /// are, by line.
  public var annotated: [Int] = []
  /// Steps whose role a person must decide (`role=TODO`), by line.
  public var todo: [Int] = []
  /// Configuration whose file a person must name (`file=TODO`), and why it is not a command.
  public var fileTODO: [Documentation] = []
  /// What `check`'s operability review says of the written runbook, by its line there.
  public var review: [Documentation] = []
  /// Steps per rule that gave the role: prompt, prose, list item, section, heading,
  /// database word, TODO.
  public var byRule: [String: Int] = [:]
  /// Each step: its line in the notes, its role and the rule that gave it.
  public var assigned: [(line: Int, role: String, rule: String)] = []
  /// Variables introduced (addresses).
  public var variables: [String] = []
  /// Secrets introduced (passwords), declared without a value.
  public var secrets: [String] = []
  /// Literal addresses replaced by a variable or a host or role field.
  public var addressesReplaced = 0
  /// Literal passwords replaced by a secret.
  public var passwordsReplaced = 0

  /// Rewrites every reason the report gives (documentation, files, review findings).
  mutating func rewriteReasons(_ rewrite: (String) -> String) {
    for i in documentation.indices { documentation[i].why = rewrite(documentation[i].why) }
    for i in fileTODO.indices { fileTODO[i].why = rewrite(fileTODO[i].why) }
    for i in review.indices { review[i].why = rewrite(review[i].why) }
  }

  /// The report for a person.
  public func text() -> String {
    var out =
      "\(file): \(blocks) code blocks: \(steps) steps, \(documentation.count) documentation\n"
    out +=
      "roles: "
      + byRule.sorted { $0.key < $1.key }.map { "\($0.value) by \($0.key)" }.joined(separator: ", ")
      + "\n"
    out +=
      "addresses replaced: \(addressesReplaced); variables: \(variables.joined(separator: ", "))\n"
    out += "passwords replaced: \(passwordsReplaced); secrets: \(secrets.joined(separator: ", "))\n"
    for item in documentation { out += "line \(item.line): not a step: \(item.why)\n" }
    if !annotated.isEmpty {
      out +=
        "\(annotated.count) blocks already annotated, left as they are, at lines \(annotated.map(String.init).joined(separator: ", "))\n"
    }
    if !todo.isEmpty {
      out +=
        "\(todo.count) steps need a role (role=TODO), at lines \(todo.map(String.init).joined(separator: ", "))\n"
    }
    for item in fileTODO { out += "line \(item.line): needs its file (file=TODO): \(item.why)\n" }
    for item in review { out += "runbook line \(item.line): review: \(item.why)\n" }
    let person = todo.count + fileTODO.count + review.count
    out +=
      person == 0
      ? "nothing left for a person: check and plan the runbook, then run it --interactive\n"
      : "left for a person: \(todo.count) roles, \(fileTODO.count) files, \(review.count) review findings\n"
    return out
  }

  /// The report as JSON.
  public func json() -> String {
    let value: Value = .map([
      "file": .string(file), "blocks": .int(blocks), "steps": .int(steps),
      "documentation": .list(
        documentation.map { .map(["line": .int($0.line), "why": .string($0.why)]) }),
      "todo": .list(todo.map(Value.int)),
      "fileTODO": .list(fileTODO.map { .map(["line": .int($0.line), "why": .string($0.why)]) }),
      "review": .list(review.map { .map(["runbookLine": .int($0.line), "why": .string($0.why)]) }),
      "annotated": .list(annotated.map(Value.int)),
      "rolesByRule": .map(byRule.mapValues(Value.int)),
      "stepRoles": .list(
        assigned.map {
          .map(["line": .int($0.line), "role": .string($0.role), "rule": .string($0.rule)])
        }),
      "variables": .list(variables.map(Value.string)),
      "secrets": .list(secrets.map(Value.string)),
      "addressesReplaced": .int(addressesReplaced),
      "passwordsReplaced": .int(passwordsReplaced),
    ])
    return value.json(indent: 2) + "\n"
  }
}
