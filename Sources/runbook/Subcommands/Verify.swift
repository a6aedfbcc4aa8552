import ArgumentParser
import RunbookKit

/// `runbook verify`: check that nothing in a run directory changed after the run.
struct Verify: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Check a run directory against its journal's digest chain (exit 1 naming the first mismatch)."
  )

  @Argument(help: "The run directory.")
  var runDirectory: String

  @Option(
    help:
      "Also require the run's signature (runbook sign, exec --sign-key) by a key in this allowed-signers file (git's format)."
  )
  var allowedSigners: String?

  @Option(help: "The principal the signature must be by (default: the one the file names).")
  var signer: String?

  func run() async throws {
    var mismatches = RunDirectory.verify(directory: runDirectory)
    mismatches += await RunSignature.integrityProblems(directory: runDirectory)
    if let allowedSigners {
      mismatches += await RunSignature.verify(
        directory: runDirectory, allowedSigners: allowedSigners, signer: signer)
    }
    guard !mismatches.isEmpty else {
      let signed = allowedSigners == nil ? "" : ", signature valid"
      print(
        "\(runDirectory): intact (journal digest chain, runbook, logs and reports match\(signed))")
      return
    }
    var stderr = StandardError()
    for mismatch in mismatches { print("\(runDirectory)/\(mismatch)", to: &stderr) }
    throw ExitCode(1)
  }
}
