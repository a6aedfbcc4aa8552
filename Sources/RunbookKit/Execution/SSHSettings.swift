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
