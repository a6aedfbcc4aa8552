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

  /// Creates settings with a fresh private control directory, named after this process;
  /// the directories of runs that are gone (a killed tool leaves its own) are removed first.
  public static func makePrivate() throws -> SSHSettings {
    removeStaleControlDirectories()
    var template = Array("\(controlPrefix)\(getpid())-XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else {
      throw CocoaError(
        .fileWriteUnknown,
        userInfo: [NSLocalizedDescriptionKey: "cannot create a control directory in /tmp"])
    }
    return SSHSettings(controlDirectory: String(cString: made))
  }

  /// Where the control directories are: the prefix, then the pid of the run that made one.
  static let controlPrefix = "/tmp/runbook-ssh-"

  /// Removes the control directories of this user's runs whose process has ended (it holds
  /// only sockets of masters that ended with it). A directory whose pid is alive, is not
  /// ours, or is not named by a pid is left alone.
  static func removeStaleControlDirectories() {
    let parent = (controlPrefix as NSString).deletingLastPathComponent
    let prefix = (controlPrefix as NSString).lastPathComponent
    for name in (try? FileManager.default.contentsOfDirectory(atPath: parent)) ?? []
    where name.hasPrefix(prefix) {
      let rest = name.dropFirst(prefix.count)
      guard let dash = rest.firstIndex(of: "-"), let pid = Int32(rest[..<dash]), pid > 0,
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      let path = parent + "/" + name
      var info = stat()
      guard lstat(path, &info) == 0, info.st_uid == getuid(), info.st_mode & S_IFMT == S_IFDIR
      else { continue }
      try? FileManager.default.removeItem(atPath: path)
    }
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
