import Foundation

/// What some tests need from the machine; a test that lacks it is skipped and says why.
enum TestEnvironment {
  /// A real sshd for the loopback hosts (`Scripts/test-hosts`).
  static let hasSSHD = FileManager.default.isExecutableFile(atPath: "/usr/sbin/sshd")
  /// Running as root (users, runuser, files owned by others).
  static let isRoot = getuid() == 0
  /// ansible-playbook from the virtualenv `Scripts/setup --tests` makes.
  static let ansiblePlaybook = CLI.packageRoot.appendingPathComponent(
    ".build/ansible/bin/ansible-playbook"
  ).path
  static let hasAnsible = FileManager.default.isExecutableFile(atPath: ansiblePlaybook)
}
