import ArgumentParser
import RunbookKit

/// `runbook check`: every problem of a runbook, its inventory and variables, at once.
struct Check: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Validate a runbook against an inventory; report all problems at once (exit 2).")

  @OptionGroup var options: RunbookOptions

  /// Taken so that an `exec` command line works here too (checked, not used: nothing connects).
  @OptionGroup var connection: ConnectionOptions

  func run() throws {
    let outcome = options.preflight.run()
    var diagnostics = outcome.diagnostics
    if let plan = outcome.plan, !outcome.diagnostics.hasErrors {
      diagnostics += OperabilityReview.review(plan).map { finding in
        var finding = finding
        if options.strict, finding.severity == .warning { finding.severity = .error }
        return finding
      }
    }
    try report(diagnostics)
    if let plan = outcome.plan {
      let hosts = plan.hosts.count
      for asked in plan.askedVariables {
        var stderr = StandardError()
        print(
          "\(options.runbook):\(asked.line): note: '\(asked.name)' is asked for when the run starts (Runme's promptEnv: \(asked.question ?? "")); pass --var \(asked.name)=VALUE to give it now",
          to: &stderr)
      }
      print(
        "\(options.runbook): \(plan.steps.count) steps on \(hosts) host\(hosts == 1 ? "" : "s"): ok"
      )
    }
  }
}
