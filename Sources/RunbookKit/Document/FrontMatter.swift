import Yams

/// The YAML block at the top of a runbook: title, default variables, secrets and roles.
public struct FrontMatter: Sendable, Equatable {
  /// The runbook's title; the first heading stands in when there is none.
  public var title: String?
  /// Default values of variables, the lowest precedence of all.
  public var vars: [String: Value] = [:]
  /// The line each default variable is defined on, for diagnostics.
  public var varLines: [String: Int] = [:]
  /// Names of variables whose values are masked everywhere the run writes.
  public var secrets: [String] = []
  /// The roles the runbook expects, with a description each, in the order written.
  public var roles: [(name: String, description: String)] = []
  /// The line of the `roles:` key, for diagnostics about undeclared roles.
  public var rolesLine: Int?
  /// Environment variables every command step gets, in the order written (values may hold
  /// `{{ }}` references).
  public var env: [(name: String, value: String)] = []
  /// Keys runbook does not use (a blog's `author`, `date`, `tags`…), kept as written with
  /// their lines: guides from elsewhere carry them, and `--strict` refuses them.
  public var otherKeys: [(key: String, line: Int)] = []
  /// A Runme document's front matter (`runme:` present): `shell` (the shell of its `sh`
  /// blocks) and `cwd` (the directory its command steps run in) are read.
  public var runmeShell: String?
  public var runmeCwd: String?
  /// The document is Runme's: its front matter has `runme:`.
  public var isRunme = false
  /// A Runme document's `category`/`tag`: tags of every cell.
  public var runmeTags: [String] = []
  /// `session: isolated`: every step runs in a fresh shell, as if marked `isolated`.
  public var isolatedSteps = false

  /// Creates empty front matter.
  public init() {}

  public static func == (lhs: FrontMatter, rhs: FrontMatter) -> Bool {
    lhs.title == rhs.title && lhs.vars == rhs.vars && lhs.secrets == rhs.secrets
      && lhs.roles.map(\.name) == rhs.roles.map(\.name)
      && lhs.roles.map(\.description) == rhs.roles.map(\.description)
  }

  /// The keys runbook reads in front matter.
  public static let keys = ["title", "vars", "secrets", "roles", "env", "session"]

  /// The key runbook reads that `key` is one edit away from (`secret` for `secrets`), when
  /// there is one: a third-party key (`tags`, `date`) is further from all of them.
  static func nearMiss(_ key: String) -> String? {
    keys.first { NearestWord.editDistance(key, $0) <= 1 }
  }

  /// Parses the YAML text that starts at `firstLine` of `file`.
  /// Parses the YAML of a runbook's front matter; `runmeCells` says that the document has
  /// blocks with Runme's attributes, for which Runme's keys (`shell`, `cwd`, `category`)
  /// are read even without `runme:`.
  static func parse(_ yaml: String, file: String, firstLine: Int, runmeCells: Bool = false)
    -> (frontMatter: FrontMatter, diagnostics: [Diagnostic])
  {
    let root: Node?
    do {
      root = try composeYAML(yaml)
    } catch {
      let (line, message) = yamlProblem(error, firstLine: firstLine, text: yaml)
      return (FrontMatter(), [.error(file, line, "front matter: " + message)])
    }
    guard let root else { return (FrontMatter(), []) }
    var reader = FrontMatterReader(file: file, firstLine: firstLine, runmeCells: runmeCells)
    guard case .mapping(let mapping) = root else {
      reader.error(root, "front matter must be a mapping with keys title, vars, secrets, roles")
      return (reader.frontMatter, reader.diagnostics)
    }
    for (keyNode, value) in mapping { reader.read(keyNode, value) }
    reader.finish()
    return (reader.frontMatter, reader.diagnostics)
  }
}

/// Front matter read key by key, with the problems found, at their lines in the runbook.
private struct FrontMatterReader {
  let file: String
  /// The runbook's line of the YAML's first line.
  let firstLine: Int
  /// The document has cells with Runme's attributes (see `FrontMatter.parse`).
  var runmeCells = false
  var frontMatter = FrontMatter()
  var diagnostics: [Diagnostic] = []

  func line(_ node: Node) -> Int { firstLine + (node.mark?.line ?? 1) - 1 }

  mutating func error(_ node: Node, _ message: String) {
    diagnostics.append(.error(file, line(node), message))
  }

  mutating func read(_ keyNode: Node, _ value: Node) {
    let key = keyNode.string ?? ""
    switch key {
    case "title":
      guard case .scalar(let scalar) = value else {
        error(value, "'title' must be text")
        return
      }
      frontMatter.title = scalar.string
    case "vars": readVars(value)
    case "secrets": readSecrets(value)
    case "env": readEnv(value)
    case "session":
      guard case .scalar(let scalar) = value, ["isolated", "shared"].contains(scalar.string) else {
        error(value, "'session' must be 'isolated' (every step in a fresh shell) or 'shared'")
        return
      }
      frontMatter.isolatedSteps = scalar.string == "isolated"
    case "roles":
      frontMatter.rolesLine = line(keyNode)
      switch value {
      case .mapping(let roles):
        for (nameNode, description) in roles {
          frontMatter.roles.append((nameNode.string ?? "", description.string ?? ""))
        }
      case .sequence(let roles):
        for nameNode in roles { frontMatter.roles.append((nameNode.string ?? "", "")) }
      default:
        error(
          value, "'roles' must map each role to a description, like roles: {db: Database node}")
      }
    default:
      readOther(key, keyNode, value)
    }
  }

  private mutating func readVars(_ value: Node) {
    guard case .mapping(let vars) = value else {
      if case .scalar(let s) = value, s.string.isEmpty { return }
      error(value, "'vars' must be a mapping of variable names to values")
      return
    }
    for (nameNode, valueNode) in vars {
      let name = nameNode.string ?? ""
      if !Template.isIdentifier(name) {
        error(nameNode, "'\(name)' cannot be a variable name; use letters, digits and '_'")
        continue
      }
      frontMatter.vars[name] = Value(yaml: valueNode)
      frontMatter.varLines[name] = line(nameNode)
    }
  }

  private mutating func readSecrets(_ value: Node) {
    guard case .sequence(let names) = value else {
      error(value, "'secrets' must be a list of variable names, like secrets: [db_password]")
      return
    }
    for nameNode in names {
      guard let name = nameNode.string, Template.isIdentifier(name) else {
        error(nameNode, "a secret must be a variable name")
        continue
      }
      frontMatter.secrets.append(name)
    }
  }

  private mutating func readEnv(_ value: Node) {
    guard case .mapping(let entries) = value else {
      error(value, "'env' must map variable names to values, like env: {LANG: C}")
      return
    }
    for (nameNode, valueNode) in entries {
      let name = nameNode.string ?? ""
      guard Template.isIdentifier(name), case .scalar(let scalar) = valueNode else {
        error(nameNode, "env: '\(name)' must be a variable name with a text value")
        continue
      }
      frontMatter.env.append((name, scalar.string))
    }
  }

  /// A key runbook does not read: kept, except a Runme document's `shell` and `cwd`.
  private mutating func readOther(_ key: String, _ keyNode: Node, _ value: Node) {
    frontMatter.otherKeys.append((key, line(keyNode)))
    if case .scalar(let scalar) = value {
      switch key {
      case "shell": frontMatter.runmeShell = scalar.string
      case "cwd": frontMatter.runmeCwd = scalar.string
      case "category", "tag":
        frontMatter.runmeTags += scalar.string.split(separator: ",").map {
          $0.trimmingCharacters(in: .whitespaces)
        }.filter { !$0.isEmpty }
      default: break
      }
    }
    // A near miss of a key runbook uses is likely a typo that matters (`secret:` would
    // leave passwords unmasked): a warning of its own.
    if let near = FrontMatter.nearMiss(key) {
      diagnostics.append(
        .warning(
          file, line(keyNode),
          "front matter key '\(key)' is not runbook's and is ignored; did you mean '\(near)'?"))
    }
  }

  /// Drops `shell` and `cwd` outside a Runme document, and notes the keys kept unread.
  mutating func finish() {
    // In a Runme document, its `shell`, `cwd` and `category` are read, not ignored.
    // Only `runme:` says so: a document whose every runnable block runs must be one its
    // author wrote for Runme, not one whose front matter happens to have a `shell:`.
    frontMatter.isRunme = frontMatter.otherKeys.contains { $0.key == "runme" }
    // Runme's keys concern Runme's cells: read where the document has some.
    let runme = frontMatter.isRunme || runmeCells
    if !runme {
      frontMatter.runmeShell = nil
      frontMatter.runmeCwd = nil
      frontMatter.runmeTags = []
    }
    let read: Set<String> = ["runme", "shell", "cwd", "category", "tag", "skipPrompts"]
    let plain = frontMatter.otherKeys.filter {
      FrontMatter.nearMiss($0.key) == nil && !(runme && read.contains($0.key))
    }
    if let first = plain.first {
      let keys = FrontMatter.keys
      diagnostics.append(
        .note(
          file, first.line,
          "front matter key\(plain.count == 1 ? "" : "s") \(plain.map { "'\($0.key)'" }.joined(separator: ", ")) \(plain.count == 1 ? "is" : "are") not runbook's: kept and ignored (runbook reads \(keys.joined(separator: ", ")); --strict refuses other keys)"
        ))
    }
  }
}
