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
  /// This process may mount a tmpfs (root, outside a sandbox that forbids mounts): tried
  /// once on an empty directory of its own, and unmounted at once.
  static let canMountTmpfs: Bool = {
    guard isRoot else { return false }
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-mount-probe-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    guard
      (try? CLI.program("/bin/mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", dir.path]))?.0 == 0
    else { return false }
    _ = try? CLI.program("/bin/umount", [dir.path])
    return true
  }()
}
