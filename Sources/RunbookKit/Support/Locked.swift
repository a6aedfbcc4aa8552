import Foundation

/// A value shared between tasks and threads, reached only through its lock: the one lock
/// helper of the package (a Mutex that also builds where `Synchronization` is too new).
final class Locked<Value>: @unchecked Sendable {
  // Safe: `value` is private and every access holds `lock`.
  private let lock = NSLock()
  private var value: Value

  init(_ value: Value) { self.value = value }

  /// Reads or changes the value under the lock.
  func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
    try lock.withLock { try body(&value) }
  }

  /// The value now.
  func get() -> Value { withLock { $0 } }

  /// Replaces the value.
  func set(_ new: Value) { withLock { $0 = new } }
}
