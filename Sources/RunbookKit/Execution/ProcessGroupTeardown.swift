import Foundation

/// How the tool stops a process group it started: TERM, up to `grace` for every process in
/// the group to end, then KILL for what is left. One value, used wherever a local command
/// or session is stopped, and awaited by whoever stops it.
struct ProcessGroupTeardown: Sendable {
  /// How long the group gets between TERM and KILL.
  var grace: Duration
  /// How often the group is looked at while it ends.
  var poll: Duration = .milliseconds(20)

  /// Stops the process group `group` (a group the tool made for a child it started); returns
  /// once the group is gone or KILL was sent. Runs to its end even when the caller is
  /// cancelled: the stop is what a cancellation asks for.
  func stop(_ group: pid_t) async {
    await Task { await terminate(group) }.value
  }

  private func terminate(_ group: pid_t) async {
    guard kill(-group, SIGTERM) == 0 else { return }
    let clock = ContinuousClock()
    let deadline = clock.now + grace
    while clock.now < deadline {
      if !Self.isRunning(group) { return }
      try? await Task.sleep(for: poll)
    }
    kill(-group, SIGKILL)
  }

  /// Whether a process of `group` still runs. The group's leader is reaped only once the
  /// caller has its status (swift-subprocess waits until then), so a group of zombies has
  /// ended; where there is no `/proc`, any member counts.
  static func isRunning(_ group: pid_t) -> Bool {
    guard kill(-group, 0) == 0 else { return false }
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else {
      return true
    }
    for entry in entries where entry.first?.isNumber == true {
      guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
        let close = stat.lastIndex(of: ")")
      else { continue }
      // After the command's name: state, parent, process group.
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      if fields.count > 2, fields[2] == "\(group)", fields[0] != "Z" { return true }
    }
    return false
  }
}
