import Yams

/// Ansible's YAML inventory format (`all: {hosts: …, children: …, vars: …}`), with the
/// rules of its `yaml` plugin.
enum InventoryYAMLReader {
  static func read(_ text: String, file: String, into inventory: inout Inventory) -> [Diagnostic] {
    var problems: [Diagnostic] = []
    let root: Node?
    do {
      root = try composeYAML(text)
    } catch {
      let (line, message) = yamlProblem(error, firstLine: 1, text: text)
      return [.error(file, line, message)]
    }
    guard let root else {
      return [.error(file, 1, "inventory is empty; define at least one group")]
    }
    guard case .mapping(let groups) = root else {
      return [.error(file, root.mark?.line ?? 1, "YAML inventory must be a mapping of group names")]
    }
    if groups.keys.contains(where: { $0.string == "plugin" }) {
      return [
        .error(
          file, 1,
          "this is an inventory plugin configuration, not a YAML inventory; give the inventory itself"
        )
      ]
    }
    for (name, data) in groups {
      readGroup(name, data, file: file, into: &inventory, problems: &problems)
    }
    return problems
  }

  @discardableResult
  private static func readGroup(
    _ nameNode: Node, _ data: Node, file: String, into inventory: inout Inventory,
    problems: inout [Diagnostic]
  ) -> String? {
    let name = nameNode.string ?? ""
    let line = nameNode.mark?.line ?? 1
    let mapping: Node.Mapping?
    switch data {
    case .mapping(let m): mapping = m
    case .scalar where data.resolvedType == "null": mapping = nil
    default:
      problems.append(.warning(file, line, "skipping '\(name)': a group must be a mapping"))
      return nil
    }
    inventory.addGroup(name)
    guard let mapping else { return name }

    for (keyNode, section) in mapping {
      let key = keyNode.string ?? ""
      let sectionLine = keyNode.mark?.line ?? line
      guard
        let entries = sectionEntries(
          section, key: key, group: name, line: sectionLine, file: file, problems: &problems)
      else { continue }
      switch key {
      case "vars":
        for (varName, value) in entries {
          inventory.setVariable(varName.string ?? "", Value(yaml: value), on: name)
        }
      case "children":
        for (childName, childData) in entries {
          guard
            let child = readGroup(
              childName, childData, file: file, into: &inventory, problems: &problems)
          else { continue }
          do {
            try inventory.addChild(child, to: name)
          } catch {
            problems.append(.error(file, childName.mark?.line ?? sectionLine, error.message))
          }
        }
      case "hosts":
        for (patternNode, varsNode) in entries {
          readHost(
            patternNode, varsNode, group: name, line: patternNode.mark?.line ?? sectionLine,
            file: file, into: &inventory, problems: &problems)
        }
      default:
        problems.append(
          .warning(
            file, sectionLine,
            "skipping unexpected key '\(key)' in group '\(name)'; only vars, children and hosts are valid"
          ))
      }
    }
    return name
  }

  /// The entries of a group's section: a mapping's pairs; a lone scalar under `vars`,
  /// `children` or `hosts` is a key without a value. `nil` (with a problem unless the
  /// section is empty) when there is nothing to read.
  private static func sectionEntries(
    _ section: Node, key: String, group: String, line: Int, file: String,
    problems: inout [Diagnostic]
  ) -> [(key: Node, value: Node)]? {
    switch section {
    case .mapping(let m): return m.map { (key: $0.key, value: $0.value) }
    case .scalar where section.resolvedType == "null": return nil
    case .scalar where ["vars", "children", "hosts"].contains(key):
      return [(key: section, value: Node.scalar(.init("", Tag(.null))))]
    default:
      if ["vars", "children", "hosts"].contains(key) {
        problems.append(.error(file, line, "'\(key)' of group '\(group)' must be a mapping"))
      } else {
        problems.append(
          .warning(file, line, "skipping '\(key)' in group '\(group)': not a mapping"))
      }
      return nil
    }
  }

  /// One entry of a group's `hosts`: a host pattern and its variables.
  private static func readHost(
    _ patternNode: Node, _ varsNode: Node, group: String, line hostLine: Int, file: String,
    into inventory: inout Inventory, problems: inout [Diagnostic]
  ) {
    guard patternNode.resolvedType == "str", let pattern = patternNode.string else {
      problems.append(
        .error(
          file, hostLine, "host pattern \(patternNode.string ?? "") must be a string; quote it"))
      return
    }
    let expanded: (hosts: [String], port: Int?)
    do {
      expanded = try HostPattern.expand(pattern)
    } catch {
      problems.append(.error(file, hostLine, error.message))
      return
    }
    var vars: [String: Value] = [:]
    switch varsNode {
    case .mapping:
      if case .map(let m) = Value(yaml: varsNode) { vars = m }
    case .scalar where varsNode.resolvedType == "null": break
    default:
      problems.append(
        .error(file, hostLine, "variables of host '\(pattern)' must be a mapping of name: value"))
      return
    }
    for host in expanded.hosts {
      inventory.addHost(host, group: group, port: expanded.port, line: hostLine)
      for (key, value) in vars { inventory.setVariable(key, value, on: host) }
    }
  }
}
