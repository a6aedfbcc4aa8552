import Foundation

/// Real sshd instances on loopback addresses, started and stopped by Scripts/test-hosts.
struct SSHHosts {
  let dir: URL
  let hosts: [(name: String, address: String, port: Int)]

  /// Starts one sshd per host; ports are chosen from a base so parallel runs do not meet.
  init(_ names: [String], base: Int) throws {
    dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-ssh-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    hosts = names.enumerated().map { i, name in (name, "127.0.0.\(21 + i)", base + i) }
    try Self.script(["up", dir.path] + hosts.map { "\($0.name)=\($0.address):\($0.port)" })
  }

  var sshConfig: String { dir.appendingPathComponent("ssh_config").path }

  func stop(_ name: String) throws { try Self.script(["stop", dir.path, name]) }
  func start(_ name: String) throws { try Self.script(["start", dir.path, name]) }

  func tearDown() {
    try? Self.script(["down", dir.path])
    try? FileManager.default.removeItem(at: dir)
  }

  /// An INI inventory of the hosts, each in the group `groups[name]`.
  func inventory(groups: [String: String]) -> String {
    var byGroup: [String: [String]] = [:]
    for host in hosts {
      byGroup[groups[host.name] ?? "ungrouped", default: []].append(
        "\(host.name) ansible_host=\(host.address) ansible_port=\(host.port)")
    }
    return byGroup.sorted { $0.key < $1.key }.map {
      "[\($0.key)]\n" + $0.value.joined(separator: "\n") + "\n"
    }
    .joined(separator: "\n")
  }

  @discardableResult
  static func script(_ arguments: [String]) throws -> Int32 {
    let process = Process()
    process.executableURL = CLI.packageRoot.appendingPathComponent("Scripts/test-hosts")
    process.arguments = arguments
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw CocoaError(
        .executableLoad, userInfo: [NSLocalizedDescriptionKey: "test-hosts \(arguments) failed"])
    }
    return process.terminationStatus
  }
}
