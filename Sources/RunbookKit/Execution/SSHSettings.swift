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
  /// The seconds a host has to start its session, unless `--connect-timeout` says otherwise.
  public static let defaultConnectTimeout = 30
  /// Seconds a host has to start its session: ssh's own connect timeout, and the wait for
  /// the session's shell to say it is ready.
  public var connectTimeout = defaultConnectTimeout
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

  /// Why `option` cannot be an ssh `-o` option (`Key=Value`, a key of letters), or nil.
  public static func optionProblem(_ option: String) -> String? {
    guard let equals = option.firstIndex(of: "="),
      !option[..<equals].isEmpty, option[..<equals].allSatisfy({ $0.isASCII && $0.isLetter })
    else { return "write it as Key=Value, like StrictHostKeyChecking=accept-new" }
    if option.contains(where: { $0.isNewline }) { return "it holds a line break" }
    return nil
  }

  /// Creates settings.
  public init(controlDirectory: String, configFile: String? = nil, options: [String] = []) {
    self.controlDirectory = controlDirectory
    self.configFile = configFile
    self.options = options
  }
}
