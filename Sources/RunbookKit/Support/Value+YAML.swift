import Yams

extension Value {
  /// Converts a composed YAML node with YAML 1.1 typing (`yes` is true, `0755` is octal),
  /// which is how PyYAML, and so Ansible, reads the same file.
  init(yaml node: Node) {
    switch node {
    case .scalar(let scalar):
      switch node.resolvedType {
      case "null": self = .null
      case "bool": self = node.bool.map(Value.bool) ?? .string(scalar.string)
      case "int": self = node.int.map(Value.int) ?? .string(scalar.string)
      case "float": self = node.float.map(Value.double) ?? .string(scalar.string)
      default: self = .string(scalar.string)
      }
    case .sequence(let sequence):
      self = .list(sequence.map(Value.init(yaml:)))
    case .mapping(let mapping):
      var dict: [String: Value] = [:]
      for (key, value) in mapping {
        dict[key.string ?? Value(yaml: key).rendered] = Value(yaml: value)
      }
      self = .map(dict)
    case .alias:
      self = .null
    }
  }
}

/// The most values a YAML document may expand to. Aliases let a few lines stand for
/// billions of values (the "billion laughs"); no runbook or inventory needs more than this.
let yamlValueBudget = 200_000

/// YAML that expands past `yamlValueBudget` through its aliases.
struct YAMLTooLarge: Error {
  var line: Int
}

/// Composes YAML and refuses a document that expands past the budget, before anything
/// walks it whole.
func composeYAML(_ text: String) throws -> Node? {
  guard let root = try Yams.compose(yaml: text) else { return nil }
  var count = 0
  func walk(_ node: Node) -> Bool {
    count += 1
    if count > yamlValueBudget { return false }
    switch node {
    case .scalar, .alias: return true
    case .sequence(let items): return items.allSatisfy(walk)
    case .mapping(let pairs): return pairs.allSatisfy { walk($0.key) && walk($0.value) }
    }
  }
  guard walk(root) else { throw YAMLTooLarge(line: root.mark?.line ?? 1) }
  return root
}

/// Turns a Yams error into a line of the original file and a message.
func yamlProblem(_ error: Error, firstLine: Int, text: String? = nil) -> (
  line: Int, message: String
) {
  if let large = error as? YAMLTooLarge {
    return (
      firstLine + large.line - 1,
      "YAML expands to more than \(yamlValueBudget) values through its aliases (&anchor/*alias); write the values out"
    )
  }
  guard let yaml = error as? YamlError else { return (firstLine, "\(error)") }
  switch yaml {
  case .scanner(let context, let problem, let mark, _),
    .parser(let context, let problem, let mark, _),
    .composer(let context, let problem, let mark, _):
    let what = [context?.text, problem].compactMap { $0 }.filter { !$0.isEmpty }
    return (firstLine + mark.line - 1, "invalid YAML: " + what.joined(separator: " "))
  case .duplicatedKeysInMapping(let duplicates, let context):
    // Yams points at the mapping; the line to fix is the key's second occurrence.
    let line =
      text.flatMap { secondOccurrence(of: duplicates.first ?? "", in: $0, from: context.mark.line) }
      ?? context.mark.line
    return (
      firstLine + line - 1,
      "duplicate key \(duplicates.joined(separator: ", ")) in mapping; keep one"
    )
  default:
    return (firstLine, "invalid YAML: \(yaml)")
  }
}

/// The 1-based line, at or after `from`, where `key` starts a mapping entry the second time.
private func secondOccurrence(of key: String, in text: String, from: Int) -> Int? {
  // The same key at the same indentation: the same mapping, not a nested one.
  var indent: Int?
  for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
  where offset + 1 >= from {
    let entry = line.drop(while: { $0 == " " || $0 == "-" })
    let depth = line.count - entry.count
    for form in [key, "\"\(key)\"", "'\(key)'"] where entry.hasPrefix(form + ":") {
      if let indent, indent == depth { return offset + 1 }
      if indent == nil { indent = depth }
    }
  }
  return nil
}

extension Node {
  /// The resolved YAML type of a scalar: "null", "bool", "int", "float", "str", ….
  var resolvedType: String {
    let tag = self.tag.description
    return tag.split(separator: ":").last.map(String.init) ?? tag
  }
}
