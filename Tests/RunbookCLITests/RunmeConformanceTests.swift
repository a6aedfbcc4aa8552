import Foundation
import Testing

/// Runme's own end-to-end test scripts (Tests/RunbookKitTests/Fixtures/runme, vendored with
/// their licence), run through the built binary: each `runme run` becomes a `runbook exec`
/// of the same cells, from a directory other than the document's, and must print what
/// Runme prints and end as Runme ends. What cannot be translated is skipped with its reason.
@Suite(.serialized) struct RunmeConformanceTests {
  static let folder = CLI.packageRoot.appendingPathComponent(
    "Tests/RunbookKitTests/Fixtures/runme")

  static let scripts: [String] = {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { $0.hasSuffix(".txtar") }.sorted()
  }()

  /// A txtar archive: the script, then `-- NAME --` sections of files.
  struct Archive {
    var script: [String]
    var files: [(name: String, text: String)]

    init(_ text: String) {
      var script: [String] = []
      var files: [(String, String)] = []
      var current: (name: String, lines: [String])?
      for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
        if line.hasPrefix("-- "), line.hasSuffix(" --"), line.count > 6 {
          if let done = current { files.append((done.name, done.lines.joined(separator: "\n"))) }
          current = (String(line.dropFirst(3).dropLast(3)), [])
        } else if current != nil {
          current!.lines.append(line)
        } else {
          script.append(line)
        }
      }
      if let done = current { files.append((done.name, done.lines.joined(separator: "\n"))) }
      self.script = script
      self.files = files
    }
  }

  /// What a command of the script expects of the output.
  enum Expectation {
    case matches(String)
    case empty
    case equals(file: String)
  }

  /// One `exec runme run …` with its environment and expectations.
  struct Case {
    var line: Int
    var arguments: [String]
    var fails: Bool
    var environment: [String: String]
    var expectations: [Expectation] = []
    /// What the script did before it that concerns Runme's project rather than the
    /// document (`cd` into a folder of the project, `chmod` a file away).
    var projectSetup: String?
  }

  /// The words of a testscript line (single and double quotes).
  static func words(_ line: String) -> [String] {
    var words: [String] = []
    var word = ""
    var quote: Character?
    var started = false
    for c in line {
      if let open = quote {
        if c == open { quote = nil } else { word.append(c) }
      } else if c == "'" || c == "\"" {
        quote = c
        started = true
      } else if c == " " || c == "\t" {
        if started || !word.isEmpty { words.append(word) }
        word = ""
        started = false
      } else {
        word.append(c)
      }
    }
    if started || !word.isEmpty { words.append(word) }
    return words
  }

  /// The script's commands as cases; lines that are not `exec` (`cd`, comments) end the
  /// expectations of the command before them.
  static func cases(_ script: [String]) -> [Case] {
    var cases: [Case] = []
    var environment: [String: String] = [:]
    var projectSetup: String?
    for (i, raw) in script.enumerated() {
      let line = raw.trimmingCharacters(in: .whitespaces)
      if line.isEmpty || line.hasPrefix("#") { continue }
      var w = words(line)
      let negated = w.first == "!"
      if negated { w.removeFirst() }
      switch w.first {
      case "env":
        for assignment in w.dropFirst() {
          guard let equals = assignment.firstIndex(of: "=") else { continue }
          let name = String(assignment[..<equals])
          let value = String(assignment[assignment.index(after: equals)...])
            .replacingOccurrences(
              of: "$PATH", with: ProcessInfo.processInfo.environment["PATH"] ?? "")
          environment[name] = value
        }
      case "cd":
        projectSetup = "the script works from a folder of Runme's project (cd)"
      case "exec" where w.dropFirst().first == "chmod":
        projectSetup = "the script makes a file unreadable, which Runme's project leaves out"
      case "exec":
        cases.append(
          Case(
            line: i + 1, arguments: Array(w.dropFirst()), fails: negated,
            environment: environment, projectSetup: projectSetup))
      case "stdout" where !cases.isEmpty:
        let pattern = w.dropFirst().first ?? ""
        cases[cases.count - 1].expectations.append(
          negated && pattern == "." ? .empty : .matches(pattern))
      case "cmp" where !cases.isEmpty && w.count == 3 && w[1] == "stdout":
        cases[cases.count - 1].expectations.append(.equals(file: w[2]))
      default:
        break  // stderr: the words are Runme's own; cd, mkdir…: not used by run cases
      }
    }
    return cases
  }

  /// A cell as `runbook list --json` gives it.
  struct Cell {
    var id: String
    var file: String
    var tags: [String]
    var language: String
    var fence: String
    var body: String
  }

  /// `runme run`'s options, read.
  struct Request {
    var names: [String] = []
    var file: String?
    var index: Int?
    var all = false
    var tags: [String] = []
  }

  /// The request of `arguments` (after `runme`), or why it is not translated.
  static func request(_ arguments: [String]) -> (Request?, String?) {
    var a = arguments
    guard a.first == "runme" else { return (nil, "not a runme command (\(a.first ?? ""))") }
    a.removeFirst()
    if a.first == "beta" { a.removeFirst() }
    guard a.first == "run" else {
      return (nil, "'runme \(a.first ?? "")' prints Runme's own listing or format")
    }
    a.removeFirst()
    var request = Request()
    var i = 0
    while i < a.count {
      let word = a[i]
      let (flag, inline) =
        word.contains("=")
        ? (String(word.prefix { $0 != "=" }), String(word.drop { $0 != "=" }.dropFirst()))
        : (word, nil as String?)
      func value() -> String {
        if let inline { return inline }
        i += 1
        return i < a.count ? a[i] : ""
      }
      switch flag {
      case "--filename": request.file = value()
      case "--index": request.index = Int(value())
      case "--all": request.all = true
      case "--tag", "-t", "--category", "-c":
        request.tags += value().split(separator: ",").map(String.init)
      case "--allow-unnamed", "-y", "--skip-prompts": break
      case let other where other.hasPrefix("-"):
        return (nil, "Runme's \(other) concerns its runner, not the document")
      default: request.names.append(word)
      }
      i += 1
    }
    return (request, nil)
  }

  /// The outcome of one case: nil when it passed, else what differed (or, skipped, why).
  struct Outcome {
    var skipped: String?
    var failure: String?
  }

  static func run(_ c: Case, archive: Archive, root: URL) throws -> Outcome {
    if let setting = archive.files.first(where: {
      $0.name.hasSuffix("runme.yaml") || $0.name.hasSuffix(".env")
    }) {
      return Outcome(skipped: "Runme reads the project's \(setting.name)")
    }
    if let listing = try names(c, archive: archive, root: root) { return listing }
    let dir = root.appendingPathComponent("doc")
    let (parsed, unsupported) = request(c.arguments)
    guard let request = parsed else { return Outcome(skipped: unsupported) }
    let documents = archive.files.map(\.name).filter {
      $0.hasSuffix(".md") && !$0.contains("/") && (request.file == nil || $0 == request.file)
    }
    var cells: [Cell] = []
    for document in documents {
      let listed = try CLI.run(["list", "--json", document], in: dir)
      guard listed.status == 0,
        let json = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))
          as? [String: Any],
        let steps = json["steps"] as? [[String: Any]]
      else {
        return Outcome(failure: "runbook list \(document) failed: \(listed.stderr)")
      }
      let text = archive.files.first { $0.name == document }?.text ?? ""
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
      for step in steps {
        let first = (step["line"] as? Int ?? 1)
        let last = min((step["endLine"] as? Int ?? first), lines.count)
        cells.append(
          Cell(
            id: step["id"] as? String ?? "", file: document,
            tags: (step["tags"] as? [String]) ?? [], language: step["language"] as? String ?? "",
            fence: first >= 1 && first <= lines.count ? String(lines[first - 1]) : "",
            body: lines[min(first, last)..<last].joined(separator: "\n")))
      }
    }
    var chosen: [Cell]
    if let index = request.index {
      guard index < cells.count else { return Outcome(failure: "no cell \(index)") }
      chosen = [cells[index]]
    } else if !request.names.isEmpty {
      chosen = cells.filter { cell in
        request.names.contains { name in
          name.contains("*")
            ? cell.id.range(
              of: "^"
                + NSRegularExpression.escapedPattern(for: name)
                .replacingOccurrences(of: "\\*", with: ".*") + "$",
              options: .regularExpression) != nil
            : cell.id == name
        }
      }
      if chosen.isEmpty {
        return Outcome(
          skipped: "no cell is named \(request.names): Runme's CLI answers that itself")
      }
    } else {
      chosen = cells.filter { cell in
        request.tags.isEmpty || cell.tags.contains(where: request.tags.contains)
      }
    }
    if chosen.contains(where: { $0.body.contains("stty") }) {
      return Outcome(skipped: "a cell sets its terminal (stty): Runme runs it in one")
    }
    let interpreters = ["rb": "ruby", "ruby": "ruby", "js": "node", "python": "python3"]
    for cell in chosen {
      if let program = interpreters[cell.language], !CLI.installed(program) {
        return Outcome(skipped: "\(program) is not installed here")
      }
    }
    // Runme's expected output of cells the archive does not hold cannot be made.
    for case .equals(let file) in c.expectations {
      let text = archive.files.first { $0.name == file }?.text ?? ""
      for line in text.split(separator: "\n") where line.contains("Running task ") {
        let name =
          line.components(separatedBy: "Running task ").last?
          .trimmingCharacters(in: CharacterSet(charactersIn: ". ")) ?? ""
        if !cells.contains(where: { $0.id == name }) {
          return Outcome(
            skipped: "Runme's expected output runs '\(name)', a cell this archive does not hold")
        }
      }
    }
    // A cell runs in a terminal Runme makes (where standard error joins standard output)
    // unless it says interactive false.
    let terminal = chosen.contains {
      !$0.fence.contains("\"interactive\":\"false\"") && !$0.fence.contains("\"interactive\":false")
    }
    // Cells of one document run in one `runbook exec`, from the first to the last asked for.
    var stdout = ""
    var status: Int32 = 0
    for document in documents {
      let mine = chosen.filter { $0.file == document }
      guard let first = mine.first, let last = mine.last else { continue }
      let runDir = root.appendingPathComponent("runs/\(c.line)-\(document)")
      var arguments = [
        "exec", "../doc/\(document)", "--report-dir", runDir.path, "--from", first.id, "--to",
        last.id,
      ]
      if !request.tags.isEmpty { arguments += ["--tags", request.tags.joined(separator: ",")] }
      let result = try CLI.run(
        arguments, in: root.appendingPathComponent("elsewhere"), environment: c.environment)
      status = max(status, result.status)
      stdout += try Self.stdout(of: runDir, withErrors: terminal)
    }
    var problems: [String] = []
    if c.fails != (status != 0) {
      problems.append("exit \(status), Runme's \(c.fails ? "fails" : "passes")")
    }
    for expectation in c.expectations {
      switch expectation {
      case .empty where !stdout.isEmpty:
        problems.append("printed \(stdout.debugDescription), Runme prints nothing")
      case .matches(let pattern):
        let regex = try NSRegularExpression(pattern: pattern, options: .anchorsMatchLines)
        if regex.firstMatch(in: stdout, range: NSRange(stdout.startIndex..., in: stdout)) == nil {
          problems.append("printed \(stdout.debugDescription), Runme's matches /\(pattern)/")
        }
      case .equals(let file):
        // Runme's task banners (` ►  Running task…`) are its own; the cells' output is not.
        let expected = (archive.files.first { $0.name == file }?.text ?? "")
          .split(separator: "\n").filter { !$0.hasPrefix(" ► ") }.joined(separator: "\n")
        if stdout.trimmingCharacters(in: .newlines) != expected {
          problems.append(
            "printed \(stdout.debugDescription), Runme's \(expected.debugDescription)")
        }
      default:
        break
      }
    }
    return Outcome(failure: problems.isEmpty ? nil : problems.joined(separator: "; "))
  }

  /// `runme ls` compared by what is the document's: each cell's name (given, or made from
  /// its first command), its file, and whether a run of all includes it (Runme's `*`).
  /// Nil when the case is not a listing compared with a file.
  static func names(_ c: Case, archive: Archive, root: URL) throws -> Outcome? {
    var words = c.arguments
    guard words.first == "runme" else { return nil }
    words.removeFirst()
    if words.first == "beta" { words.removeFirst() }
    guard let verb = words.first, ["ls", "list"].contains(verb),
      case .equals(let file)? = c.expectations.first,
      let expected = archive.files.first(where: { $0.name == file })?.text,
      expected.hasPrefix("NAME\tFILE")
    else { return nil }
    if let setup = c.projectSetup { return Outcome(skipped: setup) }
    let options = words.dropFirst()
    guard options.allSatisfy({ $0.hasPrefix("--allow-unnamed") || $0 == "--json" }) else {
      return Outcome(skipped: "Runme's \(options.joined(separator: " ")) concerns its project")
    }
    let unnamed = options.contains { $0 == "--allow-unnamed" || $0 == "--allow-unnamed=true" }
    let table = expected.split(separator: "\n").dropFirst().map {
      $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
    }
    if let other = table.first(where: { $0.count > 1 && !$0[1].hasSuffix(".md") }) {
      return Outcome(skipped: "Runme lists \(other[1]), a file of its own format (Dagger)")
    }
    if let go = table.first(where: { $0.count > 2 && $0[2] == "package main" }) {
      return Outcome(
        skipped:
          "Runme lists the Go cell \(go[0]), which it compiles itself; here a Go block is documentation"
      )
    }
    let rows = table.map { "\($0[0]) \($0.count > 1 ? $0[1] : "")" }
    var ours: [String] = []
    let documents = archive.files.map(\.name).filter { $0.hasSuffix(".md") && !$0.contains("/") }
    for document in documents.sorted() {
      let listed = try CLI.run(
        ["list", "--json", document], in: root.appendingPathComponent("doc"))
      guard
        let json = try? JSONSerialization.jsonObject(with: Data(listed.stdout.utf8))
          as? [String: Any], let steps = json["steps"] as? [[String: Any]]
      else { return Outcome(failure: "runbook list \(document): \(listed.stderr)") }
      for step in steps {
        let attributes = step["attributes"] as? [String: Any] ?? [:]
        guard unnamed || attributes["name"] != nil else { continue }
        let included = attributes["excludeFromRunAll"] as? Bool != true
        ours.append("\(step["id"] as? String ?? "")\(included ? "*" : "") \(document)")
      }
    }
    return ours == rows
      ? Outcome() : Outcome(failure: "runbook lists \(ours), Runme \(rows)")
  }

  /// What the run's cells wrote on standard output, in order (run.json: each result's output
  /// without the lines standard error wrote, unless `withErrors`).
  static func stdout(of runDir: URL, withErrors: Bool) throws -> String {
    guard
      let data = FileManager.default.contents(
        atPath: runDir.appendingPathComponent("run.json").path),
      let json = try JSONSerialization.jsonObject(with: data) as? [String: Any],
      let steps = json["steps"] as? [[String: Any]]
    else { return "" }
    var out = ""
    for step in steps {
      for result in step["results"] as? [[String: Any]] ?? [] {
        let tail = result["outputTail"] as? String ?? ""
        var errors: Set<Int> = []
        for pair in result["stderrLines"] as? [[Int]] ?? [] where pair.count == 2 && !withErrors {
          errors.formUnion(pair[0]...pair[1])
        }
        let lines = tail.split(separator: "\n", omittingEmptySubsequences: false)
        for (i, line) in lines.enumerated() where !errors.contains(i + 1) {
          if i == lines.count - 1, line.isEmpty { continue }
          out += line + "\n"
        }
      }
    }
    return out
  }

  /// Every script's cases: each translated case must pass, and most of Runme's cases
  /// must be translated (a change that skips them all would otherwise pass).
  @Test func runmesScriptsRunAsRunmeRunsThem() throws {
    var report: [String] = []
    var passed = 0
    for name in Self.scripts {
      let archive = Archive(
        try String(contentsOf: Self.folder.appendingPathComponent(name), encoding: .utf8))
      let root = try CLI.scratch("runme-\(name.dropLast(6))")
      defer { try? FileManager.default.removeItem(at: root) }
      for file in archive.files {
        let url = root.appendingPathComponent("doc/" + file.name)
        try FileManager.default.createDirectory(
          at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try file.text.write(to: url, atomically: true, encoding: .utf8)
      }
      try FileManager.default.createDirectory(
        at: root.appendingPathComponent("elsewhere"), withIntermediateDirectories: true)
      for c in Self.cases(archive.script) {
        let outcome = try Self.run(c, archive: archive, root: root)
        let what = "\(name):\(c.line) runme \(c.arguments.dropFirst().joined(separator: " "))"
        if let why = outcome.skipped {
          report.append("skipped \(what): \(why)")
        } else if let failure = outcome.failure {
          Issue.record("\(what): \(failure)")
          report.append("FAILED  \(what)")
        } else {
          passed += 1
          report.append("passed  \(what)")
        }
      }
    }
    print(
      "Runme conformance: \(passed) of \(report.count) cases pass\n"
        + report.joined(separator: "\n"))
    #expect(passed >= 20, "only \(passed) of Runme's cases ran")
  }
}
