import Foundation

/// This machine: the session loop in a local `/bin/sh`.
final class LocalTransport: ShellSessionTransport {
  let host: PlanHost
  let context: TransportContext
  let session: HostSession
  let name = "local"

  init(host: PlanHost, context: TransportContext) {
    self.host = host
    self.context = context
    let file = HostSession.localScriptFile(
      stateToken: context.stateToken, environment: ProcessInfo.processInfo.environment)
    session = HostSession(
      host: host,
      launch: ProcessCommand(
        "/bin/sh", ["-c", HostSession.launcher(stateToken: context.stateToken), "runbook", file]),
      runner: context.runner, scriptFile: file, startTimeout: .seconds(context.ssh.connectTimeout),
      clock: context.clock)
  }

  func shell(_ script: String) -> ProcessCommand { ProcessCommand("/bin/sh", ["-c", script]) }

  func checkConnection() async -> String? { nil }

  var interactiveShell: ProcessCommand { interactive("exec \"${SHELL:-/bin/sh}\" -i") }

  func interactive(_ command: String) -> ProcessCommand {
    ProcessCommand("/bin/sh", ["-c", command])
  }

  func close(forget: Bool) async { await session.close(forget: forget) }
}
