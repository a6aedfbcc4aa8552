import Foundation
import Yams

/// One distinct rendering of a step: the hosts that get this text get these tasks.
struct TaskGroup {
  /// The hosts.
  var hosts: [String]
  /// The step as Jinja for them.
  var rendered: RenderedStep
  /// Whether the text reads a secret at run time.
  var readsSecret: Bool
}

/// What every task of one step's group shares.
struct StepTasks {
  /// The step's name and place, for task names.
  var label: String
  /// The variable the step's result is registered in.
  var register: String
  /// Keys every task carries (become, tags, no_log).
  var common: [(String, Node)]
  /// The conditions under which the step runs (its hosts, its guards).
  var conditions: [String]
}

extension PlaybookBuilder {
  /// The tasks of one step: per distinct rendering (hosts that get other text get other
  /// tasks), its guards, the step, its output checks and its capture.
  mutating func tasks(for planned: PlannedStep) -> [Node] {
    let step = planned.step
    // Ansible templates task names: a heading's `{{` stays text.
    let label = Self.jinjaLiteral(
      "\(step.attributes.name ?? step.id) (\((file as NSString).lastPathComponent):\(step.line))")
    let register =
      "runbook_" + String(step.id.map { $0.isLetter || $0.isNumber ? $0 : "_" })
    let groups = taskGroups(of: planned)
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
    if sessionUse(step) != .none {
      for group in groups { noteSessionUser(commonKeys(step, group), group.hosts) }
    }
    return groups.flatMap { group in
      var tasks = StepTasks(
        label: label, register: register, common: commonKeys(step, group),
        conditions: groups.count > 1 ? ["inventory_hostname in " + Self.jsonList(group.hosts)] : [])
      let guards = guardTasks(&tasks, group)
      return guards + [stepTask(planned, group, tasks, groupCount: groups.count)]
        + checkTasks(step, group, tasks) + captureTasks(step, tasks)
    }
  }

  /// The step's distinct renderings as Jinja, with the hosts of each.
  func taskGroups(of planned: PlannedStep) -> [TaskGroup] {
    var groups: [TaskGroup] = []
    var positionOfGroup: [String: Int] = [:]
    for (position, host) in planned.hosts.enumerated() {
      var readsSecret = false
      let rendered = planned.rendered(
        at: position, secrets: secrets, literal: Self.jinjaLiteral,
        runtime: { name, filters in
          if secrets.contains(name) { readsSecret = true }
          return expression(name, filters)
        })
      let key =
        "\(rendered.body)\u{0}\(rendered.fields.sorted { $0.key.rawValue < $1.key.rawValue })"
      if let index = positionOfGroup[key] {
        groups[index].hosts.append(host)
      } else {
        positionOfGroup[key] = groups.count
        groups.append(TaskGroup(hosts: [host], rendered: rendered, readsSecret: readsSecret))
      }
    }
    return groups
  }

  /// What every task of the group carries: the user it runs as, tags, and `no_log` when
  /// a secret passes through it.
  func commonKeys(_ step: Step, _ group: TaskGroup) -> [(String, Node)] {
    let a = step.attributes
    let fields = group.rendered.fields
    var common: [(String, Node)] = []
    if a.become || fields[.user] != nil {
      common.append(("become", Node("true", Tag(.bool))))
      if let user = fields[.user] { common.append(("become_user", Self.string(user))) }
    }
    if !a.tags.isEmpty {
      common.append(("tags", .sequence(.init(a.tags.map { Self.string($0) }))))
    }
    if group.readsSecret || (a.capture.map(secrets.contains) ?? false) {
      common.append(("no_log", Node("true", Tag(.bool))))
    }
    return common
  }

  /// The guards: the step is skipped where its file exists or its command succeeds.
  func guardTasks(_ tasks: inout StepTasks, _ group: TaskGroup) -> [Node] {
    var out: [Node] = []
    if let creates = group.rendered.fields[.creates] {
      out.append(
        Self.mapping(
          [
            ("name", Self.string("\(tasks.label): creates")),
            ("ansible.builtin.stat", Self.mapping([("path", Self.string(creates))])),
            ("register", Self.string(tasks.register + "_creates")),
          ] + tasks.common + Self.when(tasks.conditions)))
      tasks.conditions.append("not \(tasks.register)_creates.stat.exists")
    }
    if let unless = group.rendered.fields[.unless] {
      out.append(
        Self.mapping(
          [
            ("name", Self.string("\(tasks.label): unless")),
            ("ansible.builtin.shell", Self.mapping([("cmd", Self.string(unless))])),
            ("register", Self.string(tasks.register + "_unless")),
            ("failed_when", Node("false", Tag(.bool))),
            ("changed_when", Node("false", Tag(.bool))),
          ] + tasks.common + Self.when(tasks.conditions)))
      tasks.conditions.append("\(tasks.register)_unless.rc != 0")
    }
    return out
  }

  /// The task that does the step, with its timeout, retries and failure policy.
  func stepTask(
    _ planned: PlannedStep, _ group: TaskGroup, _ tasks: StepTasks, groupCount: Int
  ) -> Node {
    let step = planned.step
    let a = step.attributes
    // The journal callback knows the step's tasks by these variables. A task for some of
    // the step's hosts says which: the others skip it without the step being skipped for them.
    var stepPairs: [(String, Node)] = [("runbook_step", Node(String(step.index), Tag(.int)))]
    if groupCount > 1 {
      stepPairs.append(("runbook_hosts", .sequence(.init(group.hosts.map { Self.string($0) }))))
    }
    var task: [(String, Node)] = [
      ("name", Self.string(tasks.label)), action(for: planned, group.rendered),
      ("register", Self.string(tasks.register)), ("vars", Self.mapping(stepPairs)),
    ]
    task += tasks.common
    if step.kind.handler.runsCommands { task.append(taskEnvironment(step)) }
    if let timeout = a.timeout {
      let seconds = Int(
        (Double(timeout.components.seconds) + Double(timeout.components.attoseconds) / 1e18)
          .rounded(.up))
      task.append(("timeout", Node(String(max(1, seconds)), Tag(.int))))
    }
    if a.retries > 0 {
      task.append(("retries", Node(String(a.retries), Tag(.int))))
      task.append(("delay", Node(String(max(0, Int(a.delay.components.seconds))), Tag(.int))))
      task.append(("until", Self.string("\(tasks.register) is succeeded")))
    }
    if a.allowFail { task.append(("ignore_errors", Node("true", Tag(.bool)))) }
    return Self.mapping(task + Self.when(tasks.conditions))
  }

  /// Asserts on the step's output (its kind's own check, `expect=`), each recorded by the
  /// journal callback as the step's check. A check fails an allow-fail step without
  /// stopping the run, as in exec.
  func checkTasks(_ step: Step, _ group: TaskGroup, _ tasks: StepTasks) -> [Node] {
    var checks: [ExportCheck] = []
    let input = ScriptInput(step: step, rendered: group.rendered, prelude: "", nonce: "")
    if let own = step.kind.handler.exportCheck(input, register: tasks.register) {
      checks.append(own)
    }
    if let pattern = group.rendered.fields[.expect] {
      checks.append(
        ExportCheck(
          what: "output matches expect=", input: ("runbook_expect", Self.string(pattern)),
          that: "\(tasks.register).stdout | runbook_search(runbook_expect)",
          failMessage: "output does not match expect="))
    }
    let checkVars = ("runbook_step_check", Node(String(step.index), Tag(.int)))
    let ignore: [(String, Node)] =
      step.attributes.allowFail ? [("ignore_errors", Node("true", Tag(.bool)))] : []
    return checks.map { check in
      Self.mapping(
        [
          ("name", Self.string("\(tasks.label): \(check.what)")),
          ("vars", Self.mapping([check.input, checkVars])),
          (
            "ansible.builtin.assert",
            Self.mapping([
              ("that", .sequence(.init([Self.string(check.that)]))),
              ("fail_msg", Self.string(check.failMessage)),
            ])
          ),
        ] + tasks.common + ignore + Self.when(tasks.conditions + ["\(tasks.register) is succeeded"])
      )
    }
  }

  /// A capture: the host's own value, and the latest one for hosts that did not capture it.
  func captureTasks(_ step: Step, _ tasks: StepTasks) -> [Node] {
    guard let name = step.attributes.capture else { return [] }
    let ran = tasks.conditions + ["\(tasks.register) is succeeded"]
    let latest =
      "{{ ansible_play_hosts | map('extract', hostvars) | selectattr('\(name)', 'defined') | map(attribute='\(name)') | list | last }}"
    return [
      Self.mapping(
        [
          ("name", Self.string("\(tasks.label): capture \(name)")),
          (
            "ansible.builtin.set_fact",
            Self.mapping([(name, Self.string("{{ \(tasks.register).stdout | trim }}"))])
          ),
        ] + tasks.common + Self.when(ran)),
      Self.mapping(
        [
          ("name", Self.string("\(tasks.label): latest \(name)")),
          (
            "ansible.builtin.set_fact",
            Self.mapping([("runbook_latest_\(name)", Self.string(latest))])
          ),
          ("delegate_to", Self.string("localhost")),
          ("delegate_facts", Node("true", Tag(.bool))),
          ("run_once", Node("true", Tag(.bool))),
        ] + tasks.common.filter { $0.0 == "no_log" } + Self.when(tasks.conditions)),
    ]
  }
}
