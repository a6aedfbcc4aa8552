import Foundation

/// The shell scripts of the session protocol, kept as files in `Scripts` (the loop a host
/// runs, its runner, the stop of a step, the escalation check) and filled in here. None
/// holds a single quote: they travel inside single quotes over ssh.
extension HostSession {
  /// The command that runs the loop: under bash when the host has it (job control gives
  /// each step its process group without an exec), else under `/bin/sh`. Its arguments go
  /// to the loop: a local session names the script file the tool writes itself.
  static func launcher(stateToken: String) -> String {
    let template = ScriptTemplate("session-launcher.sh", text: EmbeddedScripts.sessionLauncher)
    return template.rendered(["LOOP": ShellQuote.word(server(stateToken: stateToken))])
  }

  /// The script file of a local session: in the run's state directory, where the loop
  /// takes it from (`RUN`), so that the script does not travel through the loop's
  /// standard input, which a shell can only read a byte at a time.
  static func localScriptFile(stateToken: String, environment: [String: String]) -> String {
    let tmp = environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
    let digits = (0..<12).map { _ in String(Int.random(in: 0...9)) }.joined()
    let directory = SessionProtocol.stateDirectory(token: stateToken)
    return "\(tmp)/\(directory)/\(SessionProtocol.scriptFilePrefix)\(digits).sh"
  }

  /// The loop the shell runs (no single quotes: it travels inside them over ssh);
  /// `stateToken` names the run's state directory.
  static func server(stateToken: String) -> String {
    let template = ScriptTemplate("session-loop.sh", text: EmbeddedScripts.sessionLoop)
    var values = SessionProtocol.words(of: template)
    values["STATE_DIRECTORY"] = SessionProtocol.stateDirectory(token: stateToken)
    values["RUNNER"] = ShellQuote.insideDoubleQuotes(runner)
    return template.rendered(values)
  }

  /// The runner's loop (POSIX sh, and bash): for each line (the step's nonce), the started
  /// line on the status file (fd 4), then the script file (`$0`) in a subshell that holds
  /// none of the runner's variables, descriptors or arguments; then the step's status.
  static let runner: String = {
    let template = ScriptTemplate("session-runner.sh", text: EmbeddedScripts.sessionRunner)
    return template.rendered(SessionProtocol.words(of: template))
  }()

  /// The shell script that stops a step: its pid comes from the state file the loop wrote,
  /// so nothing a step prints can choose what is killed; a step that has ended is left.
  /// A step that runs as another user is signalled through sudo (unless the stop runs as
  /// root), which reads the become password, when there is one, from the first line of
  /// the script's standard input.
  static func stopScript(stateToken: String, nonce: String, escalated: Bool) -> String {
    let template = ScriptTemplate("stop-step.sh", text: EmbeddedScripts.stopStep)
    var values = SessionProtocol.words(of: template)
    values["STATE_DIRECTORY"] = SessionProtocol.stateDirectory(token: stateToken)
    values["NONCE"] = nonce
    values["ESCALATED"] = escalated ? "1" : ""
    return template.rendered(values)
  }

  /// The script that checks, before a run, that the host can run steps as `users` (`-`
  /// for root, as `become` does): as root, that each user exists (runuser needs nothing
  /// else); otherwise that sudo works for each, without a password or with the become
  /// password (its first line of input), so that a wrong one stops the run before it starts.
  static func escalationCheck(users: [String]) -> String {
    let template = ScriptTemplate("escalation-check.sh", text: EmbeddedScripts.escalationCheck)
    return template.rendered(["USERS": users.map(ShellQuote.word).joined(separator: " ")])
  }
}
