import Foundation

/// A transport whose host runs `HostSession`'s loop in a POSIX shell, reached by a command:
/// the local and OpenSSH transports. What differs between them is only how a shell
/// command reaches the host.
protocol ShellSessionTransport: Transport {
  /// What the transports of the run share.
  var context: TransportContext { get }
  /// The host's session, opened on first use.
  var session: HostSession { get }
  /// The command that runs `script` with `/bin/sh` on the host.
  func shell(_ script: String) -> ProcessCommand
}

extension ShellSessionTransport {
  /// The command that runs the session loop on the host.
  func sessionCommand() -> ProcessCommand {
    shell(HostSession.launcher(stateToken: context.stateToken))
  }

  /// What the stop and the escalation check read on standard input: the become password's
  /// line, or nothing.
  var secretInput: String { host.becomePassword.map { $0 + "\n" } ?? "" }

  func checkEscalation(users: [String]) async -> String? {
    let errors = LineBuffer()
    let outcome = await context.runner.run(
      shell(HostSession.escalationCheck(users: users)), input: secretInput,
      timeout: .seconds(context.ssh.connectTimeout + 10), stdout: { _ in },
      stderr: { errors.append($0) })
    return outcome.succeeded ? nil : errors.firstLine ?? "sudo -n failed"
  }

  func run(
    _ script: StepScript, as user: String?, timeout: Duration?, collector: OutputCollector
  ) async -> CommandOutcome {
    let escalated = user != nil || host.become
    let stop = shell(
      HostSession.stopScript(
        stateToken: context.stateToken, nonce: script.nonce, escalated: escalated))
    let runner = context.runner
    let input = secretInput
    let words = SessionProtocol.command(
      shell: script.shell.rawValue, user: user, escalated: escalated,
      ownShell: script.namesItsShellPID)
    return await session.run(
      script, command: words, timeout: timeout, collector: collector,
      stop: {
        _ = await runner.run(
          stop, input: input, timeout: .seconds(10), stdout: { _ in }, stderr: { _ in })
      })
  }

  func ask(about attemptID: String) async -> RemoteState? {
    await session.query(attemptID)
  }
}
