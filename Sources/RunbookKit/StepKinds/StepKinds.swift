/// Every step kind's handler, in the order blocks are offered to them: the first that
/// claims a block gives its kind. A new kind adds its line here.
enum StepKinds {
  /// The handlers, most specific first.
  static let all: [any StepKindHandler] = [
    ManualStep(), AppendStep(), INIMergeStep(), FileStep(), BashStep(), ShellStep(),
    PythonREPLStep(), ProgramStep(), ConsoleStep(), SQLStep(),
  ]

  private static let byKind: [StepKind: any StepKindHandler] = Dictionary(
    uniqueKeysWithValues: all.map { ($0.kind, $0) })

  /// The handler of `kind`; nil for a kind this build does not know (an old journal's).
  static func handler(for kind: StepKind) -> (any StepKindHandler)? { byKind[kind] }

  /// The kind of a block, nil when no handler claims it.
  static func classify(_ block: BlockFacts) -> StepKind? {
    all.first { $0.claims(block) }?.kind
  }
}
