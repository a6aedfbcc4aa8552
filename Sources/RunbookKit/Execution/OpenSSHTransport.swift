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
      script: HostSession.launcher(stateToken: context.stateToken))
    session = HostSession(
      host: host, launch: launch, runner: context.runner,
      startTimeout: .seconds(context.ssh.connectTimeout), clock: context.clock)
  }

  /// The ssh options for this host, without the destination. Inventory values only ever
  /// appear as the value of an option (`-p`, `-l`, `-i`), never as an option themselves,
  /// and the planner has refused any that starts with `-`.
  ///
  /// Only `checkConnection` starts the host's master (`master: true`); every other ssh
  /// joins it or, when it is gone, connects on its own. A master started as a side effect
  /// of a session (`ControlMaster=auto`) would fork off holding that session's pipes.
  static func options(host: PlanHost, ssh: SSHSettings, master: Bool = false) -> [String] {
    var args = [
      "-o", "BatchMode=yes", "-o", "ControlMaster=\(master ? "auto" : "no")",
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

  /// Connects and leaves the host's master running in the background (`-N -f`: it
  /// detaches once logged in, with its standard streams on /dev/null). Hosts that name the
  /// same machine share one master, started once: two masters racing for one control
  /// socket would leave the loser running as a plain connection nobody can close.
  func checkConnection() async -> String? {
    let key = masterKey
    let runner = context.runner
    let command = ProcessCommand(
      "ssh",
      Self.options(host: host, ssh: context.ssh, master: true) + [
        "-N", "-f", "-T", "--", host.address,
      ])
    let timeout = Duration.seconds(context.ssh.connectTimeout + 5)
    let start = Self.masters.withLock { started in
      if let running = started[key] { return running }
      let task = Task<String?, Never> {
        let errors = LineBuffer()
        let outcome = await runner.run(
          command, input: "", timeout: timeout, stdout: { _ in }, stderr: { errors.append($0) })
        guard !outcome.succeeded else { return nil }
        let why = errors.firstLine ?? (outcome.timedOut ? "no answer in time" : "ssh failed")
        return await hostKeyHint(errors.lines).map { "\(why) — \($0)" } ?? why
      }
      started[key] = task
      return task
    }
    let why = await start.value
    if why != nil { Self.masters.withLock { $0[key] = nil } }
    return why
  }

  /// What to do when ssh refused the host's key, naming the known_hosts files ssh reads
  /// for this host (`ssh -G`); nil for any other failure.
  private func hostKeyHint(_ lines: [String]) async -> String? {
    let changed = lines.contains { $0.contains("REMOTE HOST IDENTIFICATION HAS CHANGED") }
    guard changed || lines.contains(where: { $0.contains("Host key verification failed") }) else {
      return nil
    }
    let settings = LineBuffer()
    _ = await context.runner.run(
      ProcessCommand(
        "ssh", Self.options(host: host, ssh: context.ssh) + ["-G", "--", host.address]),
      input: "", timeout: .seconds(10), stdout: { settings.append($0) }, stderr: { _ in })
    let files =
      settings.lines.first { $0.hasPrefix("userknownhostsfile ") }
      .map { String($0.dropFirst("userknownhostsfile ".count)) } ?? "~/.ssh/known_hosts"
    let first = files.split(separator: " ").first.map(String.init) ?? files
    let target = host.port.map { "[\(host.address)]:\($0)" } ?? host.address
    if changed {
      return
        "the host's key is not the one recorded in \(files): if the change is expected (a reinstalled host), remove the old key with ssh-keygen -R '\(target)' -f \(first) and connect again"
    }
    let scan = "ssh-keyscan \(host.port.map { "-p \($0) " } ?? "")\(host.address) >> \(first)"
    return
      "ssh does not know this host's key (known_hosts: \(files)); either add it once you have checked its fingerprint (\(scan)), or let ssh accept the key of a host it has never seen: --ssh-option StrictHostKeyChecking=accept-new (or a Host entry in a file given with --ssh-config)"
  }

  /// The masters started by this process, by control directory and destination.
  private static let masters = Locked<[String: Task<String?, Never>]>([:])

  /// What makes two hosts one ssh destination (ssh's `%C` is a hash of the same).
  private var masterKey: String {
    [
      context.ssh.controlDirectory, context.ssh.configFile ?? "", host.address,
      host.port.map(String.init) ?? "", host.user ?? "", host.privateKeyFile ?? "",
    ].joined(separator: "\u{0}")
  }

  var interactiveShell: ProcessCommand {
    ProcessCommand("ssh", Self.options(host: host, ssh: context.ssh) + ["-t", "--", host.address])
  }

  func interactive(_ command: String) -> ProcessCommand {
    ProcessCommand(
      "ssh", Self.options(host: host, ssh: context.ssh) + ["-t", "--", host.address, command])
  }

  func close(forget: Bool) async {
    await session.close(forget: forget)
    let key = masterKey
    Self.masters.withLock { $0[key] = nil }
    _ = await context.runner.run(
      ProcessCommand(
        "ssh", ["-O", "exit"] + Self.options(host: host, ssh: context.ssh) + ["--", host.address]),
      input: "", timeout: .seconds(10), stdout: { _ in }, stderr: { _ in })
  }
}

extension OpenSSHTransport {
  /// Why a host's connection values cannot be handed to ssh, if they cannot: every one of
  /// them becomes an argument of the ssh client on the control machine, so none may start
  /// with `-` (ssh would read it as an option), hold white space or control characters, or
  /// be empty; the address is a host name or an IP address and nothing else.
  @Sendable static func connectionValueProblem(_ host: PlanHost) -> ConnectionValueProblem? {
    func unsafe(_ value: String) -> String? {
      ArgumentValue.problem(value) ?? ArgumentValue.templateProblem(value)
    }
    let which = host.address == host.name ? "the name (used as its address)" : "ansible_host"
    if let why = unsafe(host.address) {
      return ConnectionValueProblem(what: which, value: host.address, why: why)
    }
    let allowed = CharacterSet(
      charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_:%[]")
    if !host.address.unicodeScalars.allSatisfy(allowed.contains) {
      return ConnectionValueProblem(
        what: which, value: host.address,
        why:
          "an address is a host name or an IP address (letters, digits, '.', '-', '_', ':', '%', '[]')"
      )
    }
    if let user = host.user, let why = unsafe(user) ?? ArgumentValue.nameProblem(user) {
      return ConnectionValueProblem(what: "ansible_user", value: user, why: why)
    }
    if let key = host.privateKeyFile, let why = unsafe(key) {
      return ConnectionValueProblem(what: "ansible_ssh_private_key_file", value: key, why: why)
    }
    return nil
  }
}
