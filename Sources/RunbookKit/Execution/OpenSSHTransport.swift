import Foundation

/// A host reached with the system OpenSSH client: one multiplexed master per host, control
/// sockets in a private directory, BatchMode (never a password prompt), a connect timeout.
/// The user's `~/.ssh/config`, agent and known_hosts apply as usual; host keys are checked.
final class OpenSSHTransport: ShellSessionTransport {
  let host: PlanHost
  let context: TransportContext
  let session: HostSession
  let name = "ssh"

  init(host: PlanHost, context: TransportContext) {
    self.host = host
    self.context = context
    let launch = Self.command(
      host: host, ssh: context.ssh,
      script: HostSession.server(stateToken: context.stateToken))
    session = HostSession(host: host, launch: launch, runner: context.runner)
  }

  /// The ssh options for this host, without the destination. Inventory values only ever
  /// appear as the value of an option (`-p`, `-l`, `-i`), never as an option themselves,
  /// and the planner has refused any that starts with `-`.
  static func options(host: PlanHost, ssh: SSHSettings) -> [String] {
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

  /// `/bin/sh -c SCRIPT` on the host: options, then `--` so that nothing after it is read
  /// as an option, then the address, then the remote command with the script quoted once.
  static func command(host: PlanHost, ssh: SSHSettings, script: String) -> ProcessCommand {
    ProcessCommand(
      "ssh",
      options(host: host, ssh: ssh)
        + ["-T", "--", host.address, "exec /bin/sh -c \(ShellQuote.word(script))"])
  }

  func shell(_ script: String) -> ProcessCommand {
    Self.command(host: host, ssh: context.ssh, script: script)
  }

  func checkConnection() async -> String? {
    let errors = LineBuffer()
    let outcome = await context.runner.run(
      ProcessCommand(
        "ssh", Self.options(host: host, ssh: context.ssh) + ["-T", "--", host.address, "true"]),
      input: "", timeout: .seconds(context.ssh.connectTimeout + 5), stdout: { _ in },
      stderr: { errors.append($0) })
    guard !outcome.succeeded else { return nil }
    return errors.firstLine ?? (outcome.timedOut ? "no answer in time" : "ssh failed")
  }

  var interactiveShell: ProcessCommand {
    ProcessCommand("ssh", Self.options(host: host, ssh: context.ssh) + ["-t", "--", host.address])
  }

  func close(forget: Bool) async {
    await session.close(forget: forget)
    _ = await context.runner.run(
      ProcessCommand(
        "ssh", ["-O", "exit"] + Self.options(host: host, ssh: context.ssh) + ["--", host.address]),
      input: "", timeout: .seconds(10), stdout: { _ in }, stderr: { _ in })
  }
}
