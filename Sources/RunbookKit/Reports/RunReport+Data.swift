import Foundation

extension RunReport {
  /// `run.json`: the run for machines (schema version 1, documented in README
  /// "Reports"). Keys sorted, two-space indent.
  public func json() -> String {
    var sink = StringSink()
    writeJSON(to: &sink)
    return sink.text
  }

  /// `signature` in run.json: `signed`, and for a signed run the principal it names, the
  /// key, the journal record and digest it covers, and how many records it does not.
  var signatureValue: Value {
    switch signature {
    case .unsigned: return .map(["signed": .bool(false)])
    case .unreadable(let why): return .map(["signed": .bool(false), "unreadable": .string(why)])
    case .signed(let seal):
      // "signed": a statement that names this journal's current state, by a key the files
      // name; whether that key is trusted is `verify --allowed-signers`'s to say.
      return .map([
        "signed": .bool(isSigned),
        "signatureValid": seal.valid.map(Value.bool) ?? .null,
        "signer": seal.statement.signer.map(Value.string) ?? .null,
        "keyType": seal.key.map { .string($0.type) } ?? .null,
        "fingerprint": seal.key.map { .string($0.fingerprint) } ?? .null,
        "journalDigest": .string(seal.statement.journalDigest),
        "journalRecord": seal.record.map(Value.int) ?? .null,
        "uncoveredRecords": .int(seal.uncovered),
      ])
    }
  }

  func writeJSON<Sink: ReportSink>(to out: inout Sink) {
    var runValue: [String: Value] = [
      "id": .string(run.runID), "runbook": .string(run.runbook), "title": .string(run.title),
      "runbookSHA256": .string(run.runbookSHA256), "operator": .string(run.operatorName),
      "toolVersion": .string(run.toolVersion), "startedAt": .string(run.startedAt),
      "hosts": .list(run.hosts.map(Value.string)), "dryRun": .bool(run.dryRun),
      "variables": .map(run.variables.mapValues(Value.string)),
    ]
    runValue["inventory"] = run.inventory.map(Value.string) ?? .null
    runValue["inventorySHA256"] = run.inventorySHA256.map(Value.string) ?? .null
    runValue["resumes"] = run.resumes.map(Value.string) ?? .null
    if let details = lastAttempt.hostDetails {
      runValue["hostDetails"] = .list(
        details.map { host in
          .map([
            "name": .string(host.name), "address": .string(host.address),
            "port": host.port.map(Value.int) ?? .null, "connection": .string(host.connection),
            "user": host.user.map(Value.string) ?? .null,
            "becomes": .list((host.becomes ?? []).map(Value.string)),
            "becomeMethod": host.becomeMethod.map(Value.string) ?? .null,
          ])
        })
    }
    runValue["endedAt"] = end.map { .string($0.endedAt) } ?? .null
    runValue["variables"] = .map(lastAttempt.variables.mapValues(Value.string))
    runValue["variableDefinitions"] = .map(
      (lastAttempt.variableDefinitions ?? [:]).mapValues(Value.string))
    let attemptsValue = Value.list(
      attempts.enumerated().map { i, a in
        let n = a.attempt ?? i + 1
        var item: [String: Value] = [
          "attempt": .int(n), "startedAt": .string(a.startedAt),
          "operator": .string(a.operatorName),
          "runbookSHA256": .string(a.runbookSHA256), "snapshot": .string(a.snapshotFile),
          "interactive": .bool(a.interactive == true),
        ]
        item["endedAt"] = attemptEnds[n].map { .string($0.endedAt) } ?? .null
        item["status"] = .string((attemptEnds[n]?.status ?? .incomplete).rawValue)
        return .map(item)
      })
    // Keys in sorted order, as Value.json writes them; the steps stream one by one.
    let head: [(String, Value)] = [
      ("attempts", attemptsValue),
      (
        "changes",
        .map(
          Dictionary(
            uniqueKeysWithValues: effectCounts.map { ($0.effect.rawValue, Value.int($0.count)) }))
      ),
      (
        "counts",
        .map(Dictionary(uniqueKeysWithValues: counts.map { ($0.status, Value.int($0.count)) }))
      ),
      (
        "deviationCounts",
        .map(
          Dictionary(deviations.map { ($0.kind, 1) }, uniquingKeysWith: +).mapValues(Value.int))
      ),
      (
        "deviations",
        .list(
          deviations.map { d in
            var entry: [String: Value] = [
              "kind": .string(d.kind), "step": .string(d.step),
              "host": d.host.map(Value.string) ?? .null, "attempt": .int(d.attempt),
              "diff": d.diff.map(Value.string) ?? .null,
            ]
            if let what = d.what { entry["what"] = .string(what) }
            return .map(entry)
          })
      ),
      ("journalDigest", .string(digest)),
      ("run", .map(runValue)),
      ("schemaVersion", .int(2)),
      ("signature", signatureValue),
      ("status", .string(status.rawValue)),
    ]
    out.write("{\n")
    for (key, value) in head {
      var text = "  "
      Value.writeJSONString(key, into: &text)
      text += ": "
      value.writeJSON(into: &text, indent: 2, level: 1)
      out.write(text + ",\n")
    }
    out.write("  \"steps\": [")
    for (i, step) in runbook.steps.enumerated() {
      var text = i == 0 ? "\n    " : ",\n    "
      writeStepJSON(step, into: &text)
      out.write(text)
    }
    out.write(runbook.steps.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
  }

  /// One step of run.json, keys sorted, with its results written field by field (a large
  /// run has tens of thousands of them).
  private func writeStepJSON(_ step: Step, into text: inout String) {
    let lists = ["results": results[step.index] ?? [], "history": earlierRecords(of: step)]
    var fields = step.summaryValue
    fields["state"] = .string(lists["results"]!.isEmpty ? absence(of: step).rawValue : "ran")
    let pad = "      "
    text += "{"
    var first = true
    for key in (Array(fields.keys) + Array(lists.keys)).sorted() {
      text += first ? "\n" + pad : ",\n" + pad
      first = false
      Value.writeJSONString(key, into: &text)
      text += ": "
      if let records = lists[key] {
        if records.isEmpty {
          text += "[]"
          continue
        }
        text += "["
        for (j, r) in records.enumerated() {
          text += j == 0 ? "\n" + pad + "  " : ",\n" + pad + "  "
          Self.writeRecordJSON(
            r, effect: Self.effect(of: r, step: step), into: &text, pad: pad + "  ")
        }
        text += "\n" + pad + "]"
      } else {
        fields[key]!.writeJSON(into: &text, indent: 2, level: 3)
      }
    }
    text += "\n    }"
  }

  /// What a step changed in its session, values masked as the journal keeps them (the
  /// sealed values are for `--resume` only).
  static func sessionValue(_ session: SessionRecord) -> Value {
    func variable(_ value: SessionValue) -> Value {
      var fields: [String: Value] = ["value": .string(value.text)]
      if let exported = value.exported { fields["exported"] = .bool(exported) }
      if let isNew = value.isNew { fields["new"] = .bool(isNew) }
      if let declaration = value.declaration { fields["declaration"] = .string(declaration) }
      return .map(fields)
    }
    var fields: [String: Value] = [:]
    if let user = session.whose { fields["user"] = .string(user) }
    if let cwd = session.cwd { fields["cwd"] = .string(cwd.text) }
    if let set = session.set { fields["set"] = .map(set.mapValues(variable)) }
    if let unset = session.unset { fields["unset"] = .list(unset.map(Value.string)) }
    if let functions = session.functions {
      fields["functions"] = .list(functions.keys.sorted().map(Value.string))
    }
    if let removed = session.removedFunctions {
      fields["removedFunctions"] = .list(removed.map(Value.string))
    }
    return .map(fields)
  }

  private static func writeRecordJSON(
    _ r: StepRecord, effect: Effect?, into text: inout String, pad: String
  ) {
    func string(_ value: String?) -> String {
      guard let value else { return "null" }
      var out = ""
      Value.writeJSONString(value, into: &out)
      return out
    }
    let captured =
      r.captured.map { Value.map($0.mapValues(Value.string)).json(indent: nil) } ?? "null"
    let pairs: [(String, String)] = [
      ("attempt", String(r.attempt ?? 1)), ("attempts", String(r.attempts)), ("captured", captured),
      ("changed", r.changed.map { $0 ? "true" : "false" } ?? "null"),
      ("deviation", string(r.deviation)), ("diff", string(r.diff)),
      ("effect", string(effect?.rawValue)),
      ("durationMs", String(r.durationMs)), ("endedAt", string(r.endedAt)),
      ("exitCode", r.exitCode.map { String($0) } ?? "null"), ("host", string(r.host)),
      ("log", string(r.log)), ("mismatch", string(r.mismatch)), ("note", string(r.note)),
      ("operatorAction", string(r.operatorAction?.rawValue)),
      ("outputBytes", String(r.outputBytes)),
      ("outputSHA256", string(r.outputSHA256)), ("outputTail", string(r.outputTail)),
      ("outputTruncated", r.outputTruncated ? "true" : "false"), ("reason", string(r.reason)),
      ("retry", r.retry.map { String($0) } ?? "null"), ("runbookScript", string(r.runbookScript)),
      ("script", string(r.script)),
      ("session", r.session.map { Self.sessionValue($0).json(indent: nil) } ?? "null"),
      ("startedAt", string(r.startedAt)),
      ("status", string(r.status.rawValue)),
      (
        "stderrLines",
        Value.list((r.stderrLines ?? []).map { .list($0.map(Value.int)) }).json(indent: nil)
      ),
    ]
    text += "{"
    for (i, (key, value)) in pairs.enumerated() {
      text += (i == 0 ? "\n" : ",\n") + pad + "  \"" + key + "\": " + value
    }
    text += "\n" + pad + "}"
  }

  /// `junit.xml`: one testcase per step and host (steps that did not run are skipped
  /// testcases), failures with the output tail, in the form Jenkins and GitLab read.
  public func junit() -> String {
    var sink = StringSink()
    writeJUnit(to: &sink)
    return sink.text
  }

  func writeJUnit<Sink: ReportSink>(to out: inout Sink) {
    var cases: [String] = []
    var failures = 0
    var skipped = 0
    var seconds = 0.0
    for step in runbook.steps {
      let classname = Self.xml(
        step.headingPath.isEmpty ? run.title : step.headingPath.joined(separator: " / "))
      let records = results[step.index] ?? []
      if records.isEmpty {
        skipped += 1
        cases.append(
          "    <testcase classname=\"\(classname)\" name=\"\(Self.xml(step.id))\" time=\"0\">\n      <skipped message=\"\(absence(of: step))\"/>\n    </testcase>"
        )
        continue
      }
      for r in records {
        let time = Double(r.durationMs) / 1000
        seconds += time
        var body = ""
        switch r.status {
        case .ok: break
        case .skipped, .pending:
          skipped += 1
          body = "      <skipped message=\"\(Self.xml(r.reason ?? r.status.rawValue))\"/>\n"
        case .failed, .timeout, .interrupted, .unknown:
          failures += 1
          let detail = [r.mismatch, r.outputTail].compactMap { $0 }.joined(separator: "\n")
          body =
            "      <failure message=\"\(Self.xml(r.reason ?? r.status.rawValue))\" type=\"\(r.status.rawValue)\">\(Self.xml(String(detail.suffix(16_384))))</failure>\n"
        }
        if !r.outputTail.isEmpty {
          body +=
            "      <system-out>\(Self.xml(String(r.outputTail.suffix(16_384))))</system-out>\n"
        }
        cases.append(
          "    <testcase classname=\"\(classname)\" name=\"\(Self.xml(step.id)) on \(Self.xml(r.host))\" time=\"\(String(format: "%.3f", time))\"\(body.isEmpty ? "/>" : ">\n" + body + "    </testcase>")"
        )
      }
    }
    let attributes =
      "tests=\"\(cases.count)\" failures=\"\(failures)\" errors=\"0\" skipped=\"\(skipped)\" time=\"\(String(format: "%.3f", seconds))\""
    out.write(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"runbook\" \(attributes)>\n")
    out.write(
      "  <testsuite name=\"\(Self.xml(run.title))\" \(attributes) timestamp=\"\(Self.xml(run.startedAt))\" hostname=\"\(Self.xml(run.operatorName))\">\n"
    )
    for testcase in cases { out.write(testcase + "\n") }
    out.write("  </testsuite>\n</testsuites>\n")
  }

  /// Text escaped for XML and HTML (content and attribute values); control characters
  /// other than tab and newline, which XML 1.0 cannot carry, are dropped.
  static func xml(_ text: String) -> String { Escape.xml(text) }
}
