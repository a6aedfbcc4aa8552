import Foundation
import Testing

/// `runbook init` on whole notes: the seed notes against the hand-made `Runbooks/ocata.md`,
/// and two English guides written for the test, with their teams' own words for roles.
@Suite struct InitTests {
  static let guides = "Tests/RunbookKitTests/Fixtures/guides/"

  /// The annotated blocks of a runbook: fence line, roles, body lines.
  struct Block {
    var line: Int
    var roles: Set<String>
    var body: [String]
  }

  static func blocks(_ text: String) -> [Block] {
    var found: [Block] = []
    var current: Block?
    for (i, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if current == nil, line.hasPrefix("```"), line.contains("{") {
        let role = line.range(of: #"role=[^\s}]+"#, options: .regularExpression).map {
          String(line[$0].dropFirst(5))
        }
        current = Block(
          line: i + 1, roles: Set((role ?? "").split(separator: ",").map(String.init)), body: [])
      } else if current != nil, line.hasPrefix("```") {
        found.append(current!)
        current = nil
      } else if current != nil {
        current!.body.append(line)
      }
    }
    return found
  }

  /// A command line with its variables, addresses, prompts and comments taken out.
  static func normalized(_ line: String) -> String {
    var text = line.replacingOccurrences(
      of: #"\{\{[^}]*\}\}"#, with: "X", options: .regularExpression)
    text = text.replacingOccurrences(
      of: #"(\d{1,3}\.){3}\d{1,3}"#, with: "X", options: .regularExpression)
    text = text.replacingOccurrences(
      of: #"^(\$|#|MariaDB \[[^\]]*\]>|mysql>)\s*"#, with: "", options: .regularExpression)
    text = text.replacingOccurrences(of: #"#.*$"#, with: "", options: .regularExpression)
    return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
  }

  /// Of the blocks of `made` that share a command line with a block of `reference`, how
  /// many there are and how many have the same roles.
  static func agreement(_ made: String, _ reference: String) -> (matched: Int, agree: Int) {
    var index: [String: [Block]] = [:]
    for block in blocks(reference) {
      for line in block.body where normalized(line).count > 8 {
        index[normalized(line), default: []].append(block)
      }
    }
    var matched = 0
    var agree = 0
    for block in blocks(made) {
      guard let candidates = block.body.lazy.map(normalized).compactMap({ index[$0] }).first
      else { continue }
      matched += 1
      if candidates.contains(where: { $0.roles == block.roles }) { agree += 1 }
    }
    return (matched, agree)
  }

  /// Literal addresses left inside blocks (loopback and 0.0.0.0 are the same everywhere).
  static func addressesLeft(_ text: String) -> Int {
    let pattern = try! NSRegularExpression(pattern: #"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d.])"#)
    return blocks(text).flatMap(\.body).map { line in
      pattern.matches(in: line, range: NSRange(line.startIndex..., in: line)).filter {
        let address = (line as NSString).substring(with: $0.range)
        return !address.hasPrefix("127.") && address != "0.0.0.0"
      }.count
    }.reduce(0, +)
  }

  /// Password literals left anywhere in the runbook (prose and comments too), in the forms
  /// init knows and those notes say them in ("密码为centos").
  static func passwordsLeft(_ text: String) -> [String] {
    let forms =
      #"IDENTIFIED BY '[^{]|://\w+:[^{@/\s]+@|^\s*(export\s+)?\w*(password|PASSWORD|_PASS)\s*=\s*[^{$\s]|--[a-z-]*password[ =][^-{\s]|(密码|口令)[^A-Za-z0-9{<]{0,4}[A-Za-z0-9]|add_user\s+\S+\s+[^{\s]|auth\s+\w+:[^{\s]|\s-p[^{\s]|PASSWORD['"]\s*[,:=>]+\s*'[^{]"#
    return text.split(separator: "\n").map(String.init).filter {
      $0.range(of: forms, options: .regularExpression) != nil
    }
  }

  func initialize(_ notes: String, _ extra: [String] = []) throws -> (
    result: CLI.Result, runbook: String, inventory: String?, dir: URL
  ) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-init-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let out = dir.appendingPathComponent("out.md").path
    let hosts = dir.appendingPathComponent("out.hosts").path
    let result = try CLI.run(
      ["init", Self.guides + notes, "-o", out, "--inventory-out", hosts] + extra)
    return (
      result, (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
      try? String(contentsOfFile: hosts, encoding: .utf8), dir
    )
  }

  @Test func theSeedNotesBecomeTheHandMadeRunbooksRolesWithNoLiteralLeft() throws {
    let (result, runbook, inventory, dir) = try initialize("ocata-install-notes.md")
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(result.status == 0, "\(result.stderr)")
    let reference = try String(
      contentsOf: CLI.packageRoot.appendingPathComponent("Runbooks/ocata.md"), encoding: .utf8)
    let (matched, agree) = Self.agreement(runbook, reference)
    #expect(matched >= 100, "\(matched) blocks found in Runbooks/ocata.md")
    #expect(Double(agree) >= 0.9 * Double(matched), "roles agree on \(agree) of \(matched)")
    #expect(Self.addressesLeft(runbook) == 0)
    #expect(Self.passwordsLeft(runbook) == [])
    #expect(
      inventory?.contains("[lb]\nlb1 ansible_host=172.20.6.60\nlb2 ansible_host=172.20.6.61\n")
        == true)
    // Once a person gives the TODO steps a role and the TODO settings a file, check accepts it.
    let decided = dir.appendingPathComponent("decided.md")
    try runbook.replacingOccurrences(of: "role=TODO", with: "role=controller")
      .replacingOccurrences(
        of: "file=TODO", with: "file=/etc/openstack-dashboard/local_settings"
      )
      .write(to: decided, atomically: true, encoding: .utf8)
    let check = try CLI.run([
      "check", decided.path, "-i", dir.appendingPathComponent("out.hosts").path,
    ])
    #expect(check.status == 0, "\(check.stderr)")
    // The report says what was done, also as JSON.
    #expect(result.stdout.contains("184 code blocks: 180 steps, 4 documentation"))
    let json = try CLI.run([
      "init", Self.guides + "ocata-install-notes.md", "-o", dir.appendingPathComponent("j.md").path,
      "--json",
    ])
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
    #expect(object?["steps"] as? Int == 180)
    #expect((object?["secrets"] as? [String])?.contains("keystone_db_password") == true)
  }

  @Test func aWebAndDatabaseGuideWithItsTeamsWords() throws {
    let words = [
      "--role-word", "web01=web", "--role-word", "db01=db", "--role-word", "nginx=web",
      "--role-word", "php=web", "--role-word", "mariadb=db",
    ]
    let (result, runbook, inventory, dir) = try initialize("wordpress-lemp.md", words)
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(result.status == 0, "\(result.stderr)")
    let reference = try String(
      contentsOf: CLI.packageRoot.appendingPathComponent(
        Self.guides + "wordpress-lemp.annotated.md"),
      encoding: .utf8)
    let (matched, agree) = Self.agreement(runbook, reference)
    #expect(matched >= 20)
    #expect(Double(agree) >= 0.8 * Double(matched), "roles agree on \(agree) of \(matched)")
    #expect(Self.addressesLeft(runbook) == 0)
    #expect(Self.passwordsLeft(runbook) == [])
    #expect(!runbook.contains("ChangeMe-2025!"))
    #expect(inventory == "[web]\nweb1 ansible_host=10.0.0.11\n\n[db]\ndb1 ansible_host=10.0.0.12\n")
  }

  @Test func anInventoryTheTeamHasSaysWhichNodeANameIs() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-init-inv-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let hosts = dir.appendingPathComponent("hosts").path
    try "[web]\nweb01 ansible_host=10.0.0.11\n[db]\ndb01 ansible_host=10.0.0.12\n".write(
      toFile: hosts, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("out.md").path
    let result = try CLI.run([
      "init", Self.guides + "wordpress-lemp.md", "-o", out, "-i", hosts, "--role-word", "nginx=web",
      "--role-word", "php=web",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let runbook = try String(contentsOfFile: out, encoding: .utf8)
    // "Open the MariaDB shell on db01": the grant runs on db, and names web01 by its role.
    #expect(runbook.contains("CREATE USER 'wpuser'@'{{ roles.web.address }}'"))
    #expect(runbook.contains("$ mariadb -h {{ roles.db.address }} -u wpuser"))
    let reference = try String(
      contentsOf: CLI.packageRoot.appendingPathComponent(
        Self.guides + "wordpress-lemp.annotated.md"),
      encoding: .utf8)
    let (matched, agree) = Self.agreement(runbook, reference)
    #expect(Double(agree) >= 0.8 * Double(matched), "roles agree on \(agree) of \(matched)")
    let check = try CLI.run(["check", out, "-i", hosts])
    #expect(check.stderr.contains("role 'TODO'"), "only the TODOs are left: \(check.stderr)")
  }

  @Test func aLoadBalancerAndBackendsGuide() throws {
    let words = [
      "--role-word", "application server=app", "--role-word", "app servers=app",
      "--role-word", "load balancer=lb",
    ]
    let (result, runbook, _, dir) = try initialize("haproxy-backends.md", words)
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(result.status == 0, "\(result.stderr)")
    #expect(
      Self.blocks(runbook).map { $0.roles.sorted().joined(separator: ",") } == [
        "app", "app", "app", "app", "lb", "lb", "lb", "lb", "lb", "app1",
      ])
    #expect(runbook.contains("stats auth admin:{{ admin_password }}"))
    #expect(runbook.contains("```ini {role=app file=/etc/systemd/system/app.service create}"))
    #expect(runbook.contains("bind {{ host.address }}:80"))
    #expect(Self.addressesLeft(runbook) == 0)
    #expect(result.stdout.contains("line 45: not a step"))
  }

  @Test func theNotesAreNeverOverwrittenAndOutputsAreNotReplacedWithoutForce() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent(
      "runbook-init-\(UUID().uuidString.prefix(8))")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let notes = dir.appendingPathComponent("n.md").path
    try "# On the web server\n```\ntrue\n```\n".write(
      toFile: notes, atomically: true, encoding: .utf8)
    #expect(try CLI.run(["init", notes, "-o", notes]).status == 2)
    #expect(try CLI.run(["init", notes]).status == 0)
    let again = try CLI.run(["init", notes])
    #expect(again.status == 2)
    #expect(again.stderr.contains("exists; pass --force to replace it"))
    #expect(
      try String(contentsOfFile: notes, encoding: .utf8) == "# On the web server\n```\ntrue\n```\n")
  }
}
