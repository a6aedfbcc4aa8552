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

    let inventoryName: String
    if let inventory, let parsed = plan.inventory {
      inventoryName = "inventory.yml"
      let (text, notes) = inventoryYAML(plan: plan, inventory: parsed, file: inventory.name)
      export.files.append(File(path: inventoryName, text: text))
      export.diagnostics += notes
    } else {
      inventoryName = "inventory.ini"
      let roles = Set(plan.steps.flatMap(\.step.attributes.roles)).sorted()
      let text =
        "# Every role is this machine, as for runbook exec without --inventory.\n"
        + roles.map { "[\($0)]\nlocalhost ansible_connection=local\n" }.joined(separator: "\n")
      export.files.append(File(path: inventoryName, text: text))
    }

    let header =
      "# \(plan.runbook.title ?? runbookFile), exported by runbook from \((runbookFile as NSString).lastPathComponent).\n"
      + "# Run: ansible-playbook \(playbookName)  (secrets from RUNBOOK_SECRET_<NAME>)\n"
    let yaml = (try? Yams.serialize(node: .sequence(.init(plays)), width: -1)) ?? ""
    export.files.append(File(path: playbookName, text: header + yaml))
    export.files.append(
      File(
        path: "ansible.cfg",
        text: """
          [defaults]
          inventory = \(inventoryName)
          library = library
          filter_plugins = filter_plugins
          callback_plugins = callback_plugins
          callbacks_enabled = runbook_journal
          interpreter_python = auto_silent
          host_key_checking = True
          timeout = \(ssh?.connectTimeout ?? SSHSettings.defaultConnectTimeout)

          [ssh_connection]
          pipelining = True
          \(sshArguments(ssh))
          """))
    if !plan.secretNames.isEmpty {
      let lines = plan.secretNames.sorted().map {
        "\($0): \"{{ lookup('ansible.builtin.env', 'RUNBOOK_SECRET_\($0.uppercased())') }}\"\n"
      }
      export.files.append(
        File(
          path: "group_vars/all/runbook_secrets.yml",
          text: "# Read from the environment when a task uses them; no value is stored here.\n"
            + lines.joined()))
    }
    // What the journal callback needs to write runbook's records: the runbook snapshot
    // (when it holds no secret value) and each step's identity.
    var steps: [String: Any] = [:]
    for planned in plan.steps {
      let step = planned.step
      var entry: [String: Any] = [
        "id": step.id, "index": step.index, "kind": step.kind.rawValue, "line": step.line,
        "headingPath": step.headingPath,
        "contentSHA256": Digest.hex(SHA256.hash(data: Data(step.body.utf8))),
      ]
      // A step with an output check (a transcript, expect=) is recorded after the check.
      entry["checked"] = step.kind == .console || step.attributes.expect != nil
      // A captured value is recorded as exec records it; a secret one is masked.
      if let name = step.attributes.capture {
        entry["capture"] = name
        entry["captureSecret"] = plan.secretNames.contains(name)
      }
      steps[String(step.index)] = entry
    }
    var meta: [String: Any] = [
      "runbook": (runbookFile as NSString).lastPathComponent,
      "title": plan.runbook.title ?? (runbookFile as NSString).lastPathComponent,
      "runbookSHA256": Digest.hex(SHA256.hash(data: Data(runbookText.utf8))),
      "stepCount": plan.runbook.steps.count, "hosts": plan.hosts.map(\.name),
      "toolVersion": RunbookVersion.current + " (exported; run by ansible-playbook)",
      "steps": steps,
      // The callback masks these secrets' values (from RUNBOOK_SECRET_<NAME>) in what it writes.
      "secrets": plan.secretNames.sorted(),
    ]
    if let inventory {
      meta["inventory"] = (inventory.name as NSString).lastPathComponent
      meta["inventorySHA256"] = Digest.hex(SHA256.hash(data: Data(inventory.text.utf8)))
    }
    if let data = try? JSONSerialization.data(
      withJSONObject: meta, options: [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes])
    {
      export.files.append(
        File(path: "runbook-run.json", text: String(decoding: data, as: UTF8.self) + "\n"))
    }
    if let line = plan.masker.secrets.filter({ $0.count >= 4 })
      .compactMap({ Self.line(of: $0, in: runbookText) }).min()
    {
      export.diagnostics.append(
        .warning(
          runbookFile, line,
          "the runbook holds a secret's value, so it is not copied: the run directory the playbook writes has no runbook snapshot to report on; move the value to --vars-file or RUNBOOK_SECRET_<NAME>"
        ))
    } else {
      export.files.append(File(path: "runbook.md", text: runbookText))
    }
    export.files.append(
      File(path: "callback_plugins/runbook_journal.py", text: AnsibleExport.journalCallback))
    export.files.append(File(path: "library/runbook_file.py", text: AnsibleExport.fileModule))
    export.files.append(File(path: "filter_plugins/runbook.py", text: AnsibleExport.filterPlugin))

    // A secret value known to the plan appears in no file (the inventory is written from
    // the plan: a secret the inventory file sets is not carried).
    var leaked: [String: Int] = [:]
    for secret in plan.masker.secrets where secret.count >= 4 {
      for file in export.files {
        guard let line = Self.line(of: secret, in: file.text) else { continue }
        leaked[file.path] = min(leaked[file.path] ?? line, line)
      }
    }
    for (path, line) in leaked.sorted(by: { $0.key < $1.key }) {
      export.diagnostics.append(
        .error(
          runbookFile,
          plan.masker.secrets.compactMap { Self.line(of: $0, in: runbookText) }.min() ?? 1,
          "a secret value would be written to \(path) (line \(line)); not exported"))
    }
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

  init(plan: Plan, file: String) {
    self.plan = plan
    self.file = file
    captured = Set(plan.steps.compactMap(\.step.attributes.capture))
    secrets = Set(plan.secretNames)
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
    return plays
  }

  /// The tasks of one step: per distinct rendering (hosts that get other text get other
  /// tasks), its guards, the step, its output check and its capture.
  mutating func tasks(for planned: PlannedStep) -> [Node] {
    let step = planned.step
    let a = step.attributes
    // Ansible templates task names: a heading's `{{` stays text.
    let label = Self.jinjaLiteral(
      "\(a.name ?? step.id) (\((file as NSString).lastPathComponent):\(step.line))")
    let register =
      "runbook_"
      + step.id.map { $0.isLetter || $0.isNumber ? $0 : "_" }
      .map(String.init).joined()
    // Each distinct rendering, as Jinja.
    var groups: [(hosts: [String], rendered: RenderedStep, secret: Bool)] = []
    var positionOfGroup: [String: Int] = [:]
    for (position, host) in planned.hosts.enumerated() {
      var usesSecret = false
      let rendered = planned.rendered(
        at: position, secrets: secrets, literal: Self.jinjaLiteral,
        runtime: { name, filters in
          if secrets.contains(name) { usesSecret = true }
          return expression(name, filters)
        })
      let key =
        "\(rendered.body)\u{0}\(rendered.fields.sorted { $0.key.rawValue < $1.key.rawValue })"
      if let index = positionOfGroup[key] {
        groups[index].hosts.append(host)
      } else {
        positionOfGroup[key] = groups.count
        groups.append(([host], rendered, usesSecret))
      }
    }
    if groups.contains(where: { group in
      ([group.rendered.body] + group.rendered.fields.values).contains {
        $0.contains(SecretMasker.mask)
      }
    }) {
      diagnostics.append(
        .error(
          file, step.line,
          "a variable this step uses holds a secret; name the secret in the step itself so it can be read at run time"
        ))
    }

    var out: [Node] = []
    for group in groups {
      let fields = group.rendered.fields
      let secret = group.secret || (a.capture.map(secrets.contains) ?? false)
      var common: [(String, Node)] = []
      var conditions: [String] = []
      if groups.count > 1 {
        conditions.append(
          "inventory_hostname in " + Self.jsonList(group.hosts))
      }
      if a.become || fields[.user] != nil {
        common.append(("become", Node("true", Tag(.bool))))
        if let user = fields[.user] { common.append(("become_user", Self.string(user))) }
      }
      if !a.tags.isEmpty {
        common.append(("tags", .sequence(.init(a.tags.map { Self.string($0) }))))
      }
      if secret { common.append(("no_log", Node("true", Tag(.bool)))) }

      // Guards: the step is skipped where its file exists or its command succeeds.
      if let creates = fields[.creates] {
        out.append(
          Self.mapping(
            [
              ("name", Self.string("\(label): creates")),
              ("ansible.builtin.stat", Self.mapping([("path", Self.string(creates))])),
              ("register", Self.string(register + "_creates")),
            ] + common + Self.when(conditions)))
        conditions.append("not \(register)_creates.stat.exists")
      }
      if let unless = fields[.unless] {
        out.append(
          Self.mapping(
            [
              ("name", Self.string("\(label): unless")),
              ("ansible.builtin.shell", Self.mapping([("cmd", Self.string(unless))])),
              ("register", Self.string(register + "_unless")),
              ("failed_when", Node("false", Tag(.bool))),
              ("changed_when", Node("false", Tag(.bool))),
            ] + common + Self.when(conditions)))
        conditions.append("\(register)_unless.rc != 0")
      }

      guard let action = action(for: planned, group.rendered) else { continue }
      // The journal callback knows the step's tasks by these variables.
      // A task for some of the step's hosts says which: the others skip it without the
      // step being skipped for them.
      var stepPairs: [(String, Node)] = [("runbook_step", Node(String(step.index), Tag(.int)))]
      if groups.count > 1 {
        stepPairs.append(("runbook_hosts", .sequence(.init(group.hosts.map { Self.string($0) }))))
      }
      let stepVars = Self.mapping(stepPairs)
      let checkVars = ("runbook_step_check", Node(String(step.index), Tag(.int)))
      var task: [(String, Node)] = [
        ("name", Self.string(label)), action, ("register", Self.string(register)),
        ("vars", stepVars),
      ]
      task += common
      if ![.manual, .writeFile, .iniMerge, .appendBlock].contains(step.kind) {
        task.append(Self.hostEnvironment)
      }
      if let timeout = a.timeout {
        let seconds = Int(
          (Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
            .rounded(.up))
        task.append(("timeout", Node(String(max(1, seconds)), Tag(.int))))
      }
      if a.retries > 0 {
        task.append(("retries", Node(String(a.retries), Tag(.int))))
        task.append(("delay", Node(String(max(0, Int(a.delay.components.seconds))), Tag(.int))))
        task.append(("until", Self.string("\(register) is succeeded")))
      }
      if a.allowFail { task.append(("ignore_errors", Node("true", Tag(.bool)))) }
      task += Self.when(conditions)
      out.append(Self.mapping(task))

      let ran = conditions + ["\(register) is succeeded"]
      // An output check fails an allow-fail step without stopping the run, as in exec.
      let checkCommon = common + (a.allowFail ? [("ignore_errors", Node("true", Tag(.bool)))] : [])
      // An assert on the step's output, recorded by the journal callback as the step's check.
      func check(_ what: String, _ input: (String, Node), that: String, failMessage: String)
        -> Node
      {
        Self.mapping(
          [
            ("name", Self.string("\(label): \(what)")),
            ("vars", Self.mapping([input, checkVars])),
            (
              "ansible.builtin.assert",
              Self.mapping([
                ("that", .sequence(.init([Self.string(that)]))),
                ("fail_msg", Self.string(failMessage)),
              ])
            ),
          ] + checkCommon + Self.when(ran))
      }
      if step.kind == .console {
        // Each command's output against the transcript, with runbook's line patterns; the
        // expected lines are templated by Ansible like the commands.
        let commands = ConsoleTranscript(group.rendered.body).commands.map { command in
          Self.mapping([
            ("command", Self.string(command.command)),
            ("expected", .sequence(.init(command.expected.map { Self.string($0) }))),
          ])
        }
        let mismatch =
          "\(register).stdout | runbook_console('\(Self.consoleNonce)', runbook_transcript)"
        out.append(
          check(
            "output matches the transcript", ("runbook_transcript", .sequence(.init(commands))),
            that: "\(mismatch) == ''", failMessage: "{{ \(mismatch) }}"))
      }
      if let pattern = fields[.expect] {
        out.append(
          check(
            "output matches expect=", ("runbook_expect", Self.string(pattern)),
            that: "\(register).stdout | runbook_search(runbook_expect)",
            failMessage: "output does not match expect="))
      }
      if let name = a.capture {
        // The host's own value, and the latest one for hosts that did not capture it.
        out.append(
          Self.mapping(
            [
              ("name", Self.string("\(label): capture \(name)")),
              (
                "ansible.builtin.set_fact",
                Self.mapping([(name, Self.string("{{ \(register).stdout | trim }}"))])
              ),
            ] + common + Self.when(ran)))
        out.append(
          Self.mapping(
            [
              ("name", Self.string("\(label): latest \(name)")),
              (
                "ansible.builtin.set_fact",
                Self.mapping([
                  (
                    "runbook_latest_\(name)",
                    Self.string(
                      "{{ ansible_play_hosts | map('extract', hostvars) | selectattr('\(name)', 'defined') | map(attribute='\(name)') | list | last }}"
                    )
                  )
                ])
              ),
              ("delegate_to", Self.string("localhost")),
              ("delegate_facts", Node("true", Tag(.bool))),
              ("run_once", Node("true", Tag(.bool))),
            ] + common.filter { $0.0 == "no_log" } + Self.when(conditions)))
      }
    }
    return out
  }

  /// The host's inventory name for a command step, as exec gives it: Ansible passes a
  /// task's environment to the shell as quoted assignments, never as script text.
  static var hostEnvironment: (String, Node) {
    (
      "environment", mapping([("RUNBOOK_HOST", string("{{ inventory_hostname }}"))])
    )
  }

  /// The module call that does the step.
  mutating func action(for planned: PlannedStep, _ rendered: RenderedStep) -> (String, Node)? {
    let step = planned.step
    let a = step.attributes
    let fields = rendered.fields
    // RUNBOOK_HOST comes from the task's environment (`hostEnvironment`): a host name
    // rendered into the script's text would be read by the shell.
    let prelude = StepScript.prelude(
      context: [("RUNBOOK_STEP", step.id)], env: fields[.env], cwd: fields[.cwd])
    func shell(_ script: StepScript) -> (String, Node) {
      (
        "ansible.builtin.shell",
        Self.mapping([
          ("cmd", Self.string(script.text)),
          ("executable", Self.string(script.shell == .bash ? "/bin/bash" : "/bin/sh")),
        ])
      )
    }
    switch step.kind {
    case .shell, .bash:
      return shell(StepScript.shell(rendered.body, bash: step.kind == .bash, prelude: prelude))
    case .program:
      return shell(
        StepScript.program(
          rendered.body,
          interpreter: a.interpreter ?? StepKind.interpreterLanguages[step.language.lowercased()]
            ?? "python3", prelude: prelude))
    case .sql:
      return shell(StepScript.sql(rendered.body, client: fields[.client], prelude: prelude))
    case .manual:
      return ("ansible.builtin.pause", Self.mapping([("prompt", Self.string(rendered.body))]))
    case .writeFile, .iniMerge, .appendBlock:
      let edit = step.kind == .writeFile ? "write" : step.kind == .iniMerge ? "ini" : "append"
      var args: [(String, Node)] = [
        ("path", Self.string(fields[.file] ?? "")), ("edit", Self.string(edit)),
        ("content", Self.string(rendered.body)),
      ]
      if step.kind == .iniMerge {
        if let section = a.section { args.append(("section", Self.string(section))) }
        if a.create { args.append(("create", Node("true", Tag(.bool)))) }
      }
      if step.kind == .appendBlock { args.append(("id", Self.string(step.id))) }
      if let mode = a.mode { args.append(("mode", Self.string(mode))) }
      if let owner = fields[.owner] { args.append(("owner", Self.string(owner))) }
      return ("runbook_file", Self.mapping(args))
    case .console:
      return shell(
        StepScript.console(
          ConsoleTranscript(rendered.body), prelude: prelude, nonce: Self.consoleNonce))
    }
  }

  /// The marker of a console step's command outputs (a run's own nonce would make every
  /// export differ).
  static let consoleNonce = "RUNBOOK-CONSOLE-OUTPUT"

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
