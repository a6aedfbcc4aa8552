import Foundation

/// Runs `body` and returns what it returns; when the calling task is cancelled before
/// `body` ends, runs `onCancel` too (awaited, and not itself cancelled) while `body` goes
/// on, say reading what a stopped process still prints. Unlike
/// `withTaskCancellationHandler`, nothing is left running.
func withAwaitedCancellation<Result: Sendable>(
  _ body: @escaping @Sendable () async -> Result,
  onCancel: @escaping @Sendable () async -> Void
) async -> Result {
  let ended = Locked(false)
  let cancelled = Locked(false)
  return await withTaskCancellationHandler {
    await withTaskGroup(of: Result?.self) { tasks in
      tasks.addTask {
        let result = await body()
        ended.set(true)
        return result
      }
      tasks.addTask {
        // Wakes by cancellation only: the caller's, or the body's end below. A body that
        // ended because the caller was cancelled (something it awaits gave up at once)
        // still gets its onCancel.
        try? await Task.sleep(for: .seconds(365 * 24 * 3600))
        if !ended.get() || cancelled.get() { await Task { await onCancel() }.value }
        return nil
      }
      var result: Result?
      while let next = await tasks.next() {
        if let next {
          result = next
          tasks.cancelAll()
        }
      }
      // The body's task always returns its result: the loop ends only after it did.
      return result!
    }
  } onCancel: {
    cancelled.set(true)
  }
}
