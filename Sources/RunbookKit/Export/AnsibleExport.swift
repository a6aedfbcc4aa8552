import Crypto
import Foundation
import Yams

/// A runbook as a self-contained Ansible project (ansible-core alone): a playbook that runs
/// the steps in document order, each on the hosts of its roles, the inventory, and what the
/// playbook needs beside (a module for `ini` and `append` steps with runbook's own merge,
/// runbook's value filters, secrets read from the environment at run time).
///
/// What the plan knows (variables, host and role fields) is written as it renders; what only
/// the run knows (captured values, secrets, values asked for) becomes a Jinja expression.
/// Literal text that looks like Jinja is escaped, so the playbook runs exactly the text
/// `runbook exec` would. No secret value is ever written: secrets come from
/// `RUNBOOK_SECRET_<NAME>`, as for `exec`, and every task that handles one is `no_log`.
public struct AnsibleExport: Sendable {
  /// One file of the project.
  public struct File: Sendable, Equatable {
    /// The path inside the project directory.
    public var path: String
    /// The file's text.
    public var text: String
  }

  /// The project's files.
  public var files: [File] = []
  /// What could not be exported (errors) or needs the reader's attention.
  public var diagnostics: [Diagnostic] = []

  /// The playbook's file name.
  public static let playbookName = "playbook.yml"

  /// Builds the project for `plan`. `inventory` is the inventory file's name and text (the
  /// project's inventory is written from the plan: `inventoryYAML`); without one, every role
  /// is this machine.
  public static func make(
    plan: Plan, runbookFile: String, runbookText: String,
    inventory: (name: String, text: String)?, ssh: SSHSettings? = nil
  ) -> AnsibleExport {
    var export = AnsibleExport()
    var builder = PlaybookBuilder(plan: plan, file: runbookFile)
    let plays = builder.plays()
    export.diagnostics = builder.diagnostics
    let inventoryName = export.addInventory(plan: plan, inventory: inventory)
    let header =
      "# \(plan.runbook.title), exported by runbook from \((runbookFile as NSString).lastPathComponent).\n"
      + "# Run: ansible-playbook \(playbookName)  (secrets from RUNBOOK_SECRET_<NAME>)\n"
    let yaml = (try? Yams.serialize(node: .sequence(.init(plays)), width: -1)) ?? ""
    export.files.append(File(path: playbookName, text: header + yaml))
    export.files.append(configuration(inventoryName: inventoryName, ssh: ssh))
    if let secrets = secretsFile(plan) { export.files.append(secrets) }
    if !builder.sessionUsers.isEmpty { export.files.append(PlaybookBuilder.sessionVariablesFile) }
    if let metadata = runMetadata(
      plan: plan, runbookFile: runbookFile, runbookText: runbookText, inventory: inventory)
    {
      export.files.append(metadata)
    }
    export.addRunbookCopy(plan: plan, runbookFile: runbookFile, runbookText: runbookText)
    export.files.append(
      File(path: "callback_plugins/runbook_journal.py", text: AnsibleExport.journalCallback))
    export.files.append(File(path: "library/runbook_file.py", text: AnsibleExport.fileModule))
    export.files.append(File(path: "filter_plugins/runbook.py", text: AnsibleExport.filterPlugin))
    export.refuseLeakedSecrets(plan: plan, runbookFile: runbookFile, runbookText: runbookText)
    return export
  }

  /// The 1-based line of `text` where `value` first appears.
  static func line(of value: String, in text: String) -> Int? {
    text.range(of: value).map { text[..<$0.lowerBound].count { $0 == "\n" } + 1 }
  }
}

/// Turns the plan's steps into plays and tasks.
struct PlaybookBuilder {
  let plan: Plan
  let file: String
  var diagnostics: [Diagnostic] = []
  /// Names captured by some step.
  let captured: Set<String>
  let secrets: Set<String>
  /// The users whose sessions the playbook keeps (their `become` keys), with their hosts.
  var sessionUsers: [(become: [(String, Node)], hosts: [String])] = []

  /// What each step does in its session (`plan`'s reading): which SQL client it types
  /// into, or ends.
  let sessionNotes: [Int: SessionNote]

  init(plan: Plan, file: String) {
    self.plan = plan
    self.file = file
    captured = Set(plan.steps.compactMap(\.step.attributes.capture))
    secrets = Set(plan.secretNames)
    sessionNotes = SessionNote.notes(of: plan)
  }

  /// One play per run of steps with the same roles (and `serial`), in document order.
  mutating func plays() -> [Node] {
    var plays: [Node] = []
    var current: (roles: [String], serial: Bool, first: Int, tasks: [Node])?
    func close(_ play: (roles: [String], serial: Bool, first: Int, tasks: [Node])?) -> Node? {
      guard let play else { return nil }
      var pairs: [(String, Node)] = [
        (
          "name",
          Self.string("steps from line \(play.first): \(play.roles.joined(separator: ", "))")
        ),
        ("hosts", Self.string(play.roles.joined(separator: ":"))),
        ("gather_facts", Node("false", Tag(.bool))),
        // A failed host stops the run after the current step, as with runbook exec.
        ("any_errors_fatal", Node("true", Tag(.bool))),
      ]
      if play.serial { pairs.append(("serial", Node("1", Tag(.int)))) }
      pairs.append(("tasks", .sequence(.init(play.tasks))))
      return Self.mapping(pairs)
    }
    for planned in plan.steps where !planned.hosts.isEmpty {
      let roles = planned.step.attributes.roles
      let serial = planned.step.attributes.serial
      if current == nil || current!.roles != roles || current!.serial != serial || serial {
        if let done = close(current) { plays.append(done) }
        current = (roles, serial, planned.step.line, [])
      }
      current!.tasks += tasks(for: planned)
    }
    if let done = close(current) { plays.append(done) }
    guard let end = sessionEndPlay(sessionUsers) else { return plays }
    return [Self.sessionStartPlay] + plays + [end]
  }

  /// The module call that does the step, as its kind writes it.
  func action(for planned: PlannedStep, _ rendered: RenderedStep) -> (String, Node) {
    let step = planned.step
    // RUNBOOK_HOST comes from the task's environment (`taskEnvironment`): a host name
    // rendered into the script's text would be read by the shell.
    let session = sessionScript(step, rendered)
    let prelude =
      session.prelude
      + StepScript.prelude(
        context: [("RUNBOOK_STEP", step.id)], env: rendered.fields[.env],
        cwd: rendered.fields[.cwd],
        runmeDirectories: plan.runbook.runmeDirectories(
          of: step, cell: rendered.fields[.cwd],
          local: planned.hosts.allSatisfy { name in
            plan.hosts.first { $0.name == name }?.connection == .local
          }))
    var input = ScriptInput(step: step, rendered: rendered, prelude: prelude, nonce: "")
    input.epilogue = session.epilogue
    let note = sessionNotes[step.index]
    for opener in note?.endsClients ?? [] {
      input.prelude =
        SQLClientSession(exportedFrom: opener, command: "", continues: false).endScript
        + input.prelude
    }
    if step.kind == .sql, SQLClient(rendered.fields[.client] ?? "mysql") != nil,
      sessionUse(step) != .none
    {
      input.client = SQLClientSession(
        exportedFrom: note?.client ?? step.id, command: rendered.fields[.client] ?? "mysql",
        continues: note?.client != nil)
    }
    switch step.kind.handler.exportAction(input) {
    case .module(let name, let arguments):
      return (name, arguments)
    case .script(let script):
      return (
        "ansible.builtin.shell",
        Self.mapping([
          ("cmd", Self.string(script.text)),
          ("executable", Self.string(script.shell == .bash ? "/bin/bash" : "/bin/sh")),
        ])
      )
    }
  }

  /// The Jinja expression for a value only the run knows.
  func expression(_ name: String, _ filters: [Template.Filter]) -> String {
    var value = name
    if captured.contains(name), !secrets.contains(name) {
      value =
        "(\(name) if \(name) is defined else hostvars['localhost']['runbook_latest_\(name)'])"
    }
    for filter in filters { value += " | runbook_\(filter.rawValue)" }
    return "{{ \(value) }}"
  }

  /// Literal text for Jinja: anything that would open a Jinja tag is written as a string.
  /// A `{` that ends the text is written as a string too: an expression may come next,
  /// and `{` + `{{ x }}` would read as `{{{ x }}`.
  static func jinjaLiteral(_ text: String) -> String {
    guard text.contains("{") else { return text }
    var out = ""
    var chars = Array(text)[...]
    while let c = chars.first {
      chars = chars.dropFirst()
      if c == "{", let next = chars.first, "{%#".contains(next) {
        out += "{{ '{" + String(next) + "' }}"
        chars = chars.dropFirst()
      } else if c == "{", chars.isEmpty {
        out += "{{ '{' }}"
      } else {
        out.append(c)
      }
    }
    return out
  }

  static func mapping(_ pairs: [(String, Node)]) -> Node {
    .mapping(.init(pairs.map { (Node($0.0), $0.1) }))
  }

  /// A string, always read back as one: a literal block when it has several lines, else
  /// double-quoted (a plain `true` or `0640` would be read as a boolean or a number).
  static func string(_ text: String) -> Node {
    text.contains("\n") ? Node(text, Tag(.str), .literal) : Node(text, Tag(.str), .doubleQuoted)
  }

  static func when(_ conditions: [String]) -> [(String, Node)] {
    conditions.isEmpty ? [] : [("when", .sequence(.init(conditions.map { Self.string($0) })))]
  }

  static func jsonList(_ items: [String]) -> String {
    "["
      + items.map {
        "'"
          + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(
            of: "'", with: "\\'") + "'"
      }.joined(separator: ", ")
      + "]"
  }
}
