import Foundation

/// A database client kept open on a host between consecutive `sql` steps with the same
/// `client=`, as an operator keeps one prompt open: what one step sets in it (`USE`, `\c`,
/// `SET`, temporary tables, `AUTH`) is there for the next. Any other step of the same
/// session (host and user) ends it, as the operator leaves the prompt to type a command;
/// the run's end does too. It lives in a private directory under the user's `TMPDIR` on
/// the host (`sql-client.sh`), and never longer than the host's session loop.
struct SQLClientSession: Sendable, Equatable {
  /// The directory's name, under `${TMPDIR:-/tmp}` on the host: random, as the client
  /// runs beside others (hosts that share a machine, other runs).
  var directory: String
  /// The `client=` command the steps share.
  var command: String
  /// Whether an earlier step left this client open (a step that finds it gone says so).
  var continues = false
  /// Minutes without a step after which the client ends; nil: it ends with the host's
  /// session loop.
  var idleMinutes: Int?

  /// A new client for `command`.
  init(command: String) {
    directory = "runbook-client-" + Digest.randomHex(8)
    self.command = command
  }

  /// The client of an exported playbook's SQL tasks that `opener` opened: named after the
  /// run's session on the host (`RUNBOOK_SESSION_ID`, in each task's environment), since
  /// every task is a process of its own. No loop outlives the tasks to end it: the next
  /// task that leaves it does, or the playbook's last play, or half an hour without a task.
  init(exportedFrom opener: String, command: String, continues: Bool) {
    directory =
      "runbook-client-\"$RUNBOOK_SESSION_ID\"-"
      + Digest.sha256(Data(opener.utf8)).prefix(12)
    self.command = command
    self.continues = continues
    idleMinutes = 30
  }

  /// Lines that end every client of the exported playbook's run on the host.
  static var endExportedScript: String {
    "for runbook_client_dir in \"${TMPDIR:-/tmp}\"/runbook-client-\"$RUNBOOK_SESSION_ID\"-*; do\n"
      + "  [ ! -d \"$runbook_client_dir\" ] || (\n" + EmbeddedScripts.sqlClient
      + "runbook_client_end\n) 2>/dev/null\ndone\n"
  }

  /// The shell line that names the client's directory for `sql-client.sh`.
  var assignment: String {
    "runbook_client_dir=\"${TMPDIR:-/tmp}\"/\(directory)"
  }

  /// Lines that end the client, whatever the shell they run in: a subshell, so none of
  /// the functions or variables reach a session's state.
  var endScript: String {
    "(\n" + EmbeddedScripts.sqlClient + assignment + "\nrunbook_client_end\n) 2>/dev/null\n"
  }
}

extension RunState {
  /// The client a `sql` step of session `key` types into: the one an earlier step left
  /// open with the same command, else a new one (and the lines that end the one it
  /// replaces).
  func joinClient(_ key: SessionKey, command: String) -> (
    client: SQLClientSession, ending: SQLClientSession?
  ) {
    if var open = clients[key], open.command == command {
      open.continues = true
      return (open, nil)
    }
    let new = SQLClientSession(command: command)
    let ending = clients[key]
    clients[key] = new
    return (new, ending)
  }

  /// Session `key` leaves its client, if one is open: it is returned to be ended.
  func leaveClient(_ key: SessionKey) -> SQLClientSession? {
    clients.removeValue(forKey: key)
  }

  /// A `sql` step of session `key` was done by an earlier attempt of the run: the next one
  /// with the same command would have found its client open (it says so if it is gone).
  func rememberClient(_ key: SessionKey, command: String?) {
    guard let command else {
      clients[key] = nil
      return
    }
    if clients[key]?.command != command { clients[key] = SQLClientSession(command: command) }
  }

  /// The clients still open, each with its session, to be ended with the run.
  func openClients() -> [(key: SessionKey, client: SQLClientSession)] {
    clients.map { ($0.key, $0.value) }
  }
}
