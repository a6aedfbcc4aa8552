import Foundation

extension Plan {
  /// The plan for a person: each step with its place, hosts and rendered text, masked.
  public func text() -> String {
    var out = "Plan: \(runbook.title) (\(runbook.file))"
    out += inventorySource.map { ", inventory \($0)" } ?? ", every role on this machine"
    out +=
      "\n\(steps.count) step\(steps.count == 1 ? "" : "s") on \(hosts.count) host\(hosts.count == 1 ? "" : "s")\n"
    if !missingSecrets.isEmpty {
      out += "secrets to supply at run time: \(missingSecrets.joined(separator: ", "))\n"
    }
    if !askedVariables.isEmpty {
      out += "values to supply at run time (--var NAME=VALUE, or asked by exec on a terminal):\n"
      for asked in askedVariables {
        out += "    \(asked.name) (line \(asked.line)): \(asked.question ?? "")\n"
      }
    }
    let sessionNotes = SessionNote.notes(of: self)
    for planned in steps {
      let step = planned.step
      out += "\n[\(step.index + 1)] \(step.id)  \(step.kind.rawValue)  line \(step.line)\n"
      if !step.headingPath.isEmpty {
        out += "    in: " + step.headingPath.joined(separator: " › ") + "\n"
      }
      let roles = step.attributes.roles.joined(separator: ", ")
      out +=
        "    on: " + (roles.isEmpty ? "(operator)" : roles) + " → "
        + (planned.hosts.isEmpty ? "no hosts" : planned.hosts.joined(separator: ", ")) + "\n"
      let a = step.attributes
      var options: [String] = []
      if let section = a.section { options.append("section=\(section)") }
      if let mode = a.mode { options.append("mode=\(mode)") }
      if let timeout = a.timeout { options.append("timeout=\(timeout.seconds)s") }
      if a.retries > 0 { options.append("retries=\(a.retries) delay=\(a.delay.seconds)s") }
      if let capture = a.capture { options.append("capture=\(capture)") }
      for (flag, on) in [
        ("append", a.append), ("become", a.become), ("allow-fail", a.allowFail),
        ("serial", a.serial), ("raw", a.raw), ("create", a.create), ("isolated", a.isolated),
      ] where on {
        options.append(flag)
      }
      if !a.tags.isEmpty { options.append("tags=" + a.tags.joined(separator: ",")) }
      if !options.isEmpty { out += "    with: " + options.joined(separator: " ") + "\n" }
      if let note = sessionNotes[step.index] {
        if !note.changes.isEmpty {
          out += "    session: changes " + note.changes.joined(separator: ", ") + "\n"
        }
        if !note.uses.isEmpty {
          out +=
            "    session: uses "
            + note.uses.map { "\($0.name) (set by \($0.step))" }.joined(separator: ", ") + "\n"
        }
        if !note.endsClients.isEmpty {
          out +=
            "    session: ends the client \(note.endsClients.joined(separator: ", ")) opened\n"
        }
        if let opener = note.client {
          out += "    session: types into the client \(opener) opened, kept open since\n"
        }
      }
      // Computed once: each computation renders every distinct text.
      let groups = planned.groups
      for (hosts, rendered) in groups {
        let r = rendered.map(masker.mask)
        if groups.count > 1 { out += "    for \(hosts.joined(separator: ", ")):\n" }
        for field in StepField.allCases {
          if let value = r.fields[field] { out += "    \(field.rawValue): \(value)\n" }
        }
        if !r.pending.isEmpty {
          out += "    captured at run time: \(r.pending.joined(separator: ", "))\n"
        }
        for line in r.body.split(separator: "\n", omittingEmptySubsequences: false).dropLast(
          r.body.hasSuffix("\n") ? 1 : 0)
        {
          out += "    | \(line)\n"
        }
      }
    }
    return out
  }

  /// The plan as JSON (schema version 1; see README "Machine-readable output").
  public func json() -> String {
    let hostsValue = Value.list(
      hosts.map { h in
        var m: [String: Value] = [
          "name": .string(h.name), "address": .string(h.address),
          "connection": .string(h.connection.rawValue), "become": .bool(h.become),
        ]
        m["port"] = h.port.map(Value.int) ?? .null
        m["user"] = h.user.map(Value.string) ?? .null
        return .map(m)
      })
    let sessionNotes = SessionNote.notes(of: self)
    let stepsValue = Value.list(
      steps.map { planned in
        var m = planned.step.summaryValue
        m["hosts"] = .list(planned.hosts.map(Value.string))
        if let note = sessionNotes[planned.step.index] {
          var session: [String: Value] = [
            "changes": .list(note.changes.map(Value.string)),
            "uses": .list(
              note.uses.map { .map(["name": .string($0.name), "setBy": .string($0.step)]) }),
          ]
          if let opener = note.client { session["client"] = .string(opener) }
          if !note.endsClients.isEmpty {
            session["endsClients"] = .list(note.endsClients.map(Value.string))
          }
          m["session"] = .map(session)
        }
        m["renderings"] = .list(
          planned.groups.map { hosts, rendered in
            let r = rendered.map(masker.mask)
            var item: [String: Value] = [
              "hosts": .list(hosts.map(Value.string)), "body": .string(r.body),
              "pending": .list(r.pending.map(Value.string)),
            ]
            for field in StepField.allCases {
              item[field.rawValue] = r.fields[field].map(Value.string) ?? .null
            }
            return .map(item)
          })
        return .map(m)
      })
    let root: Value = .map([
      "schemaVersion": .int(1),
      "runbook": .map(["file": .string(runbook.file), "title": .string(runbook.title)]),
      "inventory": inventorySource.map(Value.string) ?? .null,
      "hosts": hostsValue,
      "secrets": .list(secretNames.map(Value.string)),
      "missingSecrets": .list(missingSecrets.map(Value.string)),
      "askedVariables": .list(
        askedVariables.map {
          .map([
            "name": .string($0.name), "line": .int($0.line), "question": .string($0.question ?? ""),
          ])
        }),
      "steps": stepsValue,
    ])
    return root.json(indent: 2) + "\n"
  }
}

extension Step {
  /// The step's identity and attributes as a JSON-ready mapping (shared by list and plan).
  var summaryValue: [String: Value] {
    let a = attributes
    var attrs: [String: Value] = [:]
    let texts: [(String, String?)] = [
      ("name", a.name), ("file", a.file), ("mode", a.mode), ("owner", a.owner),
      ("section", a.section), ("capture", a.capture), ("creates", a.creates),
      ("unless", a.unless), ("expect", a.expect), ("user", a.user), ("client", a.client),
      ("cwd", a.cwd), ("env", a.env), ("interpreter", a.interpreter),
    ]
    for case (let key, let value?) in texts { attrs[key] = .string(value) }
    if let timeout = a.timeout { attrs["timeout"] = .double(timeout.seconds) }
    if a.retries > 0 {
      attrs["retries"] = .int(a.retries)
      attrs["delay"] = .double(a.delay.seconds)
    }
    for (key, on) in [
      ("append", a.append), ("become", a.become), ("allow-fail", a.allowFail),
      ("serial", a.serial), ("raw", a.raw), ("create", a.create), ("isolated", a.isolated),
      ("excludeFromRunAll", a.excludedFromRunAll),
    ] where on {
      attrs[key] = .bool(true)
    }
    return [
      "id": .string(id), "index": .int(index), "line": .int(line), "endLine": .int(endLine),
      "headingPath": .list(headingPath.map(Value.string)), "kind": .string(kind.rawValue),
      "language": .string(language), "roles": .list(attributes.roles.map(Value.string)),
      "tags": .list(attributes.tags.map(Value.string)), "attributes": .map(attrs),
      "screenshots": .list(
        screenshots.map {
          .map(["url": .string($0.url), "alt": .string($0.alt), "line": .int($0.line)])
        }),
    ]
  }
}

extension Duration {
  /// The duration in seconds, as a floating-point number.
  public var seconds: Double {
    let (s, attoseconds) = components
    return Double(s) + Double(attoseconds) / 1e18
  }

  /// `300s`, `2.5s`: whole seconds without a fraction.
  public var secondsText: String {
    let (s, attoseconds) = components
    return attoseconds == 0 ? "\(s)s" : "\(seconds)s"
  }
}

extension Runbook {
  /// `runbook list` for a person: one line per step.
  public func stepListText() -> String {
    var out = ""
    let idWidth = min(40, steps.map(\.id.count).max() ?? 0)
    for step in steps {
      let id = step.id.padding(toLength: max(idWidth, step.id.count), withPad: " ", startingAt: 0)
      let roles = step.attributes.roles.isEmpty ? "-" : step.attributes.roles.joined(separator: ",")
      out +=
        "\(file):\(step.line)  \(id)  \(step.kind.rawValue)  \(roles)  \(step.headingPath.joined(separator: " › "))\n"
    }
    return out
  }

  /// `runbook list --json`: schema version 1, one object per step.
  public func stepListJSON() -> String {
    let root: Value = .map([
      "schemaVersion": .int(1),
      "runbook": .map(["file": .string(file), "title": .string(title)]),
      "steps": .list(steps.map { .map($0.summaryValue) }),
    ])
    return root.json(indent: 2) + "\n"
  }
}
