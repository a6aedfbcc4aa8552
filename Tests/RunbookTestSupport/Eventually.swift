import Foundation

/// Waits for a fact another process or task makes true — a start record in the journal, a
/// pid file, a prompt on a terminal — by asking again every `interval` until `timeout`;
/// whether it came true. The one place tests wait: they wait for facts, never for time.
/// The timeout only ends a wait for a fact that never comes: it is long, for a loaded machine.
///
/// This one blocks its thread, for tests that drive processes synchronously; a test that
/// is async gets the overload below (a blocked thread of the cooperative pool would stop
/// the very tasks being waited for).
@_disfavoredOverload
public func eventually(
  timeout: Duration = .seconds(60), interval: Duration = .milliseconds(20),
  _ fact: () throws -> Bool
) rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while true {
    if try fact() { return true }
    if ContinuousClock.now >= deadline { return false }
    Thread.sleep(forTimeInterval: seconds(interval))
  }
}

/// `eventually` for a test that runs as a task: the wait suspends instead of blocking a
/// thread of the cooperative pool.
public func eventually(
  timeout: Duration = .seconds(60), interval: Duration = .milliseconds(20),
  _ fact: () async throws -> Bool
) async rethrows -> Bool {
  let deadline = ContinuousClock.now + timeout
  while true {
    if try await fact() { return true }
    if ContinuousClock.now >= deadline { return false }
    try? await Task.sleep(for: interval)
  }
}

private func seconds(_ duration: Duration) -> Double {
  Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
