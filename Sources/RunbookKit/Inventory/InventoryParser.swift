import Foundation

/// Reads Ansible inventories: INI and YAML, chosen by content as `ansible-inventory` does.
public enum InventoryParser {
  /// Reads the inventory file at `path`.
  public static func load(path: String) throws(DiagnosticsError) -> Inventory {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw DiagnosticsError([
        Diagnostic(.error, at: nil, "cannot read inventory '\(path)': no such file or not readable")
      ])
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DiagnosticsError([.error(path, 1, "inventory is not valid UTF-8 text")])
    }
    return try parse(text, file: path)
  }

  /// Parses inventory text. YAML when the file name ends in .yml/.yaml/.json or the text
  /// looks like YAML; INI otherwise.
  public static func parse(_ text: String, file: String) throws(DiagnosticsError) -> Inventory {
    let source = SourceText(text).text
    let lower = file.lowercased()
    let isYAML =
      lower.hasSuffix(".yml") || lower.hasSuffix(".yaml") || lower.hasSuffix(".json")
      || looksLikeYAML(source)
    var inventory = Inventory(source: file)
    let problems =
      isYAML
      ? InventoryYAMLReader.read(source, file: file, into: &inventory)
      : InventoryINIReader.read(source, file: file, into: &inventory)
    if problems.hasErrors { throw DiagnosticsError(problems) }
    inventory.reconcile()
    return inventory
  }

  /// A file whose first meaningful line is `---` or `name:` (and not `[section]`) is YAML.
  static func looksLikeYAML(_ text: String) -> Bool {
    for raw in text.split(separator: "\n") {
      let line = raw.trimmingWhitespace()
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      if line == "---" || line.hasPrefix("{") { return true }
      if line.hasPrefix("[") { return false }
      return line.hasSuffix(":") && !line.contains(" ") && !line.contains("=")
    }
    return false
  }
}

/// Ansible's INI inventory format, line by line, with the same rules as its `ini` plugin.
enum InventoryINIReader {
  static func read(_ text: String, file: String, into inventory: inout Inventory) -> [Diagnostic] {
    var reader = LineReader(file: file)
    for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = raw.trimmingWhitespace()
      if line.isEmpty || line.hasPrefix("#") || line.hasPrefix(";") { continue }
      reader.read(line, lineNumber: index + 1, into: &inventory)
    }
    return reader.finish()
  }

  /// The reader's place in the file: the section it is in, and groups named before their
  /// own section.
  private struct LineReader {
    let file: String
    var problems: [Diagnostic] = []
    var group = "ungrouped"
    /// The section's kind: `hosts`, `children`, `vars`, or `skip` after an unknown one.
    var state = "hosts"
    /// Groups named in [x:children] before their own section, with the line.
    var pendingChildren: [String: (line: Int, parents: [String])] = [:]
    /// Groups named in [x:vars] before their own section, with the line.
    var pendingVars: [String: Int] = [:]

    init(file: String) { self.file = file }

    mutating func read(_ line: String, lineNumber: Int, into inventory: inout Inventory) {
      if line.hasPrefix("[") {
        readSection(line, lineNumber: lineNumber, into: &inventory)
        return
      }
      switch state {
      case "hosts": readHosts(line, lineNumber: lineNumber, into: &inventory)
      case "vars":
        guard let eq = line.firstIndex(of: "=") else {
          error(lineNumber, "expected key=value in [\(group):vars], got '\(line)'")
          return
        }
        let key = line[..<eq].trimmingWhitespace()
        let value = line[line.index(after: eq)...].trimmingWhitespace()
        inventory.setVariable(key, typed(value), on: group)
      case "children":
        guard let child = parseGroupName(line) else {
          error(lineNumber, "expected a group name in [\(group):children], got '\(line)'")
          return
        }
        if inventory.groups[child] == nil {
          pendingChildren[child, default: (lineNumber, [])].parents.append(group)
        } else {
          do { try inventory.addChild(child, to: group) } catch {
            self.error(lineNumber, error.message)
          }
        }
      default:
        return
      }
    }

    private mutating func readSection(
      _ line: String, lineNumber: Int, into inventory: inout Inventory
    ) {
      guard let section = parseSection(line) else {
        error(
          lineNumber,
          "invalid section '\(line)'; write [group], [group:vars] or [group:children] with no spaces"
        )
        return
      }
      group = section.name
      state = section.kind ?? "hosts"
      guard ["hosts", "children", "vars"].contains(state) else {
        error(
          lineNumber,
          "section [\(group):\(state)] has unknown type '\(state)'; use :vars or :children")
        state = "skip"
        return
      }
      if inventory.groups[group] == nil {
        if state == "vars", pendingVars[group] == nil { pendingVars[group] = lineNumber }
        inventory.addGroup(group)
      }
      if state != "vars" {
        pendingVars[group] = nil
        if pendingChildren[group] != nil { addPendingChildren(group, into: &inventory) }
      }
    }

    private mutating func addPendingChildren(_ name: String, into inventory: inout Inventory) {
      guard let pending = pendingChildren.removeValue(forKey: name) else { return }
      for parent in pending.parents {
        try? inventory.addChild(name, to: parent)
        if pendingChildren[parent] != nil { addPendingChildren(parent, into: &inventory) }
      }
    }

    /// A host pattern and its `key=value` variables.
    private mutating func readHosts(
      _ line: String, lineNumber: Int, into inventory: inout Inventory
    ) {
      let tokens: [String]
      do {
        tokens = try ShellWords.split(line)
      } catch {
        self.error(lineNumber, "cannot read host line: \(error.message)")
        return
      }
      guard let pattern = tokens.first else { return }
      let expanded: (hosts: [String], port: Int?)
      do {
        expanded = try HostPattern.expand(pattern)
      } catch {
        self.error(lineNumber, error.message)
        return
      }
      var vars: [(key: String, value: Value)] = []
      for token in tokens.dropFirst() {
        guard let eq = token.firstIndex(of: "=") else {
          error(lineNumber, "expected key=value host variable, got '\(token)'")
          return
        }
        vars.append((String(token[..<eq]), typed(String(token[token.index(after: eq)...]))))
      }
      for host in expanded.hosts {
        inventory.addHost(host, group: group, port: expanded.port, line: lineNumber)
        for (key, value) in vars { inventory.setVariable(key, value, on: host) }
      }
    }

    /// The problems, with groups named in [x:vars] or [x:children] and never defined.
    func finish() -> [Diagnostic] {
      var problems = problems
      for (name, line) in pendingVars.sorted(by: { $0.value < $1.value }) {
        problems.append(
          .error(
            file, line,
            "section [\(name):vars] is for group '\(name)', which is never defined; add a [\(name)] section"
          ))
      }
      for (name, pending) in pendingChildren.sorted(by: { $0.value.line < $1.value.line }) {
        problems.append(
          .error(
            file, pending.line,
            "section [\(pending.parents.last!):children] includes group '\(name)', which is never defined; add a [\(name)] section"
          ))
      }
      return problems
    }

    private mutating func error(_ line: Int, _ message: String) {
      problems.append(.error(file, line, message))
    }
  }

  /// Ansible types INI values with Python's `literal_eval`; what it cannot read stays text.
  static func typed(_ text: String) -> Value {
    PythonLiteral.evaluate(text) ?? .string(text)
  }

  /// `[name]` or `[name:kind]`, optionally followed by a comment.
  static func parseSection(_ line: String) -> (name: String, kind: String?)? {
    guard let close = line.firstIndex(of: "]") else { return nil }
    let rest = line[line.index(after: close)...].trimmingWhitespace()
    guard rest.isEmpty || rest.hasPrefix("#") else { return nil }
    let inside = line[line.index(after: line.startIndex)..<close]
    let parts = inside.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
    let name = String(parts[0])
    guard !name.isEmpty, !name.contains(where: \.isWhitespace) else { return nil }
    if parts.count == 2 {
      let kind = String(parts[1])
      guard !kind.isEmpty, kind.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
        return nil
      }
      return (name, kind)
    }
    return (name, nil)
  }

  /// A group name line in a `:children` section, optionally followed by a comment.
  static func parseGroupName(_ line: String) -> String? {
    let name = line.prefix { !$0.isWhitespace && $0 != "#" }
    let rest = line.dropFirst(name.count).trimmingWhitespace()
    guard !name.isEmpty, !name.contains(":"), !name.contains("]"),
      rest.isEmpty || rest.hasPrefix("#")
    else { return nil }
    return String(name)
  }
}
