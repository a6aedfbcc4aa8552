extension StepPlanner {
  /// What a step's references come to: for every occurrence a slot, fixed or pointing into
  /// a column of per-host outcomes.
  struct ResolvedReferences {
    /// By field, by occurrence.
    var slots: [[StepTexts.Slot]] = []
    /// By distinct host-varying name, each rendered host's outcome and value id.
    var columns: [[(outcome: VariableScope.Outcome, id: Int)]] = []
  }

  /// Resolves each distinct reference: once when it cannot vary by host, else per host.
  /// Reports each failure once per line.
  mutating func resolveReferences(
    in fields: [TemplateField], of step: Step, renderHosts: [Int]
  ) -> ResolvedReferences {
    var resolved = ResolvedReferences()
    var uniform: [String: VariableScope.Outcome] = [:]
    var columnOfName: [String: Int] = [:]
    var reported: Set<String> = []
    for field in fields {
      var fieldSlots: [StepTexts.Slot] = []
      for ref in field.template.references {
        let line = field.key == nil ? field.line + ref.lineOffset : field.line
        let name = ref.name
        var message: String?
        if inventory != nil, !renderHosts.isEmpty, scope.isHostVarying(ref) {
          let column: Int
          if let known = columnOfName[name] {
            column = known
          } else {
            column = resolved.columns.count
            columnOfName[name] = column
            resolved.columns.append(
              scope.column(ref, hosts: renderHosts, stepIndex: step.index, epoch: epoch))
          }
          fieldSlots.append(.column(column))
          message = failure(in: resolved.columns[column], renderHosts: renderHosts)
        } else {
          let outcome =
            uniform[name]
            ?? scope.resolve(
              ref,
              host: renderHosts.first.map { scope.allHosts[$0] } ?? VariableScope.localHostName,
              stepIndex: step.index)
          uniform[name] = outcome
          fieldSlots.append(.fixed(outcome))
          if case .failure(let text) = outcome { message = text }
        }
        if let message, reported.insert("\(line):\(message)").inserted {
          diagnostics.append(.error(file, line, message))
        }
      }
      resolved.slots.append(fieldSlots)
    }
    return resolved
  }

  /// The first failure in a column, naming the hosts it fails on unless it fails on all.
  private func failure(
    in column: [(outcome: VariableScope.Outcome, id: Int)], renderHosts: [Int]
  ) -> String? {
    var message: String?
    var failed: [String] = []
    for (position, cell) in column.enumerated() {
      if case .failure(let text) = cell.outcome {
        failed.append(scope.allHosts[renderHosts[position]])
        message = message ?? text
      }
    }
    guard let message, failed.count < renderHosts.count else { return message }
    return message + " (on " + failed.prefix(3).joined(separator: ", ")
      + (failed.count > 3 ? " and \(failed.count - 3) more" : "") + ")"
  }

  /// Which hosts of a step render the same: hosts with the same value ids in every column.
  struct HostGroups {
    /// For each host position, its group.
    var groupOfHost: [Int32]
    var groupCount = 1

    /// The ids of all columns fold into one integer (mixed radix: an id is below the number
    /// of hosts) unless that could overflow, when the list of ids is the key.
    init(columns: [[(outcome: VariableScope.Outcome, id: Int)]], hostCount: Int, radix: Int) {
      groupOfHost = [Int32](repeating: 0, count: hostCount)
      guard !columns.isEmpty else { return }
      let radix = max(radix, 1)
      var product = 1
      var fits = true
      for _ in columns.dropFirst() {
        let (next, overflow) = product.multipliedReportingOverflow(by: radix)
        product = next
        if overflow { fits = false }
      }
      var byKey: [Int: Int32] = [:]
      var byIDs: [[Int]: Int32] = [:]
      groupCount = 0
      for position in 0..<hostCount {
        let next = Int32(groupCount)
        let group: Int32
        if fits {
          var key = 0
          for column in columns { key = key * radix + column[position].id }
          group = byKey[key, default: next]
          byKey[key] = group
        } else {
          let ids = columns.map { $0[position].id }
          group = byIDs[ids, default: next]
          byIDs[ids] = group
        }
        if group == next { groupCount += 1 }
        groupOfHost[position] = group
      }
    }
  }
}
