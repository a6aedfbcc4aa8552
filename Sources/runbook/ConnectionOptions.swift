import ArgumentParser
import Foundation
import RunbookKit

/// How hosts are reached: the options every subcommand that reads an inventory takes, so
/// that a command line copied from `exec` to `check`, `plan` or `export` still parses.
struct ConnectionOptions: ParsableArguments {
  @Option(help: "An ssh configuration file to use instead of ~/.ssh/config (ssh -F).")
  var sshConfig: String?

  @Option(
    help: "An extra ssh option, Key=Value (repeatable), like StrictHostKeyChecking=accept-new.")
  var sshOption: [String] = []

  @Option(
    help:
      "Seconds a host has to start its session (connect, log in, start the shell) before it fails.")
  var connectTimeout = SSHSettings.defaultConnectTimeout

  func validate() throws {
    if let sshConfig, !FileManager.default.isReadableFile(atPath: sshConfig) {
      throw ValidationError("--ssh-config \(sshConfig): no such readable file")
    }
    for option in sshOption {
      if let problem = SSHSettings.optionProblem(option) {
        throw ValidationError("--ssh-option \(option): \(problem)")
      }
    }
    guard (1...3600).contains(connectTimeout) else {
      throw ValidationError("--connect-timeout must be 1 to 3600 seconds, not \(connectTimeout)")
    }
  }

  /// `settings` with these options.
  func apply(to settings: inout SSHSettings) {
    settings.configFile = sshConfig
    settings.options = sshOption
    settings.connectTimeout = connectTimeout
  }
}
