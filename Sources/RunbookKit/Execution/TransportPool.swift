import Foundation

/// The transports of a run, one per host, made on first use and closed together.
final class TransportPool: @unchecked Sendable {
  // `transports` is only touched under `lock`; the transports themselves are Sendable.
  private let lock = NSLock()
  private var transports: [String: any Transport] = [:]
  private let context: TransportContext
  private let make: TransportRegistry.Maker

  init(context: TransportContext, make: @escaping TransportRegistry.Maker) {
    self.context = context
    self.make = make
  }

  /// The transport of `host`.
  func transport(for host: PlanHost) -> any Transport {
    lock.withLock {
      if let existing = transports[host.name] { return existing }
      let made = make(host, context)
      transports[host.name] = made
      return made
    }
  }

  /// Closes every transport made so far, all at once, and waits for them.
  func closeAll(forget: Bool) async {
    let all = lock.withLock {
      defer { transports = [:] }
      return Array(transports.values)
    }
    await withTaskGroup(of: Void.self) { group in
      for transport in all { group.addTask { await transport.close(forget: forget) } }
    }
  }
}
