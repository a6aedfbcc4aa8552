import Foundation

/// How the system OpenSSH client is used: one multiplexed master per host, control sockets
/// in a private directory, BatchMode (never a password prompt), a connect timeout. The
/// user's `~/.ssh/config`, agent and known_hosts apply as usual; host keys are checked.
public struct SSHSettings: Sendable {
  /// The 0700 directory holding the control sockets.
  public var controlDirectory: String
  /// `-F FILE`: an ssh configuration instead of `~/.ssh/config`.
  public var configFile: String?
  /// More `-o Key=Value` options, given as `Key=Value`.
  public var options: [String] = []
  /// Seconds to wait for a connection.
  public var connectTimeout = 10
  /// Seconds a master outlives its last client. The run closes its masters at the end; a
  /// short time also ends them soon when the tool itself is killed.
  public var controlPersist = 15

  /// Creates settings with a fresh private control directory.
  public static func makePrivate() throws -> SSHSettings {
    var template = Array("/tmp/runbook-ssh-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw CocoaError(
        .fileWriteUnknown,
        userInfo: [NSLocalizedDescriptionKey: "cannot create a control directory in /tmp"])
    }
    return SSHSettings(controlDirectory: String(cString: made))
  }

  /// Creates settings.
  public init(controlDirectory: String, configFile: String? = nil, options: [String] = []) {
    self.controlDirectory = controlDirectory
    self.configFile = configFile
    self.options = options
  }
}

/// The commands that reach one host: a shell for a step, a connectivity check, stopping a
/// remote process group, closing the master.
public struct HostConnection: Sendable {
  /// The host.
  public var host: PlanHost
  /// The ssh settings (unused for local hosts).
  public var ssh: SSHSettings

  /// Creates a connection.
  public init(host: PlanHost, ssh: SSHSettings) {
    self.host = host
    self.ssh = ssh
  }

  /// The ssh options for this host, without the destination. Inventory values only ever
  /// appear as the value of an option (`-p`, `-l`, `-i`), never as an option themselves,
  /// and the planner has refused any that starts with `-`.
  private var sshOptions: [String] {
    var args = [
      "-o", "BatchMode=yes", "-o", "ControlMaster=auto",
      "-o", "ControlPath=\(ssh.controlDirectory)/%C", "-o", "ControlPersist=\(ssh.controlPersist)",
      "-o", "ConnectTimeout=\(ssh.connectTimeout)", "-o", "ServerAliveInterval=15",
    ]
    if let config = ssh.configFile { args = ["-F", config] + args }
    for option in ssh.options { args += ["-o", option] }
    if let port = host.port { args += ["-p", String(port)] }
    if let user = host.user { args += ["-l", user] }
    if let key = host.privateKeyFile { args += ["-i", key] }
    return args
  }

  /// Options, then `--` so that nothing after it is read as an option, then the address.
  private var sshArguments: [String] { sshOptions + ["-T", "--", host.address] }

  /// The words that run a script file with `shell`, as another user when asked: the
  /// session turns `RUNBOOK-AS USER SHELL` into `runuser` when it runs as root and into
  /// `sudo -n` otherwise (`-` for root).
  public func shellWords(_ shell: StepScript.Shell, become: Bool, user: String?) -> [String] {
    guard become || user != nil || host.become else { return [shell.rawValue] }
    return ["RUNBOOK-AS", user ?? "-", shell.rawValue]
  }

  /// The command that runs a host's session shell (see `HostSession`): over ssh, or a
  /// local `/bin/sh` for a local host.
  public func session(stateToken: String) -> ProcessCommand {
    let loop = HostSession.server(stateToken: stateToken)
    switch host.connection {
    case .local: return ProcessCommand("/bin/sh", ["-c", loop])
    case .ssh: return ProcessCommand("ssh", sshArguments + ["exec /bin/sh -c '\(loop)'"])
    }
  }

  /// The command that stops a step's process group (TERM, then KILL), found by the pid the
  /// session recorded for `nonce` on the host.
  /// Its standard input is `secretInput`.
  public func stop(stateToken: String, nonce: String, become: Bool) -> ProcessCommand {
    let script = HostSession.stopScript(
      stateToken: stateToken, nonce: nonce, escalated: become || host.become)
    switch host.connection {
    case .local: return ProcessCommand("/bin/sh", ["-c", script])
    case .ssh: return ProcessCommand("ssh", sshArguments + ["exec /bin/sh -c '\(script)'"])
    }
  }

  /// An interactive login shell on the host (for `--interactive`'s "open a shell").
  public var interactiveShell: ProcessCommand {
    switch host.connection {
    case .local:
      return ProcessCommand("/bin/sh", ["-c", "exec \"${SHELL:-/bin/sh}\" -i"])
    case .ssh:
      return ProcessCommand("ssh", sshOptions + ["-t", "--", host.address])
    }
  }

  /// The command that checks the host answers (and opens the master connection).
  public var check: ProcessCommand {
    switch host.connection {
    case .local: return ProcessCommand("/bin/sh", ["-c", "true"])
    case .ssh: return ProcessCommand("ssh", sshArguments + ["true"])
    }
  }

  /// What the stop and the escalation check read on standard input: the become password's
  /// line, or nothing.
  public var secretInput: String { host.becomePassword.map { $0 + "\n" } ?? "" }

  /// The command that checks, before a run, that the host can run steps as `users` (`-`
  /// for root, as `become` does): as root, that each user exists (runuser needs nothing
  /// else); otherwise that sudo works for each, without a password or with the become
  /// password (read from `secretInput`), so that a wrong one stops the run before it starts.
  public func escalationCheck(users: [String]) -> ProcessCommand {
    let words = users.map(ShellQuote.word).joined(separator: " ")
    let script = """
      if [ "$(id -u)" = 0 ]; then
        for u in \(words); do [ "$u" = - ] || id -u "$u" >/dev/null 2>&1 || { echo "there is no user $u" >&2; exit 1; }; done
        exit 0
      fi
      IFS= read -r pw || pw=
      for u in \(words); do
        [ "$u" = - ] && u=root
        if [ -z "$pw" ]; then sudo -n -u "$u" true || exit 1; continue; fi
        sudo -k -n -u "$u" true 2>/dev/null && continue
        e=$(printf "%s\\n" "$pw" | sudo -k -S -p "" -u "$u" true 2>&1) && continue
        echo "sudo -u $u refused the become password: $(printf "%s\\n" "$e" | tail -n 1)" >&2
        exit 1
      done
      """
    switch host.connection {
    case .local: return ProcessCommand("/bin/sh", ["-c", script])
    case .ssh:
      return ProcessCommand("ssh", sshArguments + ["exec /bin/sh -c \(ShellQuote.word(script))"])
    }
  }

  /// The command that closes the master connection.
  public var closeMaster: ProcessCommand? {
    guard host.connection == .ssh else { return nil }
    return ProcessCommand("ssh", ["-O", "exit"] + sshOptions + ["--", host.address])
  }
}
