import Foundation
import Testing

@testable import RunbookKit

/// A runner that refuses to start anything: a test that runs no process records an issue
/// when one would start.
public struct NoProcesses: CommandRunning {
  /// A runner that starts nothing.
  public init() {}

  public func run(
    _ command: ProcessCommand, input: String, timeout: Duration?,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome {
    Issue.record("a process was started: \(command.executable)")
    return CommandOutcome(launchError: "no processes here")
  }

  public func session(
    _ command: ProcessCommand, input: SessionInput,
    stdout: @escaping @Sendable ([UInt8]) -> Void, stderr: @escaping @Sendable ([UInt8]) -> Void
  ) async -> CommandOutcome {
    Issue.record("a session was started: \(command.executable)")
    return CommandOutcome(launchError: "no processes here")
  }

  public func attached(_ command: ProcessCommand) async -> Int32 {
    Issue.record("a shell was started: \(command.executable)")
    return -1
  }
}
