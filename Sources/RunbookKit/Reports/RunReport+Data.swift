import Foundation

extension RunReport {
  /// `run.json`: the run for machines (schema version 1, documented in README
  /// "Reports"). Keys sorted, two-space indent.
  public func json() -> String {
    func record(_ r: StepRecord) -> Value {
      var m: [String: Value] = [
        "host": .string(r.host), "status": .string(r.status.rawValue),
        "attempts": .int(r.attempts), "startedAt": .string(r.startedAt),
        "endedAt": .string(r.endedAt), "durationMs": .int(r.durationMs),
        "script": .string(r.script), "outputBytes": .int(r.outputBytes),
        "outputSHA256": .string(r.outputSHA256), "outputTail": .string(r.outputTail),
        "outputTruncated": .bool(r.outputTruncated),
      ]
      m["reason"] = r.reason.map(Value.string) ?? .null
      m["exitCode"] = r.exitCode.map { .int(Int($0)) } ?? .null
      m["log"] = r.log.map(Value.string) ?? .null
      m["changed"] = r.changed.map(Value.bool) ?? .null
      m["diff"] = r.diff.map(Value.string) ?? .null
      m["mismatch"] = r.mismatch.map(Value.string) ?? .null
      m["captured"] = r.captured.map { .map($0.mapValues(Value.string)) } ?? .null
      return .map(m)
    }
    let steps: [Value] = runbook.steps.map { step in
      var m = step.summaryValue
      let records = results[step.index] ?? []
      m["results"] = .list(records.map(record))
      m["state"] = .string(records.isEmpty ? absence(of: step) : "ran")
      return .map(m)
    }
    var runValue: [String: Value] = [
      "id": .string(run.runID), "runbook": .string(run.runbook), "title": .string(run.title),
      "runbookSHA256": .string(run.runbookSHA256), "operator": .string(run.operator_),
      "toolVersion": .string(run.toolVersion), "startedAt": .string(run.startedAt),
      "hosts": .list(run.hosts.map(Value.string)), "dryRun": .bool(run.dryRun),
      "variables": .map(run.variables.mapValues(Value.string)),
    ]
    runValue["inventory"] = run.inventory.map(Value.string) ?? .null
    runValue["inventorySHA256"] = run.inventorySHA256.map(Value.string) ?? .null
    runValue["resumes"] = run.resumes.map(Value.string) ?? .null
    runValue["endedAt"] = end.map { .string($0.endedAt) } ?? .null
    let root: Value = .map([
      "schemaVersion": .int(1),
      "run": .map(runValue),
      "status": .string(status),
      "counts": .map(
        Dictionary(uniqueKeysWithValues: counts.map { ($0.status, Value.int($0.count)) })),
      "journalDigest": .string(digest),
      "steps": .list(steps),
    ])
    return root.json(indent: 2) + "\n"
  }

  /// `junit.xml`: one testcase per step and host (steps that did not run are skipped
  /// testcases), failures with the output tail, in the form Jenkins and GitLab read.
  public func junit() -> String {
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
        case .failed, .timeout, .interrupted:
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
    return """
      <?xml version="1.0" encoding="UTF-8"?>
      <testsuites name="runbook" \(attributes)>
        <testsuite name="\(Self.xml(run.title))" \(attributes) timestamp="\(Self.xml(run.startedAt))" hostname="\(Self.xml(run.operator_))">
      \(cases.joined(separator: "\n"))
        </testsuite>
      </testsuites>

      """
  }

  /// Text escaped for XML and HTML (content and attribute values); control characters
  /// other than tab and newline, which XML 1.0 cannot carry, are dropped.
  static func xml(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "&": out += "&amp;"
      case "<": out += "&lt;"
      case ">": out += "&gt;"
      case "\"": out += "&quot;"
      case "'": out += "&#39;"
      case "\t", "\n": out.unicodeScalars.append(scalar)
      default:
        if scalar.value < 0x20 || (0xFFFE...0xFFFF).contains(scalar.value) { continue }
        out.unicodeScalars.append(scalar)
      }
    }
    return out
  }
}
