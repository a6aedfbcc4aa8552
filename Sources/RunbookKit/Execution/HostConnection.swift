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
  /// Seconds a master outlives its last use (the run closes masters at its end).
  public var controlPersist = 300

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

  /// The prefix of the line a host's session prints when it starts a step: the pid of the
  /// step's shell, which `setsid` made a process group leader, so a stop kills exactly it.
  public static let groupMarker = "\u{1}RUNBOOK-PGID "

  /// Creates a connection.
  public init(host: PlanHost, ssh: SSHSettings) {
    self.host = host
    self.ssh = ssh
  }

  private var sshArguments: [String] {
    var args = [
      "-o", "BatchMode=yes", "-o", "ControlMaster=auto",
      "-o", "ControlPath=\(ssh.controlDirectory)/%C", "-o", "ControlPersist=\(ssh.controlPersist)",
      "-o", "ConnectTimeout=\(ssh.connectTimeout)", "-o", "ServerAliveInterval=15", "-T",
    ]
    if let config = ssh.configFile { args = ["-F", config] + args }
    for option in ssh.options { args += ["-o", option] }
    if let port = host.port { args += ["-p", String(port)] }
    if let user = host.user { args += ["-l", user] }
    if let key = host.privateKeyFile { args += ["-i", key] }
    return args + [host.address, "--"]
  }

  private func privilege(_ become: Bool, _ user: String?) -> String {
    guard become || user != nil || host.become else { return "" }
    return "sudo -n " + (user.map { "-u \(ShellQuote.word($0)) " } ?? "") + "-- "
  }

  /// The words that run a script file with `shell`, through sudo when asked.
  public func shellWords(_ shell: StepScript.Shell, become: Bool, user: String?) -> [String] {
    guard become || user != nil || host.become else { return [shell.rawValue] }
    return ["sudo", "-n"] + (user.map { ["-u", $0] } ?? []) + ["--", shell.rawValue]
  }

  /// The local command that runs a script read from standard input by `shell`.
  public func localShell(_ shell: StepScript.Shell, become: Bool, user: String?) -> ProcessCommand {
    let sudo = privilege(become, user)
    if sudo.isEmpty { return ProcessCommand(shell.rawValue, ["-s"]) }
    return ProcessCommand("/bin/sh", ["-c", "exec \(sudo)\(shell.rawValue) -s"])
  }

  /// The ssh command that runs a host's session: `loop`, a POSIX shell script, in `/bin/sh`.
  public func remoteLoop(_ loop: String) -> ProcessCommand {
    ProcessCommand("ssh", sshArguments + ["exec /bin/sh -c '\(loop)'"])
  }

  /// The command that stops the process group of a remote shell (TERM, then KILL).
  ///
  /// Without sudo the shell is the session leader sshd made, so its pid is the group; with
  /// sudo the group is looked up while the shell still lives.
  public func stopRemote(process pid: Int32, become: Bool) -> ProcessCommand? {
    guard host.connection == .ssh else { return nil }
    let sudo = privilege(become, nil)
    let script =
      "g=\"$(ps -o pgid= -p \(pid) 2>/dev/null | tr -d ' ') \(pid)\"; "
      + "for x in $g; do \(sudo)kill -TERM -- -$x 2>/dev/null; done; sleep 1; "
      + "for x in $g; do \(sudo)kill -KILL -- -$x 2>/dev/null; done; true"
    return ProcessCommand("ssh", sshArguments + [script])
  }

  /// An interactive login shell on the host (for `--interactive`'s "open a shell").
  public var interactiveShell: ProcessCommand {
    switch host.connection {
    case .local:
      return ProcessCommand("/bin/sh", ["-c", "exec \"${SHELL:-/bin/sh}\" -i"])
    case .ssh:
      var args = sshArguments
      args.removeLast()
      return ProcessCommand("ssh", args.filter { $0 != "-T" } + ["-t"])
    }
  }

  /// The command that checks the host answers (and opens the master connection).
  public var check: ProcessCommand {
    switch host.connection {
    case .local: return ProcessCommand("/bin/sh", ["-c", "true"])
    case .ssh: return ProcessCommand("ssh", sshArguments + ["true"])
    }
  }

  /// The command that closes the master connection.
  public var closeMaster: ProcessCommand? {
    guard host.connection == .ssh else { return nil }
    var args = sshArguments
    args.removeLast()
    return ProcessCommand("ssh", ["-O", "exit"] + args)
  }
}
