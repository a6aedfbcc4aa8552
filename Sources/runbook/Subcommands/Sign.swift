import ArgumentParser
import Foundation
import RunbookKit

/// `runbook sign`: sign a finished run directory with an ssh key.
struct Sign: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Sign a run's journal with an ssh key (ssh-keygen -Y sign) and render its reports, which show the signature; verify --allowed-signers checks it."
  )

  @Argument(help: "The run directory.")
  var runDirectory: String

  @Option(
    name: [.short, .long],
    help: "A private key file, or a public key whose private key is in the ssh agent.")
  var key: String

  @Option(
    help:
      "The principal the signature names, as an allowed-signers file lists the key (default: the e-mail of the run's operator)."
  )
  var signer: String?

  func run() async throws {
    do {
      let lock = try RunDirectoryLock.acquire(runDirectory)
      defer { withExtendedLifetime(lock) {} }
      try await RunSignature.sign(directory: runDirectory, key: key, principal: signer)
      // The reports say who signed; the signature does not cover them, so they can follow.
      try await RunDirectory.writeReports(directory: runDirectory)
      print(
        "\(runDirectory): signed (\(RunSignature.fileName), \(RunSignature.signatureName)); reports rendered again"
      )
    } catch let error as ReportError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    } catch let error as RunDirectoryError {
      var stderr = StandardError()
      print("error: \(error)", to: &stderr)
      throw ExitStatus.invalid
    }
  }
}
