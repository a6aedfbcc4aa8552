import Foundation
import RunbookKit

/// Renders all reports of a generated run: a journal of `steps` × `hosts` records with
/// 1 KB of output each (its tail is in the journal; logs are never read).
func reportsBenchmark() async throws {
  let numbers = CommandLine.arguments.dropFirst(2).compactMap { Int($0) }
  let stepCount = numbers.first ?? 10_000
  let hostCount = numbers.dropFirst().first ?? 4
  let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
    "runbook-report-bench-\(getpid())"
  ).path
  try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
  defer { try? FileManager.default.removeItem(atPath: dir) }

  var markdown = "---\ntitle: Report benchmark\n---\n"
  for i in 0..<stepCount {
    if i % 25 == 0 { markdown += "## Section \(i / 25)\n\nSome prose.\n\n" }
    markdown += "```sh {role=web name=s\(i)}\necho step \(i)\n```\n\n![shot](s\(i).png)\n\n"
  }
  try markdown.write(toFile: dir + "/runbook.md", atomically: true, encoding: .utf8)
  let setupStart = ContinuousClock.now
  try await writeBenchmarkJournal(in: dir, stepCount: stepCount, hostCount: hostCount)
  let setupMS = (ContinuousClock.now - setupStart).seconds * 1000
  let journalMB =
    Double(
      (try FileManager.default.attributesOfItem(atPath: dir + "/journal.jsonl")[.size] as? Int) ?? 0
    ) / 1_048_576

  let before = peakResidentMB()
  let loadStart = ContinuousClock.now
  _ = try RunReport.load(directory: dir)
  let loadMS = (ContinuousClock.now - loadStart).seconds * 1000
  if CommandLine.arguments.contains("--each") {
    let report = try RunReport.load(directory: dir)
    for (name, render) in [
      ("html", report.html), ("md", report.markdown), ("json", report.json),
      ("junit", report.junit),
    ] as [(String, () -> String)] {
      let t = ContinuousClock.now
      _ = render()
      print(name, (ContinuousClock.now - t))
    }
  }
  let start = ContinuousClock.now
  try await RunDirectory.writeReports(directory: dir)
  let totalMS = (ContinuousClock.now - start).seconds * 1000
  print("runbook reports benchmark")
  print(
    String(
      format:
        "input: journal of %d steps × %d hosts, 1 KB output each (%.1f MB; written in %.0f ms)",
      stepCount, hostCount, journalMB, setupMS))
  print(String(format: "load journal alone  %8.1f ms", loadMS))
  for name in RunDirectory.reportFiles {
    let size =
      (try FileManager.default.attributesOfItem(atPath: dir + "/" + name)[.size] as? Int) ?? 0
    print(String(format: "%-19@ %8.1f MB", name as NSString, Double(size) / 1_048_576))
  }
  print(
    String(
      format: "runbook report: load + render all four (in parallel) %8.1f ms   (target < 2000)",
      totalMS))
  print(
    String(
      format: "peak RSS MB         %8.1f      (target < 300; %.1f before loading)",
      peakResidentMB(), before))
}

/// Writes the journal of the run the benchmark renders: a record per step and host, with
/// 1 KB of output each.
private func writeBenchmarkJournal(in dir: String, stepCount: Int, hostCount: Int) async throws {
  let output = String(repeating: String(repeating: "x", count: 63) + "\n", count: 16)  // 1 KB
  let hosts = (1...hostCount).map { "web\($0)" }
  let journal = try Journal(path: dir + "/journal.jsonl")
  try await journal.append(
    RunRecord(
      runID: "bench", runbook: "bench.md", title: "Report benchmark", runbookSHA256: "",
      inventory: nil, inventorySHA256: nil, operatorName: "bench@local",
      toolVersion: RunbookVersion.current,
      startedAt: "2026-01-01T00:00:00Z", variables: [:], stepCount: stepCount, hosts: hosts,
      dryRun: false, resumes: nil, selectedSteps: nil))
  for i in 0..<stepCount {
    for host in hosts {
      try await journal.append(
        StepRecord(
          step: "s\(i)", index: i, kind: .shell, line: 0, headingPath: ["Section \(i / 25)"],
          host: host,
          status: i % 997 == 0 ? .failed : .ok, reason: nil, exitCode: 0, attempts: 1,
          startedAt: "2026-01-01T00:00:00Z", endedAt: "2026-01-01T00:00:01Z", durationMs: 12,
          script: "echo step \(i)\n", contentSHA256: "", log: "logs/\(i)/\(host).log",
          outputBytes: 1024,
          outputSHA256: "", outputTail: output, outputTruncated: false))
    }
  }
  try await journal.append(
    RunEndRecord(status: .failed, endedAt: "2026-01-01T01:00:00Z", counts: [:]))
  await journal.close()
}
