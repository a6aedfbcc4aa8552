import Foundation
import Yams

/// The session in the exported playbook: each shell task sets up the state the tasks before
/// it left on its host, as its user, and writes the state it leaves, in a file on the host
/// (`Scripts/export-session.sh`), so that `ansible-playbook` runs every step where `exec`
/// would, with what `exec` would give it.
extension PlaybookBuilder {
  /// The shell functions of the session, read by each task from its environment.
  static var sessionLibrary: String {
    ScriptTemplate("export-session.sh", text: EmbeddedScripts.exportSession)
      .rendered(["OWN_NAMES": ShellState.ownNamesPattern])
  }

  /// `group_vars/all/runbook_session.yml`: the functions as a variable Ansible never
  /// templates (`!unsafe`: shell text holds `{#` and `{{`).
  static var sessionVariablesFile: AnsibleExport.File {
    let lines = sessionLibrary.split(separator: "\n", omittingEmptySubsequences: false)
    let body = lines.map { $0.isEmpty ? "" : "  " + $0 }.joined(separator: "\n")
    return AnsibleExport.File(
      path: "group_vars/all/runbook_session.yml",
      text: "# The session of the shell tasks (see the playbook's first play).\n"
        + "runbook_session: !unsafe |\n" + body + (body.hasSuffix("\n") ? "" : "\n"))
  }

  /// How a step takes part in its host's session, as in `exec`.
  func sessionUse(_ step: Step) -> SessionUse {
    plan.runbook.sessionUse(step.kind, step.attributes)
  }

  /// The lines a step's script starts with (set up the session) and ends with (write it,
  /// without the step's own `env=` values).
  func sessionScript(_ step: Step, _ rendered: RenderedStep) -> (prelude: String, epilogue: String)
  {
    let use = sessionUse(step)
    guard use != .none else { return ("", "") }
    var prelude = "eval \"$RUNBOOK_SESSION\"\nrunbook_session_restore\n"
    guard use == .carries else { return (prelude, "") }
    var epilogue = ""
    for (name, value) in StepScript.environment(rendered.fields[.env] ?? "")
    where ShellState.isCarried(name) {
      prelude += "runbook_session_keep \(name)\n"
      epilogue += "runbook_session_unkeep \(name) \(ShellQuote.word(value))\n"
    }
    if step.attributes.runme {
      // A Runme cell leaves only what it exported, as exec keeps it: the session goes back
      // to where the cell found it, its exports put over it (at the top level: bash's
      // declare in a function would make them local). Before the first cell, that place is
      // the task's fresh shell, written down first.
      prelude += "[ -f \"$runbook_session_file\" ] || runbook_session_save\n"
      epilogue +=
        "runbook_session_exports=$(export -p)\nrunbook_session_restore\n"
        + "set +e\neval \"$runbook_session_exports\" 2>/dev/null\nset -e\n"
        // export -p lists PWD too: the directory is the one the cell found, not its own.
        + "cd -- \"$runbook_session_cwd\"\n"
    }
    return (prelude, epilogue + "runbook_session_save\n")
  }

  /// The variables of a command task's environment: the host's inventory name, as exec
  /// gives it (Ansible passes them to the shell as quoted assignments, never as script
  /// text), and, for a task in the session, its functions and the run's session name.
  func taskEnvironment(_ step: Step) -> (String, Node) {
    let host = ("RUNBOOK_HOST", Self.string("{{ inventory_hostname }}"))
    return (
      "environment",
      Self.mapping([host] + (sessionUse(step) == .none ? [] : Self.sessionEnvironment))
    )
  }

  /// What a task in the session finds in its environment: the session's functions and
  /// the name of its host's sessions in this run.
  static var sessionEnvironment: [(String, Node)] {
    [
      ("RUNBOOK_SESSION", string("{{ runbook_session }}")),
      ("RUNBOOK_SESSION_ID", string(sessionName)),
    ]
  }

  /// Notes that `hosts` keep a session as the user `common`'s `become` keys say.
  mutating func noteSessionUser(_ common: [(String, Node)], _ hosts: [String]) {
    let become = common.filter { $0.0 == "become" || $0.0 == "become_user" }
    let key = become.map { "\($0.0)=\($0.1.string ?? "")" }
    if let index = sessionUsers.firstIndex(where: {
      $0.become.map { "\($0.0)=\($0.1.string ?? "")" } == key
    }) {
      sessionUsers[index].hosts += hosts.filter { !sessionUsers[index].hosts.contains($0) }
    } else {
      sessionUsers.append((become, hosts))
    }
  }

  /// The name of a host's sessions in this run: the run's, then the host's inventory name
  /// (hosts may share a file system, as test hosts on loopback do).
  static let sessionName =
    "{{ hostvars['localhost']['runbook_session_id'] }}-{{ inventory_hostname | runbook_file_name }}"

  /// The first play: names this run's sessions (a new run starts from fresh ones).
  static var sessionStartPlay: Node {
    mapping([
      ("name", string("runbook: name this run's sessions")),
      ("hosts", string("localhost")),
      ("gather_facts", Node("false", Tag(.bool))),
      (
        "tasks",
        .sequence([
          mapping([
            ("name", string("runbook: session name")),
            (
              "ansible.builtin.set_fact",
              mapping([
                (
                  "runbook_session_id",
                  string("{{ now(utc=true, fmt='%Y%m%dT%H%M%S%f') }}-{{ 2147483647 | random }}")
                )
              ])
            ),
          ])
        ])
      ),
    ])
  }

  /// The last play: removes the state files the run left (they may hold secrets), on each
  /// host as each user whose session it has. A run that fails before it leaves them, 0600
  /// in the user's own state directory.
  func sessionEndPlay(_ users: [(become: [(String, Node)], hosts: [String])]) -> Node? {
    guard !users.isEmpty else { return nil }
    // The SQL clients the SQL tasks kept open end with the sessions.
    let keepsClients = plan.steps.contains { planned in
      planned.step.kind == .sql && sessionUse(planned.step) != .none
        && SQLClient(planned.step.attributes.client ?? "mysql") != nil
    }
    let tasks = users.map { user in
      Self.mapping(
        [
          ("name", Self.string("runbook: remove the session's state")),
          (
            "ansible.builtin.shell",
            Self.mapping([
              (
                "cmd",
                Self.string(
                  "eval \"$RUNBOOK_SESSION\"\n"
                    + "command -p rm -f -- \"$runbook_session_file\" \"$runbook_session_file.bash\"\n"
                    + (keepsClients ? SQLClientSession.endExportedScript : "")
                )
              ),
              ("executable", Self.string("/bin/sh")),
            ])
          ),
          ("environment", Self.mapping(Self.sessionEnvironment)),
          ("changed_when", Node("false", Tag(.bool))),
        ] + user.become + Self.when(["inventory_hostname in " + Self.jsonList(user.hosts)]))
    }
    return Self.mapping([
      ("name", Self.string("runbook: remove the sessions' state")),
      // All the written inventory's hosts (the plan's): each task says which of them it is
      // for, so no host name is ever read as a host pattern (`a:!b`).
      ("hosts", Self.string("all")),
      ("gather_facts", Node("false", Tag(.bool))),
      ("tasks", .sequence(.init(tasks))),
    ])
  }
}
