import Foundation

/// Everything a process writes to a pipe, readable while it runs: a test waits for a prompt
/// to appear (with `eventually`) before it answers.
public final class PipeReader: @unchecked Sendable {
  // Safe: `data` is touched only under `lock` (the handler runs on a dispatch queue).
  private let lock = NSLock()
  private var data = Data()
  private let handle: FileHandle

  /// Starts reading `handle` in the background.
  public init(_ handle: FileHandle) {
    self.handle = handle
    handle.readabilityHandler = { [weak self] readable in
      let chunk = readable.availableData
      guard let self, !chunk.isEmpty else { return }
      self.lock.withLock { self.data.append(chunk) }
    }
  }

  /// What was read so far, as UTF-8.
  public var text: String { lock.withLock { String(decoding: data, as: UTF8.self) } }

  /// Reads the rest once the writer has ended, and returns all of it.
  public func finish() -> String {
    handle.readabilityHandler = nil
    let rest = handle.readDataToEndOfFile()
    return lock.withLock {
      data.append(rest)
      return String(decoding: data, as: UTF8.self)
    }
  }
}
