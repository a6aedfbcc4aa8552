import ArgumentParser
import Foundation
import RunbookKit

/// `runbook sign`: sign a finished run directory with an ssh key.
struct Sign: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Sign a run directory's final journal digest with an ssh key (ssh-keygen -Y sign); verify --allowed-signers checks it."
  )

  @Argument(help: "The run directory.")
  var runDirectory: String

  @Option(
    name: [.short, .long],
    help: "A private key file, or a public key whose private key is in the ssh agent.")
  var key: String

  func run() async throws {
    do {
      let lock = try RunDirectoryLock.acquire(runDirectory)
      defer { withExtendedLifetime(lock) {} }
      try await RunSignature.sign(directory: runDirectory, key: key)
      print("\(runDirectory): signed (\(RunSignature.fileName), \(RunSignature.signatureName))")
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
