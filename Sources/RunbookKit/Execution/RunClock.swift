import Foundation

/// The time a run sees and the waits it makes (`delay` between retries): injected, so the
/// executor's logic is tested without waiting.
public protocol RunClock: Sendable {
  /// Now.
  func now() -> Date
  /// Waits `duration`; throws when the task is cancelled.
  func sleep(for duration: Duration) async throws
}

/// The real clock.
public struct SystemRunClock: RunClock {
  /// Creates the clock.
  public init() {}

  public func now() -> Date { Date() }

  public func sleep(for duration: Duration) async throws { try await Task.sleep(for: duration) }
}
