import Foundation

extension HostStepRunner {
  /// Opens the operator's shell on a host of the plan (`o` after a failure), in the session
  /// the steps left there for the login user: its directory, variables and (under bash)
  /// functions, as if the operator typed into the guide's terminal. The session comes as an
  /// rc file, 0600 in the user's `TMPDIR` on the host, that removes itself as it is read
  /// (and is removed again once the shell ends, in case the shell never read it).
  func openShell(on name: String, interaction: any Interaction) async {
    guard let host = plan.hosts.first(where: { $0.name == name }) else { return }
    let transport = context.transports.transport(for: host)
    let session = await context.state.session(SessionKey(host: name, user: nil)).sinceStart
    guard !session.isEmpty else {
      await interaction.openShell(transport.interactiveShell)
      return
    }
    let nonce = StepScript.makeNonce()
    let file = "\"${TMPDIR:-/tmp}\"/runbook-shell-\(nonce)"
    // An inventory's name reaches the operator's terminal: its control characters shown.
    let shown = TerminalText.visible(name)
    let note =
      "runbook: this shell is in the session the steps left on \(shown); exit returns to the run"
    let rc =
      "[ -z \"${BASH_VERSION:-}\" ] || [ ! -f ~/.bashrc ] || . ~/.bashrc\nrm -f -- \(file)\n"
      + session.restoreScript(staysOpen: true) + "printf '%s\\n' \(ShellQuote.word(note))\n"
    let write = "umask 077\nset -C\ncat > \(file) <<'\(nonce)'\n\(rc)\(nonce)\n"
    let written = await transport.runQuietly(write, as: nil)
    guard written == 0 else {
      echo?(
        "runbook: the session could not be set up on \(shown) (exit \(written.map(String.init) ?? "unknown")): the shell starts as a new login"
      )
      await interaction.openShell(transport.interactiveShell)
      return
    }
    await interaction.openShell(
      transport.interactive(
        "f=\(file); if command -v bash >/dev/null 2>&1; then exec bash --rcfile \"$f\" -i; else ENV=$f; export ENV; exec sh -i; fi"
      ))
    _ = await transport.runQuietly("rm -f -- \(file)\n", as: nil)
  }
}
