import Foundation
import Testing

/// A step's identity is its heading and what it does, never its position (issue 25): an
/// operator who inserts a step and resumes gets the new step run and no other run twice.
@Suite struct StepIdentityTests {
  typealias Workspace = SSHIntegrationTests.Workspace

  static func runbook(dir: String, inserted: Bool) -> String {
    """
    # Postgres

    ## Access

    ```sh {role=local}
    echo first >> \(dir)/ran-first
    ```
    \(inserted ? "\n```sh {role=local}\necho inserted >> \(dir)/ran-inserted\n```\n" : "")
    ```text {role=local file=\(dir)/pg_hba.conf append}
    host all all 10.0.0.0/8 scram-sha-256
    ```

    ```sh {role=local}
    echo last >> \(dir)/ran-last
    ```
    """
  }

  @Test func insertingAStepBeforeAnUnnamedAppendRunsOnlyTheNewStep() throws {
    let ws = try Workspace()
    defer { try? FileManager.default.removeItem(at: ws.dir) }
    let dir = ws.dir.path
    try ws.write("pg.md", Self.runbook(dir: dir, inserted: false))
    let first = try CLI.run(["exec", "pg.md", "--report-dir", "run", "--quiet"], in: ws.dir)
    #expect(first.status == 0, "\(first.stderr)")
    let ids = Set(ws.steps("run").compactMap { $0["step"] as? String })

    try ws.write("pg.md", Self.runbook(dir: dir, inserted: true))
    let resumed = try CLI.run(["exec", "pg.md", "--resume", "run", "--quiet"], in: ws.dir)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(ws.read("ran-first") == "first\n")
    #expect(ws.read("ran-inserted") == "inserted\n")
    #expect(ws.read("ran-last") == "last\n")
    let hba = ws.read("pg_hba.conf") ?? ""
    #expect(hba.components(separatedBy: "host all all").count == 2, "\(hba)")
    // The steps that were there keep their ids; the new one has its own.
    let second = ws.steps("run").suffix(4)
    #expect(Set(second.compactMap { $0["step"] as? String }).isSuperset(of: ids))
    #expect(second.filter { $0["status"] as? String == "ok" }.count == 1)
    // Each step's result is its own: the append's is still the first attempt's, and the
    // inserted step's, from the second, carries no history of another step.
    let json = try #require(
      try JSONSerialization.jsonObject(with: Data((ws.read("run/run.json") ?? "").utf8))
        as? [String: Any])
    let steps = json["steps"] as? [[String: Any]] ?? []
    func result(_ id: String) -> [String: Any]? {
      (steps.first { ($0["id"] as? String) == id }?["results"] as? [[String: Any]])?.first
    }
    #expect(result("access-pg-hba-conf")?["attempt"] as? Int == 1)
    #expect(result("access-echo-inserted")?["attempt"] as? Int == 2)
    #expect(result("access-echo-inserted")?["history"] == nil)
  }
}
