import Foundation

/// What some tests need from the machine; a test that lacks it is skipped and says why.
enum TestEnvironment {
  /// A real sshd for the loopback hosts (`Scripts/test-hosts`).
  static let hasSSHD = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")
  /// Running as root (users, runuser, files owned by others).
  static let isRoot = getuid() == 0
}
