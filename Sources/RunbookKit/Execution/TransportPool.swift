import Foundation

/// The transports of a run, one per host, made on first use and closed together.
final class TransportPool: Sendable {
  private let transports = Locked<[String: any Transport]>([:])
  private let context: TransportContext
  private let make: TransportRegistry.Maker

  init(context: TransportContext, make: @escaping TransportRegistry.Maker) {
    self.context = context
    self.make = make
  }

  /// The transport of `host`.
  func transport(for host: PlanHost) -> any Transport {
    transports.withLock { transports in
      if let existing = transports[host.name] { return existing }
      let made = make(host, context)
      transports[host.name] = made
      return made
    }
  }

  /// Closes every transport made so far, all at once, and waits for them.
  func closeAll(forget: Bool) async {
    let all = transports.withLock { transports in
      defer { transports = [:] }
      return Array(transports.values)
    }
    await withTaskGroup(of: Void.self) { group in
      for transport in all { group.addTask { await transport.close(forget: forget) } }
    }
  }
}
