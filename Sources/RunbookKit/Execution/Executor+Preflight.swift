import Foundation

extension Executor {
  /// Checks every host the selected steps touch answers, all at once; opens the ssh
  /// masters the run then reuses. Problems point at the host's inventory line.
  public func checkConnectivity(hosts names: Set<String>) async -> [Diagnostic] {
    let hosts = plan.hosts.filter { names.contains($0.name) }
    return await checkEach(hosts) { host in
      let transport = preflightTransport(host)
      guard let why = await transport.checkConnection() else { return nil }
      let target = host.address + (host.port.map { ":\($0)" } ?? "")
      return (
        inventoryLocation(of: host),
        "host '\(host.name)' (\(target)) does not answer over \(transport.name): \(why)"
      )
    }
  }

  /// Checks that every host can run its `become` and `user=` steps as asked (runuser as
  /// root, sudo otherwise), all at once; each host that cannot is a problem at its
  /// inventory line (at the step without an inventory), naming a step that needs it.
  public func checkEscalation(selected: [[Int]?]) async -> [Diagnostic] {
    // Per host: the users its steps run as ("-" for root), and the first step that asks.
    var needs: [String: (users: [String], step: Step)] = [:]
    let becomes = Set(plan.hosts.filter(\.become).map(\.name))
    for (planned, positions) in zip(plan.steps, selected) {
      let a = planned.step.attributes
      // Only steps that change user are looked at (and only those with `user=` rendered).
      guard let positions, planned.step.kind != .manual,
        a.user != nil || a.become || !becomes.isEmpty
      else { continue }
      for position in positions {
        let name = planned.hosts[position]
        guard
          let user = Self.escalation(
            planned, position: position, hostBecomes: becomes.contains(name))
        else { continue }
        var entry = needs[name] ?? ([], planned.step)
        if !entry.users.contains(user) { entry.users.append(user) }
        needs[name] = entry
      }
    }
    let found = needs
    return await checkEach(plan.hosts.filter { found[$0.name] != nil }) { host in
      let (users, step) = found[host.name]!
      guard let why = await preflightTransport(host).checkEscalation(users: users) else {
        return nil
      }
      let location =
        plan.inventorySource == nil
        ? SourceLocation(file: plan.runbook.file, line: step.line) : inventoryLocation(of: host)
      let who = users.map { $0 == "-" ? "root" : $0 }.joined(separator: ", ")
      return (
        location,
        "host '\(host.name)' cannot run steps as \(who) (step \(step.id), line \(step.line), and any later): \(why)"
      )
    }
  }

  /// Runs `check` on each host, at most `forks` at once; its problems as errors, in line
  /// order.
  private func checkEach(
    _ hosts: [PlanHost],
    _ check: @escaping @Sendable (PlanHost) async -> (SourceLocation, String)?
  ) async -> [Diagnostic] {
    await withTaskGroup(of: Diagnostic?.self) { group in
      var results: [Diagnostic] = []
      var started = 0
      for host in hosts {
        if started >= max(options.forks, 1), let result = await group.next(), let result {
          results.append(result)
        }
        started += 1
        group.addTask {
          await check(host).map { Diagnostic(.error, at: $0.0, $0.1) }
        }
      }
      for await result in group { if let result { results.append(result) } }
      return results.sorted { ($0.location?.line ?? 0) < ($1.location?.line ?? 0) }
    }
  }

  /// Where a host is defined: its inventory line.
  private func inventoryLocation(of host: PlanHost) -> SourceLocation {
    SourceLocation(
      file: plan.inventorySource ?? plan.runbook.file,
      line: plan.inventory?.hosts[host.name]?.line ?? 1)
  }

  /// The user a step runs as on a host when it is not the connection's (`-` for root).
  static func escalation(_ planned: PlannedStep, position: Int, hostBecomes: Bool) -> String? {
    // A user that cannot be an argument is refused by the step itself, never passed on.
    if planned.step.attributes.user != nil {
      guard let user = planned.rendered(at: position).fields[.user],
        !user.contains("{{"), ArgumentValue.problem(user) == nil
      else { return nil }
      return user
    }
    return planned.step.attributes.become || hostBecomes ? "-" : nil
  }
}
