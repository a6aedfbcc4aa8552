import Foundation

/// A value shared between tasks, read and written under a lock.
final class LockedBox<Value>: @unchecked Sendable {
  // Every access to `value` holds `lock`.
  private let lock = NSLock()
  private var value: Value
  init(_ value: Value) { self.value = value }
  func get() -> Value { lock.withLock { value } }
  func set(_ new: Value) { lock.withLock { value = new } }
}
