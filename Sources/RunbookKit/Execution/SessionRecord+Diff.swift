extension SessionRecord {
  /// What differs between two runs' records of one step's change to its session, a line
  /// each, for `runbook diff`: the directory, each variable's and function's value (masked
  /// as the reports show them; sealed values differ from run to run and are not compared),
  /// whether it is exported, and names unset in one run only.
  static func differences(_ a: SessionRecord?, _ b: SessionRecord?) -> [String] {
    var lines: [String] = []
    func shown(_ value: SessionValue?, none: String) -> String {
      guard let value else { return none }
      let text = "'" + TerminalText.visible(value.declaration ?? value.text) + "'"
      return value.exported == true ? text + " (exported)" : text
    }
    if a?.cwd?.text != b?.cwd?.text {
      lines.append(
        "cwd: \(shown(a?.cwd, none: "(unchanged)")) → \(shown(b?.cwd, none: "(unchanged)"))")
    }
    let setA = a?.set ?? [:]
    let setB = b?.set ?? [:]
    let unsetA = Set(a?.unset ?? [])
    let unsetB = Set(b?.unset ?? [])
    func state(_ name: String, _ set: [String: SessionValue], _ unset: Set<String>) -> String {
      unset.contains(name) ? "(unset)" : shown(set[name], none: "(not set)")
    }
    for name in Set(setA.keys).union(setB.keys).union(unsetA).union(unsetB).sorted() {
      let left = state(name, setA, unsetA)
      let right = state(name, setB, unsetB)
      if left != right { lines.append("\(TerminalText.visible(name)): \(left) → \(right)") }
    }
    let functionsA = a?.functions ?? [:]
    let functionsB = b?.functions ?? [:]
    let removedA = Set(a?.removedFunctions ?? [])
    let removedB = Set(b?.removedFunctions ?? [])
    func function(_ name: String, _ set: [String: SessionValue], _ removed: Set<String>) -> String {
      removed.contains(name) ? "(removed)" : set[name] == nil ? "(not defined)" : "(defined)"
    }
    let names = Set(functionsA.keys).union(functionsB.keys).union(removedA).union(removedB)
    for name in names.sorted() {
      let left = function(name, functionsA, removedA)
      let right = function(name, functionsB, removedB)
      if left != right {
        lines.append("\(TerminalText.visible(name))(): \(left) → \(right)")
      } else if functionsA[name]?.text != functionsB[name]?.text {
        lines.append("\(TerminalText.visible(name))(): defined differently")
      }
    }
    return lines
  }
}
