import Foundation

/// Runs blocking work (a terminal read, waiting for an operator's shell) on a thread of its
/// own, so it never holds one of the cooperative pool's few threads.
func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
  await withCheckedContinuation { continuation in
    Thread.detachNewThread { continuation.resume(returning: work()) }
  }
}
